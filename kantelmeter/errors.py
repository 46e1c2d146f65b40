"""Errors shared by the modules that check a whole file or argument at once.

A file of line items or coded fragments is checked completely before
anything is used, and every problem is reported in one error (as pandera's
lazy validation does), each naming the file, row or field, the value and what
is allowed.
"""

from __future__ import annotations

__all__ = ["KantelmeterError", "ProblemsError"]


class KantelmeterError(Exception):
    """Base of every error kantelmeter raises for user input..."""


class ProblemsError(ValueError):
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
