"""Every export of every instrument reads back to identical answers and pseudonyms; files are safe to open."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pandas as pd
import pyreadstat
import pytest
from answer_data import TEXTS, valid_responses
from openpyxl import load_workbook

from kantelmeter import Store, list_instruments, load_instrument
from kantelmeter.instruments import parse_instrument
from kantelmeter.io import export_responses, import_responses

FORMATS = [".sav", ".csv", ".xlsx"]


def _filled(store: Store, instrument) -> pd.DataFrame:
    """Two occasions of valid responses for the same respondents, added through the Python API."""
    people = [store.pseudonym("client_number", f"K{i:03d}") for i in range(12)]
    for number, occasion in enumerate(instrument.occasions[:2]):
        frame = valid_responses(instrument, occasion, people, seed=number)
        frame["cohort"] = ["pilot" if i % 2 else "regular" for i in range(len(people))]
        store.add_responses(instrument, occasion, frame)
    return store.responses(instrument)


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("instrument_id", list_instruments())
def test_every_export_of_every_instrument_reads_back_identically(instrument_id, suffix, tmp_path, key_file):
    instrument = load_instrument(instrument_id)
    source = Store(f"sqlite:///{tmp_path / 'source.db'}", key_file=key_file)
    original = _filled(source, instrument)
    path = export_responses(source, instrument, tmp_path / f"{instrument_id}{suffix}")[0]
    # a fresh store with the same key; the file holds every occasion, so none is given
    target = Store(f"sqlite:///{tmp_path / 'target.db'}", key_file=key_file)
    result = import_responses(target, instrument, None, path)
    assert result.added == len(original)
    again = target.responses(instrument)
    pd.testing.assert_frame_equal(again, original, check_dtype=False)
    identifiers = [item.id for item in instrument.identifiers]
    if identifiers:  # pseudonyms stay themselves: never pseudonymised a second time
        assert original[identifiers].stack().str.fullmatch(r"p-[0-9a-f]{20}").all()
    source.close()
    target.close()


def test_text_that_a_spreadsheet_would_run_is_written_as_text(store, sample_instrument, tmp_path):
    person = store.add_respondent()
    store.save_answers(
        store.start_response(person, sample_instrument, "intake"),
        {"got_help": 2, "remarks": '=HYPERLINK("http://x")', "wellbeing": 4},
        complete=True,
    )
    data_file, _ = export_responses(store, sample_instrument, tmp_path / "out.csv")
    line = data_file.read_text().splitlines()[1]
    assert "'=HYPERLINK" in line and ",2," in line and "2.0" not in line  # codes as whole numbers
    (workbook,) = export_responses(store, sample_instrument, tmp_path / "out.xlsx")
    sheet = load_workbook(workbook)["responses"]
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("remarks") + 1)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    assert sheet.cell(row=2, column=header.index("got_help") + 1).value == 2


def test_dates_in_excel_are_dates_without_time(store, sample_instrument, tmp_path):
    store.save_answers(
        store.start_response(store.add_respondent(), sample_instrument, "intake"),
        {"got_help": 2, "visit_date": "12-04-2011"},
        complete=True,
    )
    (workbook,) = export_responses(store, sample_instrument, tmp_path / "out.xlsx")
    sheet = load_workbook(workbook)["responses"]
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("visit_date") + 1)
    assert cell.is_date and cell.number_format == "yyyy-mm-dd" and cell.value.date().isoformat() == "2011-04-12"


def test_spss_formats_and_widths_come_from_the_instrument(store, sample_instrument, tmp_path):
    pilot = valid_responses(sample_instrument, "intake", ["r-a", "r-bb"])
    regular = valid_responses(sample_instrument, "follow_up", ["r-ccccccc"], seed=3)
    store.add_responses(sample_instrument, "intake", pilot)
    store.add_responses(sample_instrument, "follow_up", regular)
    (first,) = export_responses(store, sample_instrument, tmp_path / "intake.sav", occasion="intake")
    (second,) = export_responses(store, sample_instrument, tmp_path / "follow_up.sav", occasion="follow_up")
    metas = [pyreadstat.read_sav(str(path), metadataonly=True)[1] for path in (first, second)]
    assert metas[0].original_variable_types == metas[1].original_variable_types
    types = metas[0].original_variable_types
    assert (types["got_help"], types["helped_well"], types["help_kind_1"], types["respondent"]) == (
        "F1.0",
        "F1.0",
        "F1.0",
        "A64",
    )
    assert types["remarks"] == "A4000" and types["visit_date"] == "DATE11" and types["age"] == "F12.4"


@pytest.mark.skipif(shutil.which("pspp") is None and os.environ.get("CI") != "true", reason="PSPP is not installed")
def test_two_exports_append_in_pspp(store, sample_instrument, tmp_path):
    # The check an analyst makes: ADD FILES of the intake and the follow-up export, in PSPP (GNU SPSS).
    store.add_responses(
        sample_instrument, "intake", valid_responses(sample_instrument, "intake", ["r-a", "r-b"]).assign(cohort="pilot")
    )
    store.add_responses(
        sample_instrument,
        "follow_up",
        valid_responses(sample_instrument, "follow_up", ["r-a", "r-much-longer-name"], seed=2).assign(cohort="pilot"),
    )
    export_responses(store, sample_instrument, tmp_path / "intake.sav", occasion="intake")
    export_responses(store, sample_instrument, tmp_path / "follow_up.sav", occasion="follow_up")
    syntax = tmp_path / "append.sps"
    syntax.write_text("ADD FILES /FILE='intake.sav' /FILE='follow_up.sav'.\nSAVE OUTFILE='both.sav'.\n")
    done = subprocess.run(["pspp", "-b", str(syntax)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "error" not in done.stdout.lower(), done.stdout + done.stderr
    both, _ = pyreadstat.read_sav(str(tmp_path / "both.sav"))
    assert both["respondent"].tolist() == ["r-a", "r-b", "r-a", "r-much-longer-name"]
    assert both["occasion"].tolist() == ["intake", "intake", "follow_up", "follow_up"]


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_files_holding_answers_or_tokens_are_owner_only(tmp_path, key_file, sample_instrument):
    from click.testing import CliRunner

    from kantelmeter.cli import main

    os.umask(0o022)  # what most systems give: 0644 for a new file
    database = tmp_path / "k.db"
    store = Store(f"sqlite:///{database}", key_file=key_file)
    store.add_responses(sample_instrument, "intake", valid_responses(sample_instrument, "intake", ["r-a"]))
    written = [database, tmp_path / "k.db-wal"]
    for suffix in FORMATS:
        written += export_responses(store, sample_instrument, tmp_path / f"out{suffix}")
    runner = CliRunner()
    links = tmp_path / "links.csv"
    done = runner.invoke(
        main,
        [
            "invite",
            "--instrument",
            "soc13",
            "--occasion",
            "intake",
            "--count",
            "2",
            "--out",
            str(links),
            "--db",
            f"sqlite:///{database}",
            "--key-file",
            str(key_file),
        ],
    )
    assert done.exit_code == 0, done.output
    bad = tmp_path / "bad.csv"
    bad.write_text("respondent,soc1\nr1,12\n")
    problems = tmp_path / "problems.csv"
    runner.invoke(
        main,
        [
            "import",
            str(bad),
            "--instrument",
            "soc13",
            "--occasion",
            "intake",
            "--problems",
            str(problems),
            "--db",
            f"sqlite:///{database}",
            "--key-file",
            str(key_file),
        ],
    )
    written += [links, problems]
    assert {str(path.name): oct(_mode(path)) for path in written} == {path.name: "0o600" for path in written}
    store.close()


def test_a_wrong_or_missing_key_is_refused_and_a_new_key_is_adopted_only_on_request(tmp_path, key_file):
    url = f"sqlite:///{tmp_path / 'k.db'}"
    store = Store(url, key_file=key_file)
    person = store.add_respondent(identifiers={"bsn": "111222333"})
    store.close()
    mistyped = tmp_path / "pseudonym.kye"
    with pytest.raises(Exception, match=r"pseudonymised with the key in .*k(ey)?.*does not exist") as refused:
        Store(url, key_file=mistyped)
    assert "would not link" in str(refused.value) and "--adopt-new-key" in str(refused.value)
    assert not mistyped.exists()  # refused before a new key was made
    other = tmp_path / "other.key"
    Store(f"sqlite:///{tmp_path / 'elsewhere.db'}", key_file=other).pseudonym("bsn", "111222333")
    with pytest.raises(Exception, match="holds another key"):
        Store(url, key_file=other)
    adopted = Store(url, key_file=other, adopt_new_key=True)
    assert adopted.add_respondent(identifiers={"bsn": "111222333"}) != person  # as the message warned
    assert "adopt_key" in set(adopted.audit_log().action)
    assert Store(url, key_file=other).pseudonym("bsn", "111222333")  # the adopted key is now the expected one
    with pytest.raises(Exception, match="holds another key"):
        Store(url, key_file=key_file)


VERSIONED = """
id: versioned
version: "{version}"
title: {{nl: Versies, en: Versions}}
description: {{nl: d, en: d}}
source: {{citation: test}}
licence: {{name: EUPL-1.2}}
occasions: [intake]
response_scales:
  yes_no:
    codes:
      - {{code: 1, label: {{nl: ja, en: "yes"}}}}
      - {{code: 2, label: {{nl: nee, en: "no"}}}}
sections:
  - id: s
    title: {{nl: s, en: s}}
    items:
      - {{id: kept, type: single_choice, response_scale: yes_no, text: {{nl: k, en: k}}}}
{extra}
"""


def test_responses_and_exports_read_every_version_with_the_union_of_columns(store, tmp_path, key_file):
    first = parse_instrument(
        VERSIONED.format(version="1", extra="      - {id: dropped, type: number, text: {nl: d, en: d}}")
    )
    second = parse_instrument(
        VERSIONED.format(version="2", extra="      - {id: added, type: text, text: {nl: a, en: a}}")
    )
    store.add_responses(
        first,
        "intake",
        pd.DataFrame({"respondent": ["r-1"], "kept": [1.0], "dropped": [7.5], "collected_at": ["03-05-2011 10:00"]}),
    )
    store.register_instrument(second)
    store.add_responses(
        second,
        "intake",
        pd.DataFrame(
            {"respondent": ["r-2"], "kept": [2.0], "added": ["=x"], "collected_at": ["2011-05-03T10:00:00+02:00"]}
        ),
    )
    wide = store.responses(second)
    assert list(wide.columns)[4:] == ["version", "kept", "added", "dropped"]
    assert wide[["respondent", "version", "kept", "dropped", "added"]].astype(object).where(
        wide.notna(), None
    ).values.tolist() == [["r-1", "1", 1.0, 7.5, None], ["r-2", "2", 2.0, None, "=x"]]
    for suffix in FORMATS:
        path = export_responses(store, second, tmp_path / f"all{suffix}")[0]
        target = Store(f"sqlite:///{tmp_path / f'target{suffix}.db'}", key_file=key_file)
        target.register_instrument(first)
        target.register_instrument(second)
        assert import_responses(target, second, "intake", path).added == 2
        pd.testing.assert_frame_equal(target.responses(second), wide, check_dtype=False)
        target.close()


def test_an_imported_file_keeps_texts_that_look_like_formulas(store, sample_instrument, tmp_path):
    # the apostrophe guard is undone on the way in, so every text of the test data survives a round trip
    frame = pd.DataFrame({"respondent": [f"r{i}" for i in range(len(TEXTS))], "got_help": 2.0, "remarks": TEXTS})
    store.add_responses(sample_instrument, "intake", frame)
    assert sorted(store.responses(sample_instrument)["remarks"]) == sorted(TEXTS)
