"""Respondents read plain Dutch (B1), and nothing written for analysts.

The check has three parts, chosen because a single readability score means little for a
three-word heading or an answer option:

- every sentence has at most ``MAX_WORDS`` words and every word at most ``MAX_SYLLABLES``
  syllables (counted by textstat with its Dutch hyphenation dictionary), the length limits of
  the B1 writing guides Dutch government uses;
- no word from a list of words above B1 (each with the B1 word we use instead), and no word
  that belongs in an analyst's ``note`` (reverse scoring, CEO, item ids);
- the Flesch-Douma reading ease (textstat, ``set_lang("nl")``) of a questionnaire's respondent
  texts taken together is at least ``MIN_FLESCH_DOUMA``: 60 and above reads as "easy" to
  "fairly easy" on Douma's scale, where B1 texts land.
"""

from __future__ import annotations

import re

import pytest
import textstat

from kantelmeter import load_instrument
from kantelmeter.instruments import list_instruments
from kantelmeter.messages import section
from kantelmeter.web.settings import SurveySettings

MAX_WORDS = 20
MAX_SYLLABLES = 6
MIN_FLESCH_DOUMA = 60
# Official names a respondent meets on every letter from the municipality.
textstat.set_lang("nl")  # Douma's formula and the Dutch hyphenation dictionary
LONG_NAMES_ALLOWED = {"burgerservicenummer", "partnerorganisatie", "partnerorganisaties"}

ABOVE_B1 = {  # pattern of a word above B1: the B1 words we write instead
    r"burgerlijke staat": "getrouwd of getrouwd geweest",
    r"instanties?": "organisatie",
    r"\w*voorzieningen?": "hulp, hulpmiddel",
    r"ter sprake": "begon over",
    r"omgang": "contact",
    r"bijv\.": "bijvoorbeeld",
    r"aankloppen": "terecht kunnen",
    r"doorverwijzing": "doorgestuurd worden",
    r"wiens": "van wie",
    r"middels": "met",
    r"teneinde": "om",
    r"dienen te": "moeten",
    r"indien": "als",
    r"verstrekken": "geven",
}
ANALYST_WORDS = [
    "omgekeerd",
    "reverse",
    "ceo",
    "item",
    "ids ",
    "schaal '",
    "negatief geformuleerd",
    "cliëntervaringsonderzoek",
]


def instrument_texts(instrument) -> list[str]:
    """Every Dutch text a respondent of this instrument reads: titles, intros, questions, help, options.

    A licensed instrument ships placeholders for its question wording (the user overlays the real
    text), so only its own headings and answer options are checked.
    """
    placeholders = instrument.licence.text_restricted
    texts = []
    for part in instrument.asked_sections:  # a repeated section once per element: "Uw vraag over: ..."
        texts += [part.title.nl] + ([part.intro.nl] if part.intro else [])
        for item in part.items:
            if not placeholders:
                texts += [item.text.nl] + ([item.help.nl] if item.help else [])
            texts += [anchor.nl for anchor in (item.anchors or {}).values()]
    texts += [code.label.nl for scale in instrument.response_scales.values() for code in scale.codes + scale.missing]
    return list(dict.fromkeys(texts))


def app_texts() -> list[str]:
    """The form app's own sentences and the neutral survey settings' texts, in Dutch."""
    settings = SurveySettings()
    texts = list(section("web", "nl").values())
    texts += [
        settings.privacy.purpose.nl,
        settings.privacy.rights.nl,
        settings.privacy.processor.nl,
        settings.welcome.nl,
        settings.closing.nl,
    ]
    return [re.sub(r"\{\w+\}", "5", text) for text in texts]


def problems(text: str) -> list[str]:
    """What keeps one text from B1, as readable sentences (empty when it passes)."""
    found = []
    for sentence in re.split(r"(?<=[.?!:;])\s+", text):
        words = re.findall(r"[^\W\d_][\w'’]*", sentence)  # a hyphenated compound counts as its parts
        if len(words) > MAX_WORDS:
            found.append(f"{len(words)} words in one sentence (at most {MAX_WORDS}): {sentence!r}")
        for word in words:
            syllables = textstat.syllable_count(word)
            if syllables > MAX_SYLLABLES and word.lower() not in LONG_NAMES_ALLOWED:
                found.append(f"{word!r} has {syllables} syllables (at most {MAX_SYLLABLES})")
    lowered = f" {text.lower()} "
    for pattern, instead in ABOVE_B1.items():
        if match := re.search(rf"\b(?:{pattern})(?!\w)", lowered):
            found.append(f"{match.group(0)!r} is above B1; write {instead!r}")
    found += [
        f"{word.strip()!r} is for analysts: move it to the item's note" for word in ANALYST_WORDS if word in lowered
    ]
    return found


def flesch_douma(texts: list[str]) -> float:
    """The Flesch-Douma reading ease of texts read one after another."""
    return textstat.flesch_reading_ease(" ".join(t if t.rstrip()[-1:] in ".?!:" else f"{t}." for t in texts))


def test_the_check_catches_what_it_is_meant_to_catch():
    assert problems("Wat is uw burgerlijke staat?")
    assert problems("Negatief geformuleerd; telt omgekeerd mee in de schaal 'ervaren nut'.")
    assert problems("Heeft u contact gehad met een instantie?")
    assert problems(" ".join(["woord"] * (MAX_WORDS + 1)) + ".")
    assert problems("Dit is een arbeidsongeschiktheidsverzekeringsaanvraag.")
    assert not problems("Hoe gaat het op dit moment met u?")
    # Douma: short words in short sentences read easily, long ones in long sentences do not
    assert flesch_douma(["Hoe gaat het met u?", "Wij vragen u iets."]) > 80
    assert (
        flesch_douma(
            [
                "De gemeentelijke verantwoordelijkheid voor maatschappelijke ondersteuning "
                "vereist systematische evaluatie van interventies."
            ]
        )
        < 0
    )


@pytest.mark.parametrize("instrument_id", list_instruments())
def test_every_respondent_text_of_a_shipped_questionnaire_is_b1(instrument_id):
    texts = instrument_texts(load_instrument(instrument_id))
    found = {text: problems(text) for text in texts}
    assert {text: p for text, p in found.items() if p} == {}
    # The intake record is filled in by the professional (its case and double-rating items name their
    # trade's terms), so only the word and sentence limits hold for it, not the citizens' reading ease.
    if not load_instrument(instrument_id).licence.text_restricted and instrument_id != "intake_record":
        assert flesch_douma(texts) >= MIN_FLESCH_DOUMA


def test_the_form_app_and_the_default_survey_texts_are_b1():
    texts = app_texts()
    assert {text: p for text in texts if (p := problems(text))} == {}
    assert flesch_douma(texts) >= MIN_FLESCH_DOUMA


def test_english_is_kept_in_step_with_dutch():
    """Every respondent text exists in English, and no English text was left in Dutch."""
    for instrument_id in list_instruments():
        instrument = load_instrument(instrument_id)
        for item in instrument.items:
            assert (item.help is None) or item.help.en != item.help.nl or item.help.nl.isupper(), item.id
            if not instrument.licence.text_restricted:
                assert item.text.en != item.text.nl or len(item.text.nl) < 12, (instrument_id, item.id)
    dutch, english = section("web", "nl"), section("web", "en")
    assert [key for key in dutch if dutch[key] == english[key] and len(dutch[key]) >= 12] == []
