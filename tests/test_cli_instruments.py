"""The instrument commands and the packaging of the shipped questionnaires."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from kantelmeter import list_instruments
from kantelmeter.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_list_names_every_shipped_instrument():
    result = CliRunner().invoke(main, ["instruments", "list"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.splitlines()]
    assert listed == list_instruments()


def test_show_prints_the_codebook_in_the_chosen_language():
    result = CliRunner().invoke(main, ["instruments", "show", "soc13", "--lang", "en"])
    assert result.exit_code == 0
    assert "Sense of coherence (SOC-13)" in result.output
    assert "meaningfulness (-)" in result.output


def test_validate_lists_every_problem_and_exits_1(tmp_path):
    broken = (ROOT / "questionnaires" / "soc13.yaml").read_text(encoding="utf-8")
    broken = broken.replace("min_answered: 11", "min_answered: 14").replace("[-soc1, ", "[-soc1, soc99, ", 1)
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    result = CliRunner().invoke(main, ["instruments", "validate", str(path)])
    assert result.exit_code == 1
    assert "2 problems" in result.output
    assert "soc99" in result.output and "min_answered" in result.output


def test_validate_accepts_a_good_file():
    result = CliRunner().invoke(main, ["instruments", "validate", str(ROOT / "questionnaires" / "soc13.yaml")])
    assert result.exit_code == 0
    assert "ok (soc13, 13 items" in result.output


@pytest.mark.parametrize("fmt", ["csv", "md"])
def test_codebook_writes_a_file(tmp_path, fmt):
    out = tmp_path / f"soc13.{fmt}"
    result = CliRunner().invoke(main, ["codebook", "soc13", "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8")
    if fmt == "csv":
        assert len(pd.read_csv(out)) == 13
    else:
        assert text.startswith("|   question | section")


def test_a_wheel_carries_every_questionnaire(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("kantelmeter-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).stem for n in names if n.startswith("kantelmeter/questionnaires/") and n.endswith(".yaml")}
    assert shipped == set(list_instruments())
