"""Notebooks as people usually have them: tens of cells, prose, short code, printed
lines, a plot or two, a table; built deterministically."""

from __future__ import annotations

import base64
import random

import nbformat
from nbformat import v4


def typical(count: int = 100, seed: int = 11) -> list[str]:
    """`count` nbformat-canonical notebook texts of 10 to 60 cells."""
    rng = random.Random(seed)
    texts = []
    for number in range(count):
        cells = []
        for i in range(rng.randint(10, 60)):
            if rng.random() < 0.4:
                cells.append(v4.new_markdown_cell(
                    f"## Step {i}\n\nWe look at *feature {i}* and its mean, é ü 😀.\n"
                    f"- point {rng.random():.3f}\n- point {rng.random():.3f}"))
                continue
            lines = [f"values = data['col{j}'].rolling({j + 2}).mean()"
                     for j in range(rng.randint(1, 12))]
            outputs = []
            if rng.random() < 0.5:
                outputs.append(v4.new_output("stream", name="stdout", text="".join(
                    f"{k}: {rng.random():.6f}\n" for k in range(rng.randint(1, 30)))))
            if rng.random() < 0.15:
                png = base64.b64encode(rng.randbytes(rng.randint(5_000, 40_000))).decode()
                outputs.append(v4.new_output(
                    "display_data", data={"image/png": png, "text/plain": "<Figure>"},
                    metadata={"image/png": {"width": 640, "height": 480}}))
            if rng.random() < 0.2:
                rows = "".join(f"<tr><td>{k}</td><td>{rng.random():.3f}</td></tr>"
                               for k in range(rng.randint(2, 10)))
                outputs.append(v4.new_output("execute_result", execution_count=i + 1, data={
                    "text/html": f"<table>{rows}</table>", "text/plain": "   a    b\n0  1  2"}))
            cells.append(v4.new_code_cell("\n".join(lines), execution_count=i + 1,
                                          outputs=outputs))
        nb = v4.new_notebook(cells=cells, metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python",
                           "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.7"}})
        text: str = nbformat.writes(nb)
        texts.append(text + "\n" if number % 2 else text)
    return texts
