"""A deployment's survey settings: whose form it is, how to reach them, what happens to the answers.

A municipality that sends its citizens the form puts its own name on it with
a ``survey.yaml`` (``data/haarlemmermeer/survey.yaml`` is the shipped
example; ``kantelmeter serve --survey``):

- who runs the survey (``organisation``), with a logo and the two colours of
  its house style, checked for contrast (WCAG 2.1 AA, 4.5:1) before they are
  used;
- how to reach them (``contact``);
- the privacy statement the AVG asks for: who processes the answers, why, on
  what ground, how long they are kept (``retention_months``) and what rights a
  respondent has;
- how long the questionnaire takes (``minutes``), and the words on the welcome
  and closing pages.

Without a file every setting has a neutral default: no product name and no
invented municipality is ever shown to a citizen.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kantelmeter.instruments import InstrumentError, InstrumentProblem, Text, _from_pydantic, _read_yaml

__all__ = ["Colours", "Contact", "Privacy", "SurveySettings", "contrast_ratio", "load_survey_settings"]

Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
MIN_CONTRAST = 4.5
"""WCAG 2.1 success criterion 1.4.3 (AA): normal text needs 4.5:1 against its background."""


def _text(nl: str, en: str) -> Text:
    return Text(nl=nl, en=en)


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG 2.1 contrast ratio of two colours given as ``#rrggbb``.

    Relative luminance after WCAG 2.1 (sRGB channels linearised, weighted
    0.2126, 0.7152, 0.0722); the ratio is (lighter + 0.05) / (darker + 0.05).

    Examples
    --------
    >>> contrast_ratio("#000000", "#ffffff")
    21.0
    >>> round(contrast_ratio("#0b5394", "#ffffff"), 2)
    7.84
    """

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return round((lighter + 0.05) / (darker + 0.05), 2)


class Colours(_Settings):
    """The house style: ``primary`` for buttons, links and headings, ``on_primary`` for text on a button."""

    primary: Colour = "#0b5394"
    on_primary: Colour = "#ffffff"

    @model_validator(mode="after")
    def _readable(self) -> Colours:
        for name, against, label in (("primary", "#ffffff", "the white page"), ("on_primary", self.primary, "primary")):
            ratio = contrast_ratio(getattr(self, name), against)
            if ratio < MIN_CONTRAST:
                raise ValueError(
                    f"{name} {getattr(self, name)} has contrast {ratio}:1 against {label}; "
                    f"at least {MIN_CONTRAST}:1 is needed (WCAG 2.1 AA)"
                )
        return self


class Contact(_Settings):
    """How a respondent reaches the people running the survey; every field may be left out."""

    phone: str | None = None
    email: str | None = None
    website: str | None = None
    hours: Text | None = None


class Privacy(_Settings):
    """The privacy statement (AVG articles 13 and 14): who, why, on what ground, how long, which rights."""

    processor: Text = _text(
        "De organisatie die u deze vragenlijst stuurde. Zij is verantwoordelijk voor uw gegevens.",
        "The organisation that sent you this questionnaire. It is responsible for your data.",
    )
    purpose: Text = _text(
        "Wij willen weten of de hulp die mensen krijgen, werkt. Met uw antwoorden maken we de hulp beter.",
        "We want to know whether the help people get works. Your answers help us make it better.",
    )
    legal_basis: Text = _text(
        "U doet vrijwillig mee. Wij gebruiken uw antwoorden alleen als u de vragenlijst zelf invult.",
        "Taking part is voluntary. We use your answers only when you fill in the questionnaire yourself.",
    )
    safeguards: Text = _text(
        "Uw naam en BSN bewaren we niet bij uw antwoorden. Onderzoekers zien alleen een code. "
        "In cijfers die we laten zien, kan niemand u herkennen.",
        "We do not keep your name or citizen service number with your answers. Researchers see only a code. "
        "No one can recognise you in the figures we publish.",
    )
    rights: Text = _text(
        "U mag uw antwoorden inzien. U mag vragen om ze te verbeteren of te wissen. "
        "Bent u het niet eens met hoe wij met uw gegevens omgaan? Dan kunt u een klacht indienen "
        "bij de Autoriteit Persoonsgegevens.",
        "You may see your answers. You may ask us to correct or erase them. "
        "Do you disagree with how we handle your data? Then you can complain to the Dutch Data Protection "
        "Authority (Autoriteit Persoonsgegevens).",
    )
    officer: str | None = None
    """How to reach the data protection officer (e-mail address or web page), when there is one."""


class SurveySettings(_Settings):
    """What one deployment shows around the questionnaire; see the module text.

    Examples
    --------
    >>> settings = SurveySettings()
    >>> settings.organisation.nl, settings.retention_months
    ('Vragenlijst over hulp en ondersteuning', 24)
    >>> SurveySettings(colours={"primary": "#ffff00"})
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for SurveySettings
    colours
      Value error, primary #ffff00 has contrast 1.07:1 against the white page; at least 4.5:1 is needed (WCAG 2.1 AA) ...
    """

    organisation: Text = _text("Vragenlijst over hulp en ondersteuning", "Questionnaire about help and support")
    logo: Path | None = None
    logo_text: Text | None = None
    colours: Colours = Colours()
    contact: Contact = Contact()
    privacy: Privacy = Privacy()
    retention_months: int = Field(default=24, ge=1, le=240)
    minutes: int | None = Field(default=None, ge=1, le=240)
    welcome: Text = _text(
        "Wij willen graag weten hoe het met u gaat en wat u van de hulp vindt. Uw mening helpt ons de hulp "
        "beter te maken.",
        "We would like to know how you are doing and what you think of the help. Your opinion helps us make "
        "the help better.",
    )
    closing: Text = _text(
        "Bedankt voor uw tijd. Heeft u nog vragen over dit onderzoek? Neem dan contact met ons op.",
        "Thank you for your time. Do you have questions about this survey? Then please contact us.",
    )

    @field_validator("logo")
    @classmethod
    def _logo_kind(cls, logo: Path | None) -> Path | None:
        if logo is not None and logo.suffix.lower() not in (".png", ".svg", ".jpg", ".jpeg"):
            raise ValueError(f"logo {logo}: allowed: a .png, .svg or .jpg file")
        return logo

    @model_validator(mode="after")
    def _logo_described(self) -> SurveySettings:
        if self.logo is not None and self.logo_text is None:
            raise ValueError("a logo needs logo_text: the words a screen reader says for it (nl and en)")
        return self

    def minutes_for(self, question_count: int) -> int:
        """The time estimate shown on the welcome page: the setting, or about four questions a minute.

        Examples
        --------
        >>> SurveySettings().minutes_for(37), SurveySettings(minutes=15).minutes_for(37)
        (10, 15)
        """
        if self.minutes is not None:
            return self.minutes
        return max(5, math.ceil(question_count / 4 / 5) * 5)


def load_survey_settings(path: str | Path) -> SurveySettings:
    """Read and check a ``survey.yaml``; a relative ``logo`` is taken from the file's folder.

    Raises
    ------
    InstrumentError
        Listing every problem, each with the file, line, field and value.
    FileNotFoundError
        For a missing file, or a logo that is not there.

    Examples
    --------
    >>> from importlib import resources
    >>> example = resources.files("kantelmeter.data") / "haarlemmermeer" / "survey.yaml"
    >>> settings = load_survey_settings(example)
    >>> settings.organisation.nl, settings.logo.name
    ('Gemeente Haarlemmermeer', 'logo.svg')
    """
    path = Path(path)
    data, lines, problems = _read_yaml(path.read_text(encoding="utf-8"), str(path))
    if data is None:
        raise InstrumentError(problems)
    if not isinstance(data, dict):
        raise InstrumentError(
            [
                InstrumentProblem(
                    file=str(path),
                    line=1,
                    path="",
                    value=type(data).__name__,
                    problem="survey settings must be a mapping of fields",
                )
            ]
        )
    try:
        settings = SurveySettings.model_validate(data)
    except ValidationError as exc:
        raise InstrumentError(problems + [_from_pydantic(error, str(path), lines) for error in exc.errors()]) from None
    if problems:
        raise InstrumentError(problems)
    if settings.logo is not None:
        logo = settings.logo if settings.logo.is_absolute() else path.parent / settings.logo
        if not logo.is_file():
            raise FileNotFoundError(f"{path}: logo {settings.logo} not found (looked for {logo})")
        settings = settings.model_copy(update={"logo": logo})
    return settings
