"""The errors kantelmeter raises for input it cannot use, under one base.

Every error that a user's file, argument or configuration causes derives from
:class:`KantelmeterError`, so a caller (the command line, a notebook) catches
one class and shows its message. Each module keeps its own error (such as
:class:`kantelmeter.scoring.ScoringError`), which also derives from the
built-in error it always was (``ValueError``, ``KeyError``, ``OSError``), so
code that catches those keeps working.

A file of line items or coded fragments is checked completely before
anything is used, and every problem is reported in one error (as pandera's
lazy validation does), each naming the file, row or field, the value and what
is allowed.
"""

from __future__ import annotations

__all__ = ["ExchangeError", "KantelmeterError", "NotFoundError", "ProblemsError"]


class KantelmeterError(Exception):
    """Base of every error kantelmeter raises itself, mostly for input it cannot use; the message says what is allowed.

    Examples
    --------
    >>> from kantelmeter.scoring import ScoringError
    >>> issubclass(ScoringError, KantelmeterError) and issubclass(ScoringError, ValueError)
    True
    """


class NotFoundError(KantelmeterError, KeyError):
    """A name that was asked for (an item, scale, statistic, reference) is not there.

    A ``KeyError``, so that it behaves as a failed look-up, but printed as
    written: a plain ``KeyError`` shows its message in quotes.

    Examples
    --------
    >>> error = NotFoundError("instrument 'soc13' has no item 'soc99'")
    >>> print(error)
    instrument 'soc13' has no item 'soc99'
    >>> isinstance(error, KeyError)
    True
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ExchangeError(KantelmeterError, ValueError):
    """A response file or collection form that cannot be read or written in the form asked for.

    Examples
    --------
    >>> raise ExchangeError("answers.ods: cannot import a .ods file; allowed: .csv, .xlsx, .sav")
    Traceback (most recent call last):
    ...
    kantelmeter.errors.ExchangeError: answers.ods: cannot import a .ods file; allowed: .csv, .xlsx, .sav
    """


class ProblemsError(KantelmeterError, ValueError):
    """Every problem found, one per line; ``problems`` holds them as a list.

    Examples
    --------
    >>> error = ProblemsError(["a.yaml: field 'x' is missing", "a.yaml: field 'y' is not allowed"])
    >>> error.problems[1]
    "a.yaml: field 'y' is not allowed"
    >>> print(error)
    a.yaml: field 'x' is missing
    a.yaml: field 'y' is not allowed
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))
