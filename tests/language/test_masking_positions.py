"""IPython syntax masked line for line, and positions in every negotiated encoding."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.language.masking import mask_cell
from bridge.language.percent import cell_at_line, split_cells

from .helpers import NOTEBOOK_CAPABILITIES, Notebook, item, labels, utf16_len
from bridge_client import BridgeClient


@pytest.mark.parametrize(("source", "masked"), [
    ("%matplotlib inline\nx = 1", "pass              \nx = 1"),
    ("!ls -la", "pass   "),
    ("for f in files:\n    !echo $f", "for f in files:\n    pass    "),
    ("%time total = compute()", "_=    total = compute()"),
    ("files = !ls", "files = None"),
    ("listing = %sx ls", "listing = None  "),
    ("df.head?", "df.head "),
    ("??len", "  len"),
    ("%%time\nvalue = 1", "\nvalue = 1"),
    ("%%bash\necho hi\nls", "\n\n"),
    ('text = """\n%not a magic\n"""', 'text = """\n%not a magic\n"""'),
    ("ratio = a % b\nprint('%d' % 3)", "ratio = a % b\nprint('%d' % 3)"),
])
def test_masking_keeps_lines_and_columns(source: str, masked: str) -> None:
    assert mask_cell(source) == masked
    assert mask_cell(source).count("\n") == source.count("\n")


def test_percent_cells() -> None:
    text = "import os\n# %%\nx = 1\n\n# %% [markdown]\n# Title\n#%% second\ny = 2\n"
    cells = split_cells(text)
    assert [(c.start, c.end, c.is_code, c.code) for c in cells] == [
        (0, 1, True, "import os"), (2, 4, True, "x = 1"), (5, 6, False, "# Title"),
        (7, 9, True, "y = 2")]
    assert cells[3].title == "second"
    assert cell_at_line(cells, 1) is cells[1]  # a marker line opens its cell
    assert cell_at_line(cells, 8) is cells[3]


@pytest.fixture
async def client() -> AsyncIterator[BridgeClient]:
    bridge = await BridgeClient.start()
    await bridge.initialize(**NOTEBOOK_CAPABILITIES)
    yield bridge
    await bridge.shutdown()


async def test_magics_do_not_break_analysis(client: BridgeClient, tmp_path: Path) -> None:
    notebook = Notebook(client, tmp_path / "magics.ipynb", [
        "%matplotlib inline\n!pip list\nimport os\nresult_table = {}\nresult_table?",
        "%%bash\necho $HOME\nls -la",
        "%%time\nsquared_total = 4",
        "%time resu",
        "squ",
    ])
    timed = await notebook.complete_at_end(3)
    entry = item(timed, "result_table")
    # the edit lands after `%time `, where the user typed
    assert entry["textEdit"]["range"]["start"] == {"line": 0, "character": 6}
    assert "squared_total" in labels(await notebook.complete_at_end(4))


async def test_utf16_positions_after_emoji_and_cjk(client: BridgeClient,
                                                   tmp_path: Path) -> None:
    line = 'label = "😀 数据 e\u0301"; label.upper(); label.upp'  # e + combining accent
    notebook = Notebook(client, tmp_path / "emoji.ipynb", ["x = 1", line])
    completions = await notebook.complete(1, 0, utf16_len(line))
    upper = item(completions, "upper")
    start = utf16_len(line) - 3
    assert upper["textEdit"]["range"] == {"start": {"line": 0, "character": start},
                                          "end": {"line": 0, "character": start + 3}}
    method = utf16_len(line[:line.index("upper")])
    hover = await client.request("textDocument/hover", {
        "textDocument": {"uri": notebook.cell_uris[1]},
        "position": {"line": 0, "character": method + 2}})
    assert "upper(" in hover["contents"]["value"]
    assert hover["range"] == {"start": {"line": 0, "character": method},
                              "end": {"line": 0, "character": method + 5}}


@pytest.mark.parametrize(("encoding", "width"), [
    ("utf-8", lambda text: len(text.encode("utf-8"))),
    ("utf-32", len),
])
async def test_negotiated_position_encodings(tmp_path: Path, encoding: str,
                                             width: object) -> None:
    assert callable(width)
    bridge = await BridgeClient.start()
    try:
        result = await bridge.initialize(general={"positionEncodings": [encoding, "utf-16"]},
                                         **NOTEBOOK_CAPABILITIES)
        assert result["capabilities"]["positionEncoding"] == encoding
        line = 'word = "😀 数据"; word.upp'
        notebook = Notebook(bridge, tmp_path / "enc.ipynb", [line])
        completions = await notebook.complete(0, 0, width(line))
        upper = item(completions, "upper")
        assert upper["textEdit"]["range"]["start"] == {"line": 0,
                                                       "character": width(line) - 3}
    finally:
        await bridge.shutdown()


def test_call_and_parameter_splitting_for_kernel_signatures() -> None:
    from bridge.language.signature import open_call, split_parameters

    code = "frame.merge(other, on=['a', 'b'], how='in"
    assert open_call(code, len(code)) == (code.index("("), 2)
    assert open_call("f(x)", 4) is None  # the call is closed
    assert open_call("values[1, ", 10) is None  # a subscript, not a call
    late = "s = 'unclosed\nf(a, '(', "
    assert open_call(late, len(late)) == (late.index("f(") + 1, 2)  # strings hold no calls
    assert split_parameters("merge(right, on: 'str | list' = None, *, how=('a', 'b')) -> X") \
        == ["right", "on: 'str | list' = None", "*", "how=('a', 'b')"]
