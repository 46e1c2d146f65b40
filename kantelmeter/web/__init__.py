"""The web form: renders instruments and hands answers to the store.

``create_app(store)`` builds the application; ``kantelmeter serve`` runs it.
The paper form (``kantelmeter paper``) lives in :mod:`kantelmeter.web.paper`.
"""

from kantelmeter.web.app import create_app, invitation_links, serve
from kantelmeter.web.paper import paper_form, write_paper

__all__ = ["create_app", "invitation_links", "paper_form", "serve", "write_paper"]
