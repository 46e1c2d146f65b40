"""Who may open which page of the form app: one explicit rule per route.

A rule is :data:`PUBLIC` (anyone), :data:`INVITATION` (anyone holding the
invitation token in the path: the token is the key, checked by the page), or
the set of roles (:data:`kantelmeter.store.ROLES`) whose signed-in users may
open it. A route without a rule is refused when the app is built, so a page
cannot be added without deciding who may see it.

Interviewers administer questionnaires and open only the interviews they
started themselves (checked by the page, against the store); evaluators see
the completion counts and never an answer.
"""

from __future__ import annotations

from kantelmeter.store import ROLES

__all__ = ["EVALUATOR", "INTERVIEWER", "INVITATION", "PUBLIC", "RULES", "rule"]

PUBLIC = "public"
INVITATION = "invitation"
INTERVIEWER, EVALUATOR = ROLES

RULES: dict[str, str | frozenset[str]] = {
    "/": PUBLIC,
    "/login": PUBLIC,
    "/privacy": PUBLIC,  # the privacy statement, linked from every page
    "/c/{code}": INVITATION,  # a survey letter's login code is the key, as the token is under /r/
    "/logout": PUBLIC,  # ends whatever session the browser holds; needs the form's CSRF token
    "/static": PUBLIC,
    "/survey/theme.css": PUBLIC,  # the municipality's colours
    "/survey/logo": PUBLIC,  # the municipality's logo
    "/interviewer": frozenset({INTERVIEWER, EVALUATOR}),  # completion counts, never answers
    "/interviewer/start": frozenset({INTERVIEWER}),
    "/interviewer/responses/{response:int}": frozenset({INTERVIEWER}),  # and only one's own interviews
}
"""Route path (as Starlette writes it) to its rule; respondent pages under ``/r/{token}`` are :data:`INVITATION`."""


def rule(path: str) -> str | frozenset[str]:
    """The access rule of a route path.

    Examples
    --------
    >>> rule("/interviewer/start")
    frozenset({'interviewer'})
    >>> rule("/r/{token}"), rule("/r/{token}/review")
    ('invitation', 'invitation')
    >>> rule("/admin")
    Traceback (most recent call last):
    ...
    LookupError: route /admin has no access rule; add one to kantelmeter.web.access.RULES
    """
    if path in RULES:
        return RULES[path]
    if path == "/r/{token}" or path.startswith("/r/{token}/"):
        return INVITATION
    raise LookupError(f"route {path} has no access rule; add one to kantelmeter.web.access.RULES")
