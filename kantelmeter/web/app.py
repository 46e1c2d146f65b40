"""The form app: respondents answer by invitation link, interviewers sign in.

:func:`create_app` builds a Starlette application around a
:class:`kantelmeter.store.Store`. It renders any instrument from its YAML,
one section per page, and hands every page of answers to the store as it is
submitted, so a respondent can stop and resume. The app holds no answers of
its own: the store is the only state that matters, which is what lets a
server be killed and restarted without losing an acknowledged page.

Routes
------
``/r/{token}``
    Respondent mode. The token opens exactly one respondent, instrument and
    occasion; a completed response shows a thank-you page and stays locked.
``/privacy``
    The privacy statement of the deployment's survey settings, linked from every page.
``/login``, ``/logout``, ``/interviewer``, ``/interviewer/start``, ``/interviewer/responses/{id}``
    Interviewer mode: sign in, see completion counts (never answer values),
    pick or create a respondent and fill in a questionnaire with them.

Who may open each route is decided by :mod:`kantelmeter.web.access`; a
session is a record in the store, named by a random id in the cookie. Every
form carries a CSRF token and a submission key; request limits, headers and
logs are in :mod:`kantelmeter.web.security`.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cached_property, partial, wraps
from urllib.parse import quote, urlencode

import pandas as pd
from anyio import CapacityLimiter, to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kantelmeter.contract import RESPONDENT_IDENTIFIERS
from kantelmeter.instruments import Instrument, list_instruments, load_instrument
from kantelmeter.privacy import BSNError, find_bsns
from kantelmeter.store import SESSION_LIFETIME, Account, ResponseLocked, Store, StoreError
from kantelmeter.store.schema import WORKER_THREADS, questionnaire_threads
from kantelmeter.web import access, flow, forms
from kantelmeter.web.carry import carried_answers
from kantelmeter.web.i18n import choose_language, translate
from kantelmeter.web.render import environment, item_views, submitted_values
from kantelmeter.web.secret import MIN_SECRET_BYTES, SecretError
from kantelmeter.web.security import (
    BodyLimitMiddleware,
    LoginThrottle,
    SafetyMiddleware,
    VerificationBusy,
    VerificationGate,
    csrf_matches,
    csrf_token,
    identifier_errors,
    new_csrf_secret,
)
from kantelmeter.web.settings import SurveySettings

__all__ = ["create_app", "invitation_links", "serve"]

CSRF_COOKIE = "km_csrf"
SESSION_COOKIE = "km_session"
LANG_COOKIE = "km_lang"
MAX_BODY = 64 * 1024
IDENTIFIERS = RESPONDENT_IDENTIFIERS
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,128}$")  # at least 22 url-safe characters: 132 bits


@dataclass(frozen=True)
class Target:
    """The response a form fills in and where its pages live."""

    instrument: Instrument
    occasion: str
    base: str
    response: int | None
    status: str | None
    respondent: str
    source: str
    interviewer: str | None = None


class _SignIn(Exception):
    """Raised by interviewer pages for a request without a valid session."""


class _NotAllowed(Exception):
    """Raised for a signed-in user whose role the route's rule does not admit."""


def create_app(
    store: Store,
    *,
    secret: bytes | None = None,
    instruments: Iterable[Instrument] = (),
    throttle: LoginThrottle | None = None,
    max_body: int = MAX_BODY,
    survey: SurveySettings | None = None,
) -> Starlette:
    """The form app around a store.

    Parameters
    ----------
    store : Store
    secret : bytes, optional
        Signs CSRF tokens; at least 32 bytes. Give the same secret to every
        process serving one store (and across restarts) so open forms stay
        valid (:func:`kantelmeter.web.secret.form_secret`); a random one is
        made otherwise.
    instruments : iterable of Instrument, optional
        Instruments interviewers may administer besides the shipped ones
        (invitation links always use the instrument registered in the store).
    throttle : LoginThrottle, optional
        The sign-in limiter; by default five failures per user name and
        twenty per address in fifteen minutes.
    max_body : int
        The largest request body accepted, in bytes (64 KiB by default:
        a page of answers is a few KiB).
    survey : SurveySettings, optional
        Whose form it is: name, logo, colours, contact and privacy statement
        (see :mod:`kantelmeter.web.settings`); neutral defaults otherwise.

    Returns
    -------
    starlette.applications.Starlette
    """
    if secret is not None and len(secret) < MIN_SECRET_BYTES:
        raise SecretError(f"the secret has {len(secret)} bytes; allowed: at least {MIN_SECRET_BYTES}")
    app = _FormApp(
        store, secret or secrets.token_bytes(32), instruments, throttle or LoginThrottle(), survey or SurveySettings()
    )
    routes = [
        Route("/", app.home),
        Route("/privacy", app.privacy),
        Route("/survey/theme.css", app.theme),
        Route("/survey/logo", app.logo),
        Route("/r/{token}", app.respondent, methods=["GET", "POST"]),
        Route("/c/{code}", app.login_code),
        Route("/login", app.login, methods=["GET", "POST"]),
        Route("/logout", app.logout, methods=["POST"]),
        Route("/interviewer", app.overview),
        Route("/interviewer/start", app.start, methods=["GET", "POST"]),
        Route("/interviewer/responses/{response:int}", app.interview, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(packages=[("kantelmeter.web", "static")]), name="static"),
    ]
    return Starlette(
        lifespan=_worker_threads,
        routes=[app.guarded(route) for route in routes],
        middleware=[
            Middleware(SafetyMiddleware, error_page=app.server_error_page),
            Middleware(BodyLimitMiddleware, max_body=max_body),
        ],
        exception_handlers={_SignIn: app.sign_in_first, _NotAllowed: app.not_allowed, HTTPException: app.http_error},
    )


@asynccontextmanager
async def _worker_threads(app: Starlette) -> AsyncIterator[None]:
    """The app's blocking calls run on :data:`~kantelmeter.store.schema.WORKER_THREADS` threads.

    The questionnaire's pages have a lane of their own besides (:meth:`_FormApp.answer`). The
    store's connection pool is sized to both; anyio's default of 40 threads spent a quarter
    of a POST's CPU on handing the GIL from one to another.
    """
    to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    yield


def invitation_links(
    store: Store,
    instrument: Instrument,
    occasion: str,
    count: int,
    cohort: str | None = None,
    base_url: str = "http://127.0.0.1:8000",
) -> list[str]:
    """Create invitations, each for a new respondent, and return their links.

    The links are the only copy of the tokens (the store keeps their hashes):
    hand them out and keep the list as safe as the answers.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from kantelmeter import load_instrument
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
    >>> links = invitation_links(store, load_instrument("soc13"), "intake", 2, base_url="https://form.example.nl/")
    >>> [link[:len("https://form.example.nl/r/")] for link in links]
    ['https://form.example.nl/r/', 'https://form.example.nl/r/']
    >>> len(set(links)), store.invitation(links[0].rsplit("/", 1)[1]).occasion
    (2, 'intake')
    """
    store.register_instrument(instrument)
    tokens = store.create_invitations(instrument, occasion, count, cohort=cohort)
    return [f"{base_url.rstrip('/')}/r/{token}" for token in tokens]


def serve(
    store: Store,
    host: str = "127.0.0.1",
    port: int = 8000,
    instruments: Iterable[Instrument] = (),
    trusted_proxies: Iterable[str] = (),
    max_body: int = MAX_BODY,
    survey: SurveySettings | None = None,
) -> None:
    """Run the form app with uvicorn until interrupted.

    The secret that signs forms is :func:`kantelmeter.web.secret.form_secret`:
    ``KANTELMETER_SECRET`` (at least 32 bytes), else a secret file beside the
    store's key file, kept across restarts. ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` are read only from ``trusted_proxies`` (addresses or
    networks of the reverse proxy in front); from anyone else they are
    ignored, so a client cannot pick its own address for the login throttle.
    The uvicorn access log is off: it would record invitation tokens; the app
    logs redacted paths instead.
    """
    import logging

    import uvicorn

    from kantelmeter.web.secret import form_secret

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(
        store,
        secret=form_secret(store.pseudonymiser.key_file),
        instruments=instruments,
        max_body=max_body,
        survey=survey,
    )
    proxies = list(trusted_proxies)
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,
        log_level="info",
        server_header=False,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )


class _FormApp:
    """The request handlers; one instance per app, sharing the store and the secret."""

    def __init__(
        self,
        store: Store,
        secret: bytes,
        instruments: Iterable[Instrument],
        throttle: LoginThrottle,
        survey: SurveySettings,
    ):
        self.store, self.secret, self.throttle, self.survey = store, secret, throttle, survey
        self.gate = VerificationGate()
        self.lane = CapacityLimiter(questionnaire_threads(store.engine.dialect.name))
        self.extra = {i.id: i for i in instruments}
        self.env = environment()

    @cached_property
    def catalogue(self) -> dict[str, Instrument]:
        """The instruments an interviewer may choose; loaded on first use, as respondents never need them."""
        return {i.id: i for i in (load_instrument(name) for name in list_instruments())} | self.extra

    # --- who may open what -----------------------------------------------------

    def guarded(self, route: Route | Mount) -> Route | Mount:
        """The route with its rule from :mod:`kantelmeter.web.access` enforced; a route without one is refused."""
        roles = access.rule(route.path)
        if isinstance(roles, str):  # public, or opened by the invitation token the page checks
            return route
        endpoint = route.endpoint

        @wraps(endpoint)
        async def signed_in_only(request: Request) -> Response:
            account = await run_in_threadpool(self.store.session, request.cookies.get(SESSION_COOKIE))
            if account is None:
                raise _SignIn()
            if account.role not in roles:
                raise _NotAllowed()
            request.state.account = account
            return await endpoint(request)

        return Route(route.path, signed_in_only, methods=route.methods)

    # --- rendering ------------------------------------------------------------

    def page(
        self,
        request: Request,
        template: str,
        context: Mapping[str, object],
        status: int = 200,
        user: str | None = None,
        lang: str | None = None,
    ) -> HTMLResponse:
        """A rendered page with the shared context, and the cookies it needs set.

        ``lang`` overrides the request's language (a language switch posted with the answers).
        """
        chosen, lang = lang, lang or self.lang(request)
        cookie = request.cookies.get(CSRF_COOKIE) or new_csrf_secret()
        query = dict(request.query_params) | {"lang": "en" if lang == "nl" else "nl"}
        # A query-only link stays on this path: the path itself (say //evil.example/x) never becomes a link.
        html = self.env.get_template(template).render(
            lang=lang,
            csrf=csrf_token(self.secret, cookie),
            user=user,
            survey=self.survey,
            switch_url=f"?{urlencode(query)}",
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        if CSRF_COOKIE not in request.cookies:
            self.cookie(request, response, CSRF_COOKIE, cookie)
        if request.query_params.get("lang") == lang or chosen:
            self.cookie(request, response, LANG_COOKIE, lang, max_age=365 * 24 * 3600)
        return response

    @staticmethod
    def cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(
            name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https"
        )

    @staticmethod
    def lang(request: Request) -> str:
        return choose_language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))

    def message(
        self,
        request: Request,
        title: str,
        text: str,
        status: int = 200,
        link: str | None = None,
        link_text: str = "",
        user: str | None = None,
    ) -> HTMLResponse:
        lang = self.lang(request)
        return self.page(
            request,
            "message.html",
            {"title": translate(title, lang), "text": translate(text, lang), "link": link, "link_text": link_text},
            status,
            user,
        )

    async def http_error(self, request: Request, exc: HTTPException) -> HTMLResponse:
        """An error page that names no detail: a refused form, a link that does not work, a body too large."""
        if exc.status_code == 403:  # only a CSRF mismatch raises it: the form was opened before a restart, or elsewhere
            return self.message(
                request,
                "expired_title",
                "expired_text",
                403,
                link=_here(request),
                link_text=translate("back_to_form", self.lang(request)),
            )
        if exc.status_code == 413:
            return self.message(request, "too_large_title", "too_large_text", 413)
        if exc.status_code == 404:
            return self.message(request, "not_found_title", "not_found_text", 404)
        return self.message(request, "error_title", "error_text", exc.status_code)

    async def not_allowed(self, request: Request, exc: Exception) -> HTMLResponse:
        return self.message(
            request,
            "not_allowed_title",
            "not_allowed_text",
            403,
            link="/interviewer",
            link_text=translate("to_overview", self.lang(request)),
        )

    def server_error_page(self, scope: dict) -> str:
        """The page for an error no handler expected (see :class:`SafetyMiddleware`): no detail at all."""
        return self.message(Request(scope), "error_title", "error_text", 500).body.decode()

    async def sign_in_first(self, request: Request, exc: Exception) -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    async def form(self, request: Request) -> FormData:
        """The submitted form, refused with 403 unless its CSRF token matches the cookie."""
        form = await request.form()
        if not csrf_matches(self.secret, request.cookies.get(CSRF_COOKIE), form.get("csrf")):
            raise HTTPException(403)
        return form

    # --- respondent mode ------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/interviewer", status_code=303)

    async def respondent(self, request: Request) -> Response:
        return await self.answer(request, partial(self.invitation_target, request.path_params["token"]))

    async def answer(self, request: Request, find: Callable[[], Target]) -> Response:
        """Show a page of the questionnaire, or take one in; a refused form token re-shows what was typed.

        ``find`` looks up whose response it is (raising 404). The body of a post is read first, on
        the event loop (at most ``max_body`` bytes), so that the look-up, the form check and the
        save are one call on a worker thread: each hop between the loop and a thread costs a
        fraction of a millisecond of CPU, on the one core the web form runs on. That thread is the
        questionnaire's lane (:func:`~kantelmeter.store.schema.questionnaire_threads`).
        """
        form = await request.form() if request.method == "POST" else None
        return await to_thread.run_sync(self.take, request, find, form, limiter=self.lane)

    def take(self, request: Request, find: Callable[[], Target], form: FormData | None) -> Response:
        """:meth:`answer` on the worker thread."""
        target = find()
        if form is None:
            return self.show(request, target)
        if not csrf_matches(self.secret, request.cookies.get(CSRF_COOKIE), form.get("csrf")):
            return self.reshow(request, target, form)
        return self.submit(request, target, form)

    async def login_code(self, request: Request) -> Response:
        """A survey letter's login code, typed as ``/c/CODE``: on to the letter's form with a fresh link."""
        found = await run_in_threadpool(self.store.invitation_by_code, request.path_params["code"][:32])
        if found is None:
            raise HTTPException(404)
        return RedirectResponse(f"/r/{found[0]}", status_code=303)

    def invitation_target(self, token: str) -> Target:
        """The response an invitation link opens; 404 for a link that does not work."""
        invitation = self.store.invitation(token) if TOKEN.match(token) else None
        if invitation is None:
            raise HTTPException(404)
        return Target(
            self.store.instrument(invitation.instrument, invitation.version),
            invitation.occasion,
            f"/r/{token}",
            invitation.response,
            invitation.status,
            invitation.respondent,
            "web",
        )

    # --- the frame around the questionnaire -------------------------------------

    async def privacy(self, request: Request) -> HTMLResponse:
        lang = self.lang(request)
        return self.page(request, "privacy.html", {"title": translate("privacy_title", lang)})

    async def theme(self, request: Request) -> Response:
        """The house colours as CSS custom properties (a style sheet of its own: the CSP allows no inline style)."""
        colours = self.survey.colours
        css = f":root {{ --accent: {colours.primary}; --accent-ink: {colours.on_primary}; }}\n"
        return Response(css, media_type="text/css")

    async def logo(self, request: Request) -> Response:
        if self.survey.logo is None:
            raise HTTPException(404)
        return FileResponse(self.survey.logo)

    def welcome(self, request: Request, target: Target, all_pages: list[forms.Page]) -> HTMLResponse:
        lang = self.lang(request)
        items = target.instrument.items_at(target.occasion)
        return self.page(
            request,
            "welcome.html",
            {
                "title": translate("welcome_title", lang),
                "instrument_title": target.instrument.title[lang],
                "minutes": self.survey.minutes_for(len(items)),
                "parts": len(all_pages),
                "start": f"{target.base}?{urlencode({'page': all_pages[0].id})}",
            },
        )

    def welcome_back(
        self, request: Request, target: Target, all_pages: list[forms.Page], answers: Mapping[str, object]
    ) -> HTMLResponse:
        lang = self.lang(request)
        where = flow.position(target.instrument, all_pages, answers)
        carry_on = flow.REVIEW if where.done else where.page.id
        return self.page(
            request,
            "welcome_back.html",
            {
                "title": translate("welcome_back_title", lang),
                "where": where,
                "next": f"{target.base}?{urlencode({'page': carry_on})}",
            },
        )

    def review_page(self, request: Request, target: Target, answers: Mapping[str, object]) -> HTMLResponse:
        lang = self.lang(request)
        return self.page(
            request,
            "review.html",
            {
                "title": translate("review_title", lang),
                "instrument_title": target.instrument.title[lang],
                "parts": flow.review(target.instrument, target.occasion, answers, lang),
                "action": target.base,
                "base": target.base,
                "submission": secrets.token_urlsafe(16),
                "respondent": target.respondent if target.interviewer else None,
            },
            user=target.interviewer,
        )

    # --- the questionnaire, shared by both modes -------------------------------

    def answers(self, target: Target) -> dict[str, object]:
        """What is stored for the response, with the answers it carries from an earlier occasion until they are."""
        stored = self.store.answers(target.response) if target.response else {}
        carried = [c for item in target.instrument.carried(target.occasion) for c in target.instrument.columns_of(item)]
        if all(column in stored for column in carried):  # nothing carried, or saved with the first page
            return stored
        return carried_answers(self.store, target.instrument, target.occasion, target.respondent) | stored

    def show(self, request: Request, target: Target) -> Response:
        """A page of the questionnaire: the one asked for, the review, or a welcome (back) page."""
        if target.status == "complete":
            return self.finished(request, target)
        instrument = target.instrument
        answers = self.answers(target)
        all_pages = forms.pages(instrument, target.occasion)
        asked = request.query_params.get("page")
        if asked == flow.REVIEW and answers:  # nothing to review before a first answer is stored
            return self.review_page(request, target, answers)
        if asked is None and not target.interviewer:
            if target.response is None:
                return self.welcome(request, target, all_pages)
            return self.welcome_back(request, target, all_pages, answers)
        wanted = next((p for p in all_pages if p.id == asked), None)
        if wanted is None or not forms.visible_items(instrument, wanted, answers):
            wanted = forms.resume_page(instrument, all_pages, answers)
        values = submitted_values(instrument, wanted.items, answers)
        errors = {}
        if request.query_params.get("check"):
            errors = forms.read_page(instrument, wanted, values, answers).errors
        return self.questionnaire(
            request,
            target,
            wanted,
            answers,
            values,
            errors,
            added=bool(request.query_params.get("added")),
            from_review=request.query_params.get("from") == flow.REVIEW,
        )

    def questionnaire(
        self,
        request: Request,
        target: Target,
        page: forms.Page,
        answers: Mapping[str, object],
        values: Mapping[str, list[str]],
        errors: Mapping[str, forms.FieldError],
        added: bool = False,
        status: int = 200,
        *,
        typed: bool = False,
        from_review: bool = False,
        lang: str | None = None,
        notice: str | None = None,
    ) -> HTMLResponse:
        """Draw a page; ``typed`` when ``values`` are what the browser sent rather than what is stored."""
        instrument, chosen, lang = target.instrument, lang, lang or self.lang(request)
        all_pages = forms.pages(instrument, target.occasion)
        current = {**answers, **forms.read_page(instrument, page, values, answers, check_required=False).answers}
        shown = [item.id for item in forms.visible_items(instrument, page, current)]
        views = item_views(
            instrument,
            page.items,
            lang,
            values,
            errors=errors,
            visible=shown,
            numbers=instrument.question_numbers(target.occasion),
        )
        for view, item in zip(views, page.items):
            if item.identifier:
                # Stored as a pseudonym and never shown back; what was typed a moment ago is, after an error.
                stored = answers.get(item.id)
                view.stored = translate("identifier_stored", lang, pseudonym=stored) if stored else None
                view.value = view.value if typed else ""
        referred = {name for item in page.items if item.show_if for name in forms.condition_items(item)}
        earlier = forms.item_values(instrument, answers)
        context = {
            "title": page.section.title[lang],
            "intro": page.section.intro[lang] if page.section.intro else None,
            "instrument_title": instrument.title[lang],
            "respondent": target.respondent if target.interviewer else None,
            "views": views,
            "position": [p.number for p in all_pages].index(page.number) + 1,
            "total": len(all_pages),
            "last": forms.next_page(instrument, all_pages, page, current) is None,
            "has_previous": forms.previous_page(instrument, all_pages, page, current) is not None,
            "action": target.base,
            "page_id": page.id,
            "shown": ",".join(shown),
            "submission": secrets.token_urlsafe(16),
            "earlier": json.dumps(
                {
                    name: sorted(value) if isinstance(value, set) else value
                    for name, value in earlier.items()
                    if name in referred and value is not None and name not in {item.id for item in page.items}
                }
            ),
            "added": added,
            "from_review": from_review,
            "notice": translate(notice, lang) if notice else None,
            "switch_form": True,
        }
        return self.page(request, "page.html", context, status, target.interviewer, lang=chosen)

    def finished(self, request: Request, target: Target) -> HTMLResponse:
        if target.interviewer:
            return self.message(
                request,
                "thanks_title",
                "interview_done",
                link="/interviewer",
                link_text=translate("to_overview", self.lang(request)),
                user=target.interviewer,
            )
        return self.page(request, "closing.html", {"title": translate("thanks_title", self.lang(request))})

    def reshow(self, request: Request, target: Target, form: FormData) -> Response:
        """A post whose form token did not match (a lost or blocked cookie, a form open too long).

        Nothing is saved, as the post cannot be trusted; the answers sent are
        shown again, with a fresh token, for the respondent to check and send.
        """
        if target.status == "complete":
            return self.finished(request, target)
        all_pages = forms.pages(target.instrument, target.occasion)
        page = next((p for p in all_pages if p.id == form.get("page")), None)
        if page is None:
            return self.message(
                request,
                "expired_title",
                "expired_text",
                403,
                link=target.base,
                link_text=translate("back_to_form", self.lang(request)),
                user=target.interviewer,
            )
        answers = self.answers(target)
        values = {key: form.getlist(key) for key in form.keys()}
        # the language the page was in travels with the form, as the cookie that held it may be gone too
        return self.questionnaire(
            request,
            target,
            page,
            answers,
            values,
            {},
            status=403,
            typed=True,
            from_review=form.get("return") == flow.REVIEW,
            notice="not_saved_text",
            lang=choose_language(str(form.get("lang", "")), request.cookies.get(LANG_COOKIE)),
        )

    def submit(self, request: Request, target: Target, form: FormData) -> Response:
        """Read a submitted page, save it in one transaction and send the browser on.

        A page with errors is shown again with the typed values and nothing is
        saved. The submission key makes a repeated post (a double click, a
        retry after a lost connection) a no-op in the store. A language switch
        posts the page too, so nothing typed is lost; only the review page's
        button completes the response.
        """
        if target.status == "complete":
            return RedirectResponse(target.base, status_code=303)
        instrument = target.instrument
        all_pages = forms.pages(instrument, target.occasion)
        action = str(form.get("action", "next"))
        answers = self.answers(target)
        if form.get("page") == flow.REVIEW and action == "send":
            return self.send(target, all_pages, answers, str(form.get("submission")))
        page = next((p for p in all_pages if p.id == form.get("page")), None)
        if page is None:
            return RedirectResponse(target.base, status_code=303)
        switch = action.removeprefix("lang:") if action.startswith("lang:") else None
        going_back = action == "previous"
        from_review = form.get("return") == flow.REVIEW
        values = {key: form.getlist(key) for key in form.keys()}
        result = forms.read_page(instrument, page, values, answers, check_required=not (going_back or switch))
        # Items an answer revealed on this page in a browser without the page script were never
        # seen: they are shown before moving on, not flagged as unanswered.
        added = set(result.shown) - set(str(form.get("shown", "")).split(","))
        errors = {
            item: error for item, error in result.errors.items() if not (item in added and error.key == "required")
        }
        errors = identifier_errors(instrument, page, result.answers) | errors
        if errors:
            return self.questionnaire(
                request,
                target,
                page,
                answers,
                values,
                errors,
                status=422,
                typed=True,
                from_review=from_review,
                lang=choose_language(switch, None) if switch else None,
            )
        settled = forms.settle(instrument, {**answers, **result.answers})
        changes = {
            column: value
            for column, value in settled.items()
            if column in result.answers or (value is None and answers.get(column) is not None)
        }
        changes |= {
            column: answers[column]
            for item in instrument.carried(target.occasion)
            for column in instrument.columns_of(item)
            if answers.get(column) is not None
        }
        destination = self.destination(
            target, all_pages, page, settled, added=bool(added), action=action, from_review=from_review
        )
        try:
            self.store.save_page(
                target.response,
                target.respondent,
                instrument,
                target.occasion,
                changes,
                source=target.source,
                submission=str(form.get("submission")),
                actor=target.interviewer or "respondent",
            )
        except ResponseLocked:
            destination = target.base
        return RedirectResponse(destination, status_code=303)

    @staticmethod
    def destination(
        target: Target,
        all_pages: list[forms.Page],
        page: forms.Page,
        settled: Mapping[str, object],
        *,
        added: bool,
        action: str,
        from_review: bool,
    ) -> str:
        """Where the browser goes after a saved page: back, on, to the review or to an open question."""
        instrument = target.instrument
        here = {"page": page.id} | ({"from": flow.REVIEW} if from_review else {})
        if action.startswith("lang:"):
            return f"{target.base}?{urlencode(here | {'lang': action.removeprefix('lang:')})}"
        if action == "previous":
            before = forms.previous_page(instrument, all_pages, page, settled) or page
            return f"{target.base}?{urlencode({'page': before.id})}"
        if added:
            return f"{target.base}?{urlencode(here | {'added': 1})}"
        after = None if from_review else forms.next_page(instrument, all_pages, page, settled)
        if after is not None:
            return f"{target.base}?{urlencode({'page': after.id})}"
        if (open_page := forms.incomplete(instrument, all_pages, settled)) is not None:
            return f"{target.base}?{urlencode({'page': open_page.id, 'check': 1})}"
        return f"{target.base}?{urlencode({'page': flow.REVIEW})}"

    def send(
        self, target: Target, all_pages: list[forms.Page], answers: Mapping[str, object], submission: str
    ) -> RedirectResponse:
        """The review page's button: complete and lock the response, unless a required question is still open."""
        if target.response is None:
            return RedirectResponse(target.base, status_code=303)
        if (open_page := forms.incomplete(target.instrument, all_pages, answers)) is not None:
            return RedirectResponse(f"{target.base}?{urlencode({'page': open_page.id, 'check': 1})}", status_code=303)
        try:
            self.store.save_answers(
                target.response, {}, complete=True, submission=submission, actor=target.interviewer or "respondent"
            )
        except ResponseLocked:
            pass  # completed by an earlier click on the same button: the closing page follows either way
        return RedirectResponse(target.base, status_code=303)

    # --- interviewer mode -----------------------------------------------------

    @staticmethod
    def account(request: Request) -> Account:
        """The signed-in account, set by :meth:`guarded` on every route that needs one."""
        return request.state.account

    async def login(self, request: Request) -> Response:
        lang = self.lang(request)
        if request.method == "GET":
            return self.page(request, "login.html", {"title": translate("login_title", lang), "error": None})
        form = await self.form(request)
        username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
        address = request.client.host if request.client else "?"

        def refused(key: str, status: int) -> HTMLResponse:
            return self.page(
                request,
                "login.html",
                {"title": translate("login_title", lang), "username": username[:64], "error": translate(key, lang)},
                status,
            )

        async def check() -> bool | None:
            # Checked again once a turn came: failures recorded while this request waited count too.
            if self.throttle.blocked(address, username):
                return None
            return await run_in_threadpool(self.store.verify_user, username, password)

        if self.throttle.blocked(address, username):
            return refused("login_blocked", 429)
        try:
            ok = await self.gate.run(check) if 0 < len(username) <= 64 else False
        except VerificationBusy:
            return refused("login_busy", 429)
        if ok is None:
            return refused("login_blocked", 429)
        if not ok:
            self.throttle.fail(address, username)
            return refused("login_failed", 401)
        self.throttle.succeed(address, username)
        session = await run_in_threadpool(self.store.open_session, username)
        response = RedirectResponse("/interviewer", status_code=303)
        self.cookie(request, response, SESSION_COOKIE, session, max_age=int(SESSION_LIFETIME.total_seconds()))
        return response

    async def logout(self, request: Request) -> Response:
        await self.form(request)
        await run_in_threadpool(self.store.end_session, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def overview(self, request: Request) -> Response:
        account = self.account(request)
        counts = await run_in_threadpool(self.store.completion)
        lang = self.lang(request)
        return self.page(
            request,
            "overview.html",
            {
                "title": translate("overview_title", lang),
                "rows": completion_table(counts),
                "interviewer": account.role == access.INTERVIEWER,
            },
            user=account.username,
        )

    async def start(self, request: Request) -> Response:
        """Pick a respondent (by pseudonym, or by identifiers that are pseudonymised at once) and begin."""
        user = self.account(request).username
        error, typed = None, {}
        if request.method == "POST":
            form = await self.form(request)
            typed = {name: str(form.get(name, "")) for name in ("questionnaire", "respondent", "cohort", *IDENTIFIERS)}
            try:
                response = await run_in_threadpool(self.begin, form, user)
            except _Refusal as refusal:
                error = refusal.key
            else:
                return RedirectResponse(f"/interviewer/responses/{response}", status_code=303)
        lang = self.lang(request)
        choices = [
            (f"{i.id}:{occasion}", f"{i.title[lang]} · {occasion}")
            for i in self.catalogue.values()
            for occasion in i.occasions
        ]
        return self.page(
            request,
            "start.html",
            {
                "title": translate("respondents_title", lang),
                "choices": choices,
                "error": translate(error, lang) if error else None,
                "typed": typed,
                "identifiers": IDENTIFIERS,
            },
            422 if error else 200,
            user,
        )

    def begin(self, form: FormData, user: str) -> int:
        instrument_id, _, occasion = str(form.get("questionnaire", "")).partition(":")
        instrument = self.catalogue.get(instrument_id)
        if instrument is None or occasion not in instrument.occasions:
            raise _Refusal("invalid_choice")
        identifiers = {kind: str(form.get(kind, "")).strip() for kind in IDENTIFIERS}
        identifiers = {kind: value for kind, value in identifiers.items() if value}
        pseudonym = str(form.get("respondent", "")).strip()
        cohort = str(form.get("cohort", "")).strip() or None
        if cohort and find_bsns(cohort):
            raise _Refusal("bsn_in_text")  # the cohort is stored as typed
        try:
            if identifiers or not pseudonym:
                pseudonym = self.store.add_respondent(cohort=cohort, identifiers=identifiers or None, actor=user)
            response = self.store.start_response(pseudonym, instrument, occasion, "interview", actor=user)
        except KeyError:
            raise _Refusal("unknown_respondent") from None
        except ResponseLocked:
            raise _Refusal("already_complete") from None
        except BSNError:
            raise _Refusal("bsn_invalid") from None
        except StoreError:  # another cohort is stored for this respondent; the page says no more than that
            raise _Refusal("cohort_conflict") from None
        if self.store.interviewer(response) != user:  # begun on the web, or by another interviewer
            raise _Refusal("started_elsewhere")
        return response

    async def interview(self, request: Request) -> Response:
        user = self.account(request).username
        return await self.answer(request, partial(self.interview_target, request.path_params["response"], user))

    def interview_target(self, response: int, user: str) -> Target:
        """The interview ``user`` started; any other response is 'not found' to them, so its existence is not told."""
        if self.store.interviewer(response) != user:
            raise HTTPException(404)
        found = self.store.response_info(response)
        return Target(
            self.store.instrument(found.instrument, found.version),
            found.occasion,
            f"/interviewer/responses/{response}",
            response,
            found.status,
            found.respondent,
            "interview",
            user,
        )


def _here(request: Request) -> str:
    """A link back to the page asked for, relative to it, so no path can make it point off the site."""
    return "./" + quote(request.url.path.rsplit("/", 1)[-1])


class _Refusal(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def completion_table(counts: pd.DataFrame) -> list[dict[str, object]]:
    """Started and completed responses per instrument, occasion and cohort.

    Parameters
    ----------
    counts : DataFrame
        As :meth:`Store.completion` returns it: instrument, occasion, cohort, status, n.

    Examples
    --------
    >>> counts = pd.DataFrame({"instrument": ["citizen"] * 3, "occasion": ["intake"] * 3,
    ...                        "cohort": ["pilot", "pilot", None], "status": ["complete", "partial", "partial"],
    ...                        "n": [4, 2, 1]})
    >>> completion_table(counts)
    [{'instrument': 'citizen', 'occasion': 'intake', 'cohort': '', 'started': 1, 'completed': 0}, {'instrument': 'citizen', 'occasion': 'intake', 'cohort': 'pilot', 'started': 6, 'completed': 4}]
    """
    if counts.empty:
        return []
    frame = counts.assign(
        cohort=counts["cohort"].fillna(""), completed=counts["n"].where(counts["status"] == "complete", 0)
    )
    table = frame.groupby(["instrument", "occasion", "cohort"], as_index=False).agg(
        started=("n", "sum"), completed=("completed", "sum")
    )
    return [
        {key: (int(value) if key in ("started", "completed") else value) for key, value in row.items()}
        for row in table.to_dict("records")
    ]
