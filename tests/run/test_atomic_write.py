"""write_atomically on real files: permissions, symbolic links, failures leave no trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.errors import BridgeError
from bridge.notebook.files import write_atomically


def test_replaces_content_and_keeps_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "nb.ipynb"
    target.write_text("old")
    target.chmod(0o640)
    write_atomically(target, b"new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["nb.ipynb"]


def test_a_symbolic_link_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.ipynb"
    real.write_text("old")
    link = tmp_path / "link.ipynb"
    link.symlink_to(real)
    write_atomically(link, b"new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "in-the-way"
    target.mkdir()
    (target / "keep").write_text("kept")
    with pytest.raises(BridgeError, match="cannot write"):
        write_atomically(target, b"data")
    assert (target / "keep").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in-the-way"]
    with pytest.raises(BridgeError, match="cannot write in"):
        write_atomically(tmp_path / "missing" / "nb.ipynb", b"data")
