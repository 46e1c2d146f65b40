"""Every shipped notebook is committed without outputs and runs against a small synthetic store."""

import ast
from importlib import resources

import nbformat
import pytest

from kantelmeter.demo import fill_store
from kantelmeter.report import execute
from kantelmeter.store import Store

SHIPPED = sorted(
    path.name.removesuffix(".ipynb")
    for path in resources.files("kantelmeter.notebooks").iterdir()
    if path.name.endswith(".ipynb")
)
# The baseline report runs (and is audited) in test_report.py; running it here again would double its cost.
ELSEWHERE = {"nulmeting"}


def _source(name):
    with resources.as_file(resources.files("kantelmeter.notebooks") / f"{name}.ipynb") as path:
        return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A small synthetic study and the professional panel in a fresh SQLite store, with covariates on disk."""
    folder = tmp_path_factory.mktemp("notebooks")
    store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
    fill_store(store, seed=11, covariates=folder / "covariates.csv", n_pilot=40, n_regular=60)
    store.close()
    return {"db_url": store.url, "lang": "en", "covariates_csv": str(folder / "covariates.csv"), "min_cell": 10}


@pytest.mark.parametrize("name", SHIPPED)
def test_committed_without_outputs_and_with_one_parameters_cell(name):
    notebook = _source(name)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    tagged = [cell for cell in code if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert {"lang"} <= {
        target.id
        for node in ast.parse(tagged[0].source).body
        if isinstance(node, ast.Assign)
        for target in node.targets
    }


@pytest.mark.parametrize("name", [name for name in SHIPPED if name not in ELSEWHERE])
def test_notebook_runs_against_the_store_without_errors(name, study, tmp_path):
    declared = {
        target.id
        for cell in _source(name).cells
        if "parameters" in cell.metadata.get("tags", [])
        for node in ast.parse(cell.source).body
        if isinstance(node, ast.Assign)
        for target in node.targets
    }
    executed = execute(
        name, tmp_path / f"{name}.ipynb", {k: v for k, v in study.items() if k in declared}, progress=False
    )
    notebook = nbformat.read(executed, as_version=4)
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    assert any("image/png" in output.get("data", {}) for output in outputs)
    markdown = "\n".join(output.get("data", {}).get("text/markdown", "") for output in outputs)
    if "db_url" in declared:
        assert "Synthetic data" in markdown


def test_the_report_notebook_is_run_elsewhere():
    assert ELSEWHERE <= set(SHIPPED)
