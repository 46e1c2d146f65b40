"""The pilot-versus-regular notebook names its estimand, gives E-values and sets the truth beside synthetic estimates."""

import re

import nbformat
import pytest

from kantelmeter.demo import fill_store
from kantelmeter.report import execute
from kantelmeter.store import Store


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pilot")
    store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
    fill_store(
        store,
        seed=11,
        covariates=folder / "covariates.csv",
        true_effects=folder / "truth.csv",
        n_pilot=40,
        n_regular=60,
    )
    store.close()
    path = execute(
        "pilot_vs_regular",
        folder / "out.ipynb",
        {
            "db_url": store.url,
            "lang": "nl",
            "covariates_csv": str(folder / "covariates.csv"),
            "truth_csv": str(folder / "truth.csv"),
            "min_cell": 10,
        },
        progress=False,
    )
    notebook = nbformat.read(path, as_version=4)
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    return notebook, outputs


def _texts(outputs, kind):
    return "\n".join(output.get("data", {}).get(kind, "") for output in outputs)


def test_names_its_estimand_and_reads_its_e_value(executed):
    notebook, outputs = executed
    markdown = _texts(outputs, "text/markdown")
    assert "ATT" in markdown and "gemiddelde effect bij de pilotdeelnemers" in markdown
    sentence = re.search(r"E-waarde (\d+,\d\d) \(voor de intervalgrens (\d+,\d\d)\)", markdown)
    assert sentence, markdown
    assert "E-waarde" in _texts(outputs, "text/html")
    # the analysis is told in Markdown cells, not only in code
    assert sum(cell.cell_type == "markdown" for cell in notebook.cells) >= 5


def test_tables_are_dutch_formatted_and_carry_the_truth(executed):
    _, outputs = executed
    tables = _texts(outputs, "text/html")
    assert "ware waarde (synthetisch)" in tables and "schattingsdoel" in tables and "95%-interval van" in tables
    for raw in ("NaN", "None", "True", "False", "-0.00", "<th></th>", "estimand", "ci_low"):
        assert raw not in tables, raw
    assert "image/png" in "".join(str(output.get("data", {}).keys()) for output in outputs)
