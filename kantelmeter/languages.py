"""The languages every text of kantelmeter exists in, Dutch first.

A module of its own so that the command line can offer ``--lang`` without
loading the instrument model.

Examples
--------
>>> LANGUAGES[0]
'nl'
"""

__all__ = ["LANGUAGES"]

LANGUAGES = ("nl", "en")
