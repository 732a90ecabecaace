"""The 83 MB / 4000-cell notebook of the design notes, built deterministically."""

from __future__ import annotations

import base64
import random

import nbformat
from nbformat import v4


def build(code_cells: int = 2000, markdown_cells: int = 2000, seed: int = 7) -> str:
    """nbformat-canonical text: markdown and code cells alternating; each code cell has
    50 lines of stream, a ~40 KB base64 PNG and an HTML execute_result."""
    rng = random.Random(seed)
    cells = []
    for i in range(max(code_cells, markdown_cells)):
        if i < markdown_cells:
            cells.append(v4.new_markdown_cell(
                f"## Section {i}\n\nSome *prose* about step {i}, with $x^{i % 7}$ and é ü 😀.",
                id=f"md-{i}"))
        if i < code_cells:
            png = base64.b64encode(rng.randbytes(30_000)).decode()
            outputs = [
                v4.new_output("stream", name="stdout",
                              text="".join(f"line {j} of cell {i}: {rng.random():.6f}\n"
                                           for j in range(50))),
                v4.new_output("display_data", data={"image/png": png,
                                                    "text/plain": "<Figure size 640x480>"},
                              metadata={"image/png": {"width": 640, "height": 480}}),
                v4.new_output("execute_result", execution_count=i + 1, data={
                    "text/html": f"<table><tr><td>{i}</td><td>{i * i}</td></tr></table>",
                    "text/plain": f"   a    b\n0  {i}  {i * i}"}),
            ]
            cells.append(v4.new_code_cell(
                f"import numpy as np\nx = np.arange({i})\nprint(x.sum())\nx",
                id=f"code-{i}", execution_count=i + 1, outputs=outputs))
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.7"}})
    return nbformat.writes(nb)


if __name__ == "__main__":
    import sys

    text = build()
    sys.stdout.write(text)
