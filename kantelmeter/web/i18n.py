"""The words of the form app itself, and the language of a request.

Question texts come from the instrument; what the app says around them
(buttons, validation messages, page titles) is the ``web`` section of the
message catalogues (:mod:`kantelmeter.messages`). The language is chosen by
``?lang=`` (which also sets a cookie), then the cookie, then Dutch.
"""

from __future__ import annotations

from kantelmeter.instruments import LANGUAGES
from kantelmeter.messages import message

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "choose_language", "translate"]

DEFAULT_LANGUAGE = LANGUAGES[0]


def translate(key: str, lang: str, /, **params: object) -> str:
    """A message of the app (``web.<key>`` in the catalogue) in a language, with its values filled in.

    Examples
    --------
    >>> translate("number_range", "nl", min=18, max=110)
    'Vul een getal in van 18 tot en met 110.'
    >>> translate("next", "en")
    'Next'
    """
    return message(f"web.{key}", lang, **params)


def choose_language(query: str | None, cookie: str | None) -> str:
    """The language of a request: ``?lang=``, then the cookie, then Dutch.

    Examples
    --------
    >>> choose_language("en", None), choose_language(None, "en"), choose_language("fr", None)
    ('en', 'en', 'nl')
    """
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE
