"""The professionals-over-time notebook runs on the synthetic panel and answers its question."""

from pathlib import Path

import nbformat
import papermill

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "professionals_over_time.ipynb"


def _outputs(notebook, tag):
    cells = [cell for cell in notebook.cells if tag in cell.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"one cell tagged {tag!r} expected"
    return cells[0].outputs


def _text(outputs):
    return "\n".join(
        str(output.get("data", {}).get("text/plain", ""))
        + str(output.get("data", {}).get("text/markdown", ""))
        + output.get("text", "")
        for output in outputs
    )


def test_notebook_answers_the_question_on_the_synthetic_panel(tmp_path):
    source = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in source.cells if cell.cell_type == "code"), "commit without outputs"
    executed = tmp_path / "professionals_over_time.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(executed),
        parameters={"lang": "en", "seed": 7},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    notebook = nbformat.read(executed, as_version=4)
    errors = [output for cell in notebook.cells for output in cell.get("outputs", []) if output.output_type == "error"]
    assert not errors
    assert any("image/png" in output.get("data", {}) for output in _outputs(notebook, "key-figure"))
    table = _text(_outputs(notebook, "key-table"))
    for row in ("rise per year, municipal helpers", "team 2 against team 1", "after the end was announced"):
        assert row in table
    everything = _text([output for cell in notebook.cells for output in cell.get("outputs", [])])
    assert "Synthetic data" in everything
    assert "Did work enjoyment rise?" in everything and "Did it hold after the team changed?" in everything
    assert "a team of this size cannot say it more precisely" in everything
