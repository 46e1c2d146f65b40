"""The web benchmark's floor: ``kantelmeter serve`` whose store costs nothing on the page's POST.

The invitation look-up is remembered per link after its first call (the
GET that opens the form) and ``Store.save_page`` stores nothing. What is
left of a POST is the form's own work: HTTP, middleware, the CSRF check,
reading and checking the page, the redirect and the access log. Set against
the bare endpoint, it shows how much of the gap the database could close at
most. Run by ``bench_web.py`` with ``kantelmeter serve``'s arguments.
"""

from __future__ import annotations

import functools

from kantelmeter.cli import main
from kantelmeter.store import Store


def free_store() -> None:
    """Patch the store class: invitation look-ups remembered, page saves dropped."""
    Store.invitation = functools.cache(Store.invitation)  # type: ignore[method-assign]
    Store.save_page = lambda self, response_id, *args, **kwargs: response_id or 1  # type: ignore[method-assign]


if __name__ == "__main__":
    free_store()
    main()
