"""An item's ``help`` is for respondents, its ``note`` for analysts: each reaches only its own readers."""

from __future__ import annotations

import pyreadstat
import pytest

from kantelmeter import load_instrument
from kantelmeter.instruments import list_instruments
from kantelmeter.io import export_responses, redcap_dictionary, xlsform
from kantelmeter.store import Store

REVERSED = "benefit_no_difference"  # reverse-scored: the respondent must not be told


@pytest.fixture(scope="module")
def citizen():
    return load_instrument("citizen")


def test_the_codebook_gives_the_question_number_help_and_note(citizen):
    book = citizen.codebook("nl").set_index("item")
    follow_up = citizen.question_numbers("follow_up")
    assert book.loc[REVERSED, "question"] == str(follow_up[REVERSED])
    assert (
        book.loc["wellbeing", "question"] == f"intake {citizen.question_numbers('intake')['wellbeing']} · follow_up 1"
    )
    assert "omgekeerd" in book.loc[REVERSED, "note"] and book.loc[REVERSED, "help"] == ""
    assert book.loc["ladder_rung", "help"] == "Kies wat het meeste heeft geholpen."
    assert "Kanteling" in book.loc["ladder_rung", "note"]
    assert list(citizen.codebook("nl").columns[:3]) == ["question", "section", "item"]


@pytest.mark.parametrize("instrument_id", list_instruments())
def test_no_shipped_help_text_speaks_to_analysts(instrument_id):
    for item in load_instrument(instrument_id).items:
        if item.help:
            assert not any(word in item.help.nl.lower() for word in ("omgekeerd", "ceo", "schaal", "intake")), item.id


def test_redcap_shows_help_to_respondents_and_keeps_the_note_for_analysts(citizen):
    dictionary = redcap_dictionary(citizen, "en").set_index("Variable / Field Name")
    assert dictionary.loc[REVERSED, "Field Note"] == ""  # shown under the question in a REDCap survey
    assert "reverse-scored" in dictionary.loc[REVERSED, "Field Annotation"]  # analysts only
    assert dictionary.loc["ladder_rung", "Field Note"] == "Choose what helped the most."


def test_xlsform_puts_the_note_in_a_column_no_form_shows(citizen):
    survey = xlsform(citizen, "follow_up")["survey"].set_index("name")
    assert survey.loc[REVERSED, "hint::Nederlands (nl)"] == ""
    assert "omgekeerd" in survey.loc[REVERSED, "note::Nederlands (nl)"]


def test_spss_keeps_the_notes_as_file_documents(citizen, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'k.db'}", key_file=tmp_path / "k.key")
    response = store.start_response(store.add_respondent(), citizen, "follow_up")
    store.save_answers(response, {REVERSED: 2, "wellbeing": 6}, complete=True)
    (path,) = export_responses(store, citizen, tmp_path / "citizen.sav", lang="nl")
    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    assert any(line.startswith(f"{REVERSED}: Negatief geformuleerd") for line in meta.notes)
    assert "omgekeerd" not in meta.column_names_to_labels[REVERSED]
    store.close()
