"""Request safety for the form app: CSRF, login throttling, body limits, headers, quiet logs.

Everything here uses the standard library (:mod:`hmac`, :mod:`secrets`, :mod:`asyncio`):

- **CSRF** (signed double submit): the browser holds a random value in an
  HttpOnly, SameSite=Lax cookie; every form carries the HMAC of that value
  under the server secret. Another site can neither read the cookie nor
  compute the HMAC (OWASP CSRF Prevention Cheat Sheet, "signed double-submit
  cookie"). The secret has at least 256 bits, so the pair a visitor sees
  (cookie and token) cannot be used to find it offline.
- **Login throttling** (:class:`LoginThrottle`): failures counted per user
  name and, separately, per client address, in bounded memory; and
  :class:`VerificationGate`, which lets at most two password checks (argon2,
  64 MiB each) run at once.
- **Body limit** (:class:`BodyLimitMiddleware`): a request body is counted
  while it is read and refused past the limit, before any form is parsed.
- **Identifiers in open answers** (:func:`identifier_errors`): a text answer
  holding a BSN is refused, so it never reaches the store.
- **Headers and logs** (:class:`SafetyMiddleware`): a content security policy
  without inline script or style, no framing, no referrer, no browser
  features, HSTS over https, on every response including error pages; one log
  line per request with every token cut out of the path and control
  characters escaped, in place of the uvicorn access log (which would record
  tokens).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException

from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument, ItemType
from kantelmeter.privacy import find_bsns
from kantelmeter.web.forms import FieldError, Page

__all__ = [
    "BodyLimitMiddleware",
    "LoginThrottle",
    "SafetyMiddleware",
    "VerificationBusy",
    "VerificationGate",
    "csrf_matches",
    "csrf_token",
    "identifier_errors",
    "log_path",
    "new_csrf_secret",
]

log = logging.getLogger("kantelmeter.web")

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"),
    (b"cache-control", b"no-store"),
]
# Sent only over https (a browser ignores it over http): two years, as hstspreload.org asks.
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


def _mac(secret: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(secret, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_csrf_secret() -> str:
    """A fresh random value for the CSRF cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def csrf_token(secret: bytes, cookie: str) -> str:
    """The token a form carries for this browser's CSRF cookie."""
    return _mac(secret, "csrf", cookie)


def csrf_matches(secret: bytes, cookie: str | None, submitted: str | None) -> bool:
    """Whether a submitted form token belongs to the browser's CSRF cookie.

    Examples
    --------
    >>> token = csrf_token(b"s" * 32, "abc")
    >>> csrf_matches(b"s" * 32, "abc", token), csrf_matches(b"s" * 32, "abd", token), csrf_matches(b"s" * 32, None, token)
    (True, False, False)
    >>> csrf_matches(b"s" * 32, "abc", "\x80")
    False
    """
    if not cookie or not submitted:
        return False
    # compared as bytes: compare_digest refuses a str with characters outside ASCII, which anyone can send
    return hmac.compare_digest(submitted.encode(), csrf_token(secret, cookie).encode())


def identifier_errors(instrument: Instrument, page: Page, answers: dict[str, object]) -> dict[str, FieldError]:
    """An error for each open answer on a page that holds a number passing the BSN eleven-test.

    Identifier items are left out: their answers are pseudonymised by the store.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> from kantelmeter.web.forms import pages
    >>> citizen = load_instrument("citizen")
    >>> page = next(p for p in pages(citizen, "intake") if any(i.id == "expectation_text" for i in p.items))
    >>> identifier_errors(citizen, page, {"expectation_text": "Mijn BSN is 111222333"})
    {'expectation_text': FieldError(key='bsn_in_text', params={})}
    >>> identifier_errors(citizen, page, {"expectation_text": "Hulp bij 2 dingen"})
    {}
    """
    return {
        item.id: FieldError("bsn_in_text")
        for item in page.items
        if item.type is ItemType.text
        and not item.identifier
        and isinstance(answers.get(item.id), str)
        and find_bsns(answers[item.id])
    }


class LoginThrottle:
    """Block sign-in for a user name, and for a client address, after too many failures.

    Counted apart, so that many user names tried from one address and one
    user name tried from many addresses are both stopped. A success clears
    the user name's failures, not the address's. Memory is bounded: at most
    ``capacity`` names and addresses are tracked, the oldest forgotten first.

    Parameters
    ----------
    limit : int
        Failures allowed for one user name within ``window`` seconds.
    address_limit : int
        Failures allowed from one address (an office behind one router has
        several interviewers, hence a higher limit).
    window : float
    clock : callable, optional
    capacity : int

    Examples
    --------
    >>> now = [0.0]
    >>> throttle = LoginThrottle(limit=2, address_limit=3, window=900, clock=lambda: now[0])
    >>> throttle.fail("10.0.0.1", "ann"); throttle.fail("10.0.0.2", "ann")
    >>> throttle.blocked("10.0.0.3", "ann"), throttle.blocked("10.0.0.3", "bob")  # ann, from anywhere
    (True, False)
    >>> throttle.fail("10.0.0.3", "bob"); throttle.fail("10.0.0.3", "cy"); throttle.fail("10.0.0.3", "di")
    >>> throttle.blocked("10.0.0.3", "eve"), throttle.blocked("10.0.0.4", "eve")  # that address, any name
    (True, False)
    >>> now[0] = 901.0
    >>> throttle.blocked("10.0.0.3", "ann")
    False
    """

    def __init__(
        self,
        limit: int = 5,
        address_limit: int = 20,
        window: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        capacity: int = 10_000,
    ):
        self.limit, self.address_limit, self.window, self.clock = limit, address_limit, window, clock
        self.capacity = capacity
        self._failures: dict[tuple[str, str], deque[float]] = {}

    @staticmethod
    def _keys(address: str, username: str) -> tuple[tuple[str, str], tuple[str, str]]:
        return ("user", username.lower()[:64]), ("address", address)

    def _count(self, key: tuple[str, str]) -> int:
        failures = self._failures.get(key)
        while failures and self.clock() - failures[0] > self.window:
            failures.popleft()
        if failures is not None and not failures:
            del self._failures[key]
        return len(failures or ())

    def blocked(self, address: str, username: str) -> bool:
        user, origin = self._keys(address, username)
        return self._count(user) >= self.limit or self._count(origin) >= self.address_limit

    def fail(self, address: str, username: str) -> None:
        for key, limit in zip(self._keys(address, username), (self.limit, self.address_limit)):
            self._count(key)
            self._failures.setdefault(key, deque(maxlen=limit)).append(self.clock())
        while len(self._failures) > self.capacity:
            del self._failures[next(iter(self._failures))]

    def succeed(self, address: str, username: str) -> None:
        self._failures.pop(self._keys(address, username)[0], None)


class VerificationBusy(KantelmeterError):
    """No password check could start in time: the server is busy checking others."""


class VerificationGate:
    """Run at most ``concurrent`` password checks at once; a caller waits ``wait`` seconds for a turn.

    An argon2 check takes 64 MiB for a fraction of a second: without a gate a
    burst of sign-in attempts takes as much memory as it has requests.

    Examples
    --------
    >>> import asyncio
    >>> gate = VerificationGate(concurrent=1, wait=0.01)
    >>> async def slow():
    ...     await asyncio.sleep(0.2)
    ...     return "checked"
    >>> async def two_at_once():
    ...     return await asyncio.gather(gate.run(slow), gate.run(slow), return_exceptions=True)
    >>> [type(r).__name__ if isinstance(r, Exception) else r for r in asyncio.run(two_at_once())]
    ['checked', 'VerificationBusy']
    """

    def __init__(self, concurrent: int = 2, wait: float = 5.0):
        self.wait = wait
        self._slots = asyncio.Semaphore(concurrent)

    async def run(self, check: Callable[[], Awaitable[bool]]) -> bool:
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait)
        except TimeoutError:
            raise VerificationBusy() from None
        try:
            return await check()
        finally:
            self._slots.release()


# A run of 16 or more token characters is never a route name: invitation tokens, session ids, guesses at them.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_-]{16,}")
# A survey letter's login code is short enough to type, so it is redacted by its place: /c/CODE.
_LOGIN_CODE = re.compile(r"^(/+c/)[^/?]+")


def log_path(path: str) -> str:
    r"""A request path fit for a log: every token-like run replaced by ``***``, controls and spaces escaped.

    Examples
    --------
    >>> log_path("/r/Zx8_abc-123-xyz-0987654/background")
    '/r/***/background'
    >>> log_path("//r/Zx8_abc-123-xyz-0987654"), log_path("/login")
    ('//r/***', '/login')
    >>> log_path("/x\nGET /fake 200")  # a forged second log line stays on this one
    '/x\\nGET%20/fake%20200'
    >>> log_path("/c/K7QMX-4RT9B")
    '/c/***'
    """
    escaped = path.encode("unicode_escape").decode("ascii").replace(" ", "%20")
    return _TOKEN_LIKE.sub("***", _LOGIN_CODE.sub(r"\1***", escaped))


class BodyLimitMiddleware:
    """ASGI middleware: refuse a request body larger than ``max_body`` bytes with 413, while it is read.

    A declared ``Content-Length`` over the limit is refused when the app first
    asks for the body; a body without one (chunked) is counted as it arrives.
    Either way no more than the limit is held, and no form is parsed. The
    refusal is an :class:`~starlette.exceptions.HTTPException`, so the app's
    own error page answers it.
    """

    def __init__(self, app, max_body: int = 64 * 1024):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
        received = 0

        async def counted_receive():
            nonlocal received
            if not declared.isdigit() or int(declared) > self.max_body:
                raise HTTPException(413)
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise HTTPException(413)
            return message

        await self.app(scope, counted_receive, send)


class SafetyMiddleware:
    """ASGI middleware: security headers on every response, one redacted log line per request.

    An error the app did not handle becomes ``error_page(scope)`` with status
    500 and the same headers (Starlette's own 500 answer would come from
    outside this middleware, without them); the log gets the exception.
    The query string is never logged: it may carry a respondent's choice of
    page, and nothing else in it is needed to read a log.
    """

    def __init__(self, app, error_page: Callable[[dict], str] | None = None):
        self.app, self.error_page = app, error_page

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = None
        headers = SECURITY_HEADERS + ([HSTS] if scope.get("scheme") == "https" else [])

        async def send_with_headers(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = list(message.get("headers", [])) + headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("%s %s failed", _escaped(scope["method"]), log_path(scope["path"]))
            if status is None:
                await self._server_error(scope, send_with_headers)
        finally:
            log.info(
                "%s %s %d %.1fms",
                _escaped(scope["method"]),
                log_path(scope["path"]),
                status or 500,
                (time.perf_counter() - started) * 1000,
            )

    async def _server_error(self, scope, send) -> None:
        try:
            body = self.error_page(scope).encode() if self.error_page else b""
        except Exception:
            log.exception("the error page itself failed")
            body = b""
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _escaped(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")
