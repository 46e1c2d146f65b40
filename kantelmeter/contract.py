"""The shape response data takes between kantelmeter's modules, written once.

Import, the store, scoring and the analyses exchange answers as tidy
DataFrames: one row per response, the columns below, then one column per
wide instrument column. Respondents are known by the identifiers below, and
panel time runs in months of an average calendar length. The store, the
readers and the analyses import these names instead of repeating them.

This module imports nothing heavy, so the command line can use it for its
choices without loading pandas.

Examples
--------
>>> TIDY_COLUMNS
('respondent', 'occasion', 'cohort', 'collected_at', 'version')
>>> RESPONDENT_IDENTIFIERS, REGISTER_IDENTIFIERS
(('bsn', 'client_number', 'name'), ('bsn', 'client_number'))
>>> round(30 * DAYS_PER_MONTH)
913
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "DAYS_PER_MONTH",
    "IDENTIFIER_KINDS",
    "PASSWORD_MIN",
    "IMPORT_COLUMNS",
    "REGISTER_IDENTIFIERS",
    "RESPONDENT_IDENTIFIERS",
    "TIDY_COLUMNS",
    "IdentifierKind",
]

TIDY_COLUMNS = ("respondent", "occasion", "cohort", "collected_at", "version")
"""The columns of a tidy response before its answers, in this order (``Store.responses``, ``score``)."""

IMPORT_COLUMNS = TIDY_COLUMNS[:4]
"""The tidy columns a response file may hold: the instrument's version is the store's to record."""

IdentifierKind = Literal["bsn", "client_number", "name", "case_number", "staff"]
"""What a personal identifier item holds (``identifier:`` in an instrument file)."""

IDENTIFIER_KINDS: tuple[str, ...] = get_args(IdentifierKind)

RESPONDENT_IDENTIFIERS = IDENTIFIER_KINDS[:3]
"""The identifiers a respondent's pseudonym is made from, the most stable first: when a response carries
several, the first one present names the respondent."""

REGISTER_IDENTIFIERS = RESPONDENT_IDENTIFIERS[:2]
"""The identifiers a municipality's client register holds for every client (a name is not unique)."""

DAYS_PER_MONTH = 365.25 / 12
"""Panel time runs in months of this many days: the average month of the Gregorian year with its leap days."""

PASSWORD_MIN = 12
"""The fewest characters an account's password may have (the store refuses shorter; the CLI says so)."""
