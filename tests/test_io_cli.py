"""The import, export, xlsform, redcap and erase commands."""

from __future__ import annotations

import pandas as pd
import pyreadstat
from click.testing import CliRunner

from kantelmeter import Store, load_instrument
from kantelmeter.cli import main

BSN = "111222333"


def _run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def test_import_export_and_erase_from_the_command_line(tmp_path):
    db, key = f"sqlite:///{tmp_path / 'k.db'}", tmp_path / "k.key"
    data = tmp_path / "soc.csv"
    pd.DataFrame({"bsn": [BSN, "123456782"], "soc1": [3, 4], "soc2": [5, 6]}).to_csv(data, index=False)
    common = ["--db", db, "--key-file", key]
    done = _run(
        "import",
        data,
        "--instrument",
        "soc13",
        "--occasion",
        "intake",
        "--respondent",
        "bsn",
        "--respondent-kind",
        "bsn",
        "--cohort",
        "pilot",
        *common,
    )
    assert done.exit_code == 0, done.output
    assert "2 responses added" in done.output
    again = _run(
        "import",
        data,
        "--instrument",
        "soc13",
        "--occasion",
        "intake",
        "--respondent",
        "bsn",
        "--respondent-kind",
        "bsn",
        *common,
    )
    assert "imported before; nothing added" in again.output

    bad = tmp_path / "bad.csv"
    pd.DataFrame({"respondent": ["r1"], "soc1": [12]}).to_csv(bad, index=False)
    problems = tmp_path / "problems.csv"
    refused = _run("import", bad, "--instrument", "soc13", "--occasion", "intake", "--problems", problems, *common)
    assert refused.exit_code == 1
    assert "row 2, column soc1 (value '12'): not a code" in refused.output
    assert pd.read_csv(problems).column.tolist() == ["soc1"]

    out = tmp_path / "soc.sav"
    exported = _run("export", "--instrument", "soc13", "--out", out, *common)
    assert exported.exit_code == 0, exported.output
    frame, meta = pyreadstat.read_sav(str(out))
    assert sorted(frame.soc1) == [3.0, 4.0] and meta.column_names_to_labels["respondent"] == "Respondent (pseudoniem)"
    assert BSN not in out.read_bytes().decode("latin-1")

    erased = _run("erase", "--bsn", "--yes", *common, input=f"{BSN}\n")
    assert erased.exit_code == 0, erased.output
    assert "erased with 1 responses" in erased.output and BSN not in erased.output
    assert len(Store(db, key_file=key).responses(load_instrument("soc13"))) == 1
    missing = _run("erase", "r-unknown", "--yes", *common)
    assert missing.exit_code == 1 and "no respondent with pseudonym 'r-unknown'" in missing.output
    assert _run("erase", *common).exit_code == 2


def test_forms_from_the_command_line(tmp_path):
    form = _run("xlsform", "soc13", "--out", tmp_path / "soc.xlsx", "--occasion", "intake")
    assert form.exit_code == 0, form.output
    assert pd.read_excel(tmp_path / "soc.xlsx", sheet_name="settings").form_id.tolist() == ["soc13_intake"]
    assert _run("xlsform", "soc13", "--out", tmp_path / "x.xlsx", "--occasion", "week_9").exit_code == 2
    dd = _run("redcap", "soc13", "--out", tmp_path / "dd.csv", "--lang", "en")
    assert dd.exit_code == 0 and len(pd.read_csv(tmp_path / "dd.csv")) == 14


def test_a_rejected_import_shows_the_first_twenty_problems_and_counts_the_rest(tmp_path):
    common = ["--db", f"sqlite:///{tmp_path / 'k.db'}", "--key-file", tmp_path / "k.key"]
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"respondent": [f"r{i}" for i in range(30)], "soc1": 12}).to_csv(bad, index=False)
    refused = _run("import", bad, "--instrument", "soc13", "--occasion", "intake", *common)
    assert refused.exit_code == 1
    lines = refused.output.splitlines()
    assert lines[0] == "bad.csv: 30 problems; nothing was imported"
    assert lines[20].startswith("  row 21, column soc1") and len(lines) == 22
    assert lines[21] == "  ... and 10 more problems (write them all as CSV with --problems FILE)"
    problems = tmp_path / "problems.csv"
    written = _run("import", bad, "--instrument", "soc13", "--occasion", "intake", "--problems", problems, *common)
    assert written.exit_code == 1
    assert written.output.splitlines()[-1] == f"  ... and 10 more problems (all are in {problems})"
    assert len(pd.read_csv(problems)) == 30


def test_form_files_must_end_as_their_format(tmp_path):
    form = _run("xlsform", "soc13", "--out", tmp_path / "form.csv")
    assert form.exit_code == 1
    assert form.output == f"Error: {tmp_path / 'form.csv'}: an XLSForm is an Excel workbook; allowed ending: .xlsx\n"
    dd = _run("redcap", "soc13", "--out", tmp_path / "dd.xlsx")
    assert dd.exit_code == 1
    assert dd.output == f"Error: {tmp_path / 'dd.xlsx'}: a REDCap data dictionary is a CSV file; allowed ending: .csv\n"
    assert not (tmp_path / "form.csv").exists() and not (tmp_path / "dd.xlsx").exists()
    assert _run("xlsform", "soc13", "--out", tmp_path / "FORM.XLSX").exit_code == 0


def test_export_names_an_unknown_cohort_and_says_when_none_is_exported(tmp_path):
    db, key = f"sqlite:///{tmp_path / 'k.db'}", tmp_path / "k.key"
    common = ["--db", db, "--key-file", key]
    data = tmp_path / "soc.csv"
    pd.DataFrame({"respondent": ["r1", "r2"], "soc1": [3, 4]}).to_csv(data, index=False)
    assert (
        _run("import", data, "--instrument", "soc13", "--occasion", "intake", "--cohort", "pilot", *common).exit_code
        == 0
    )
    unknown = _run("export", "--instrument", "soc13", "--cohort", "nope", "--out", tmp_path / "x.csv", *common)
    assert unknown.exit_code == 1
    assert unknown.output == "Error: cohort 'nope': no response to 'soc13' belongs to it; allowed: pilot\n"
    assert not (tmp_path / "x.csv").exists()
    # 'regular' is known (a form was begun) but has no complete response: the file is written, and said to be empty
    store = Store(db, key_file=key)
    store.start_response(store.add_respondent(cohort="regular"), "soc13", "intake")
    store.close()
    empty = _run("export", "--instrument", "soc13", "--cohort", "regular", "--out", tmp_path / "r.csv", *common)
    assert empty.exit_code == 0, empty.output
    assert "0 responses exported: no complete response matches" in empty.output
    assert pd.read_csv(tmp_path / "r.csv").empty
    pilot = _run("export", "--instrument", "soc13", "--cohort", "pilot", "--out", tmp_path / "p.csv", *common)
    assert pilot.exit_code == 0 and pilot.output.splitlines()[-1] == "2 responses exported"
