"""`nbbridge run` on notebooks with Jupyter widgets: fresh metadata.widgets for the models
the run made, and Output widgets capturing with no browser."""

from __future__ import annotations

import json
from pathlib import Path

from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell
from run_helpers import nbbridge, write_notebook

STATE_MIME = "application/vnd.jupyter.widget-state+json"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def views(cell: dict[str, object]) -> list[str]:
    return [output["data"][VIEW_MIME]["model_id"]  # type: ignore[index]
            for output in cell["outputs"]  # type: ignore[attr-defined]
            if VIEW_MIME in output.get("data", {})]


def test_run_writes_widget_state_matching_the_views(tmp_path: Path) -> None:
    notebook = tmp_path / "widgets.ipynb"
    write_notebook(
        notebook,
        new_code_cell("import ipywidgets as widgets\n"
                      "slider = widgets.IntSlider(value=4, description='s')\nslider"),
        new_code_cell("slider.value = 9\n"
                      "box = widgets.HBox([widgets.Button(description='b'), "
                      "widgets.Text(value='t')])\nbox"),
        new_code_cell("out = widgets.Output()\nwith out:\n    print('in the widget')\n"
                      "    from IPython.display import clear_output\n"
                      "    clear_output(wait=True)\n    print('after clear')\n"
                      "print('in the cell')\nout"),
    )
    ran = nbbridge("run", notebook)
    assert ran.returncode == 0, ran.stderr
    written = json.loads(notebook.read_text())
    state = written["metadata"]["widgets"][STATE_MIME]
    assert state["version_major"] == 2
    models = state["state"]
    slider_id, = views(written["cells"][0])
    box_id, = views(written["cells"][1])
    out_id, = views(written["cells"][2])
    for model_id in (slider_id, box_id, out_id):
        assert model_id in models
    assert models[slider_id]["model_name"] == "IntSliderModel"
    assert models[slider_id]["state"]["value"] == 9  # the state at the end of the run
    # the box's children are saved too, so the box can be drawn
    for child in models[box_id]["state"]["children"]:
        assert child.removeprefix("IPY_MODEL_") in models
    # the Output widget captured with no browser; the cell has only its own print
    assert models[out_id]["state"]["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": "after clear\n"}]
    cell_texts = [o.get("text") for o in written["cells"][2]["outputs"]
                  if o["output_type"] == "stream"]
    assert cell_texts == [["in the cell\n"]]

    # nbconvert's HTML export carries the state, so the widgets show there
    html, _ = HTMLExporter().from_filename(str(notebook))
    assert STATE_MIME in html and slider_id in html


def test_run_without_widgets_drops_stale_widget_state(tmp_path: Path) -> None:
    notebook = tmp_path / "plain.ipynb"
    write_notebook(notebook, new_code_cell("print(1)"))
    data = json.loads(notebook.read_text())
    data["metadata"]["widgets"] = {STATE_MIME: {"version_major": 2, "version_minor": 0,
                                                "state": {"gone": {}}}}
    notebook.write_text(json.dumps(data))
    ran = nbbridge("run", notebook)
    assert ran.returncode == 0, ran.stderr
    assert "widgets" not in json.loads(notebook.read_text())["metadata"]
