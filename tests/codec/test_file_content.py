"""A large deserialize message's file, decoded from the message body straight to bytes."""

from __future__ import annotations

import base64
import json

import orjson

from bridge.notebook.file_content import _piece_end, split_file_content

from codec.helpers import deserialize_body

DESERIALIZE = "notebook/deserialize"

SOURCE = ("print(\"é😀 漢字 \\t\")\n" + "\\" * 70_000 + "\n\x1b[31mred\x1b[0m\n") * 30
# short members after the file, as a client may put them (an LSP partialResultToken)
AFTER = b',"partialResultToken":"p-1" , "note":"a\\"b\\\\"'
LONG_AFTER = AFTER + b',"long":"%b"' % (b"x" * (20 << 10))
TEXT = json.dumps({"cells": [{"cell_type": "code", "source": SOURCE, "metadata": {},
                              "outputs": [], "execution_count": None}],
                   "metadata": {}, "nbformat": 4, "nbformat_minor": 4,
                   "pad": ["漢😀\"\\/\r\n" * 300_000]}, ensure_ascii=False)


def test_text_in_pieces_is_the_text() -> None:
    """Escapes of every kind (also every character as \\uXXXX, with surrogate pairs),
    emoji, CJK and long runs of backslashes decode as the whole string would; also
    surrogate pairs among raw non-ASCII characters (decoded in smaller pieces)."""
    expected = TEXT.encode()
    assert len(expected) > 5 << 20
    for value in (orjson.dumps(TEXT), json.dumps(TEXT).encode(),
                  json.dumps(TEXT).replace("\\u00e9", "é").encode(),
                  orjson.dumps(TEXT).replace(b"/", b"\\/")):
        for after in (b"", AFTER):
            split = split_file_content(bytearray(deserialize_body(value, after=after)),
                                       DESERIALIZE)
            assert split is not None and split["params"]["content"] == expected
            assert split["params"].get("note") == (None if not after else 'a"b\\')


def test_a_piece_ends_only_where_the_string_can_be_cut() -> None:
    """Asked to end anywhere, a piece ends where both halves decode on their own to the
    whole: at an escape's start, not inside a run of backslashes, not between the two
    halves of a surrogate pair, not inside a character."""
    value = 'padding "q" \\\\\\ 😀😀 é\t\n/漢 \\😀 \\\\ud83d \u0001 end'
    for inner in (orjson.dumps(value)[1:-1], json.dumps(value)[1:-1].encode(),
                  json.dumps(value).replace("\\u00e9", "é")[1:-1].encode(),
                  orjson.dumps(value)[1:-1].replace(b"/", b"\\/")):
        cuts = set()
        for position in range(8, len(inner) + 1):
            cut = _piece_end(inner, position, len(inner))
            assert cut >= position
            cuts.add(cut)
            halves = (orjson.loads(b'"%b"' % inner[:cut]), orjson.loads(b'"%b"' % inner[cut:]))
            assert "".join(halves) == value, (inner, position, cut)
        assert len(cuts) >= 8  # a cut before each escape that starts a run


def test_base64_is_the_file() -> None:
    for extra in (b"", b"a", b"ab"):  # with and without padding at the end
        raw = TEXT.encode() + extra
        for after in (b"", AFTER, LONG_AFTER):
            body = deserialize_body(b'"%b"' % base64.b64encode(raw), b"contentBase64", after)
            split = split_file_content(body, DESERIALIZE)
            assert split is not None and split["params"]["contentBase64"] == raw
            assert split["params"].get("partialResultToken") == ("p-1" if after else None)


def test_anything_else_is_left_to_the_general_parse() -> None:
    text = orjson.dumps(TEXT)
    encoded = base64.b64encode(TEXT.encode())
    bodies = [
        deserialize_body(text, after=LONG_AFTER),
        deserialize_body(text, method=b"notebook/serialize"),
        deserialize_body(text[:-5000] + b"\n" + text[-5000:]),  # a raw newline: not JSON
        deserialize_body(text[:-5000] + b'"' + text[-5000:]),
        # an escape: a JSON string, but not base64 until unescaped
        deserialize_body(b'"%b\\u0041%b"' % (encoded[:1000], encoded[1001:]),
                         b"contentBase64"),
        # padding inside the string: no base64 decoder would take it whole
        deserialize_body(b'"%b"' % (encoded[:3 << 20] + b"QQ==" + encoded[3 << 20:]),
                         b"contentBase64"),
    ]
    for body in bodies:
        assert split_file_content(body, DESERIALIZE) is None
