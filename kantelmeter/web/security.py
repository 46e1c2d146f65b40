"""Request safety for the form app: signed values, CSRF, login throttling, headers, quiet logs.

Everything here uses the standard library (:mod:`hmac`, :mod:`secrets`):

- **Signed values** (:class:`Signer`): ``value.signature`` with HMAC-SHA256
  and an issue time, for the interviewer session cookie.
- **CSRF** (signed double submit): the browser holds a random value in an
  HttpOnly, SameSite=Lax cookie; every form carries the HMAC of that value
  under the server secret. Another site can neither read the cookie nor
  compute the HMAC (OWASP CSRF Prevention Cheat Sheet, "signed double-submit
  cookie").
- **Login throttling** (:class:`LoginThrottle`): failures counted per client
  address and user name in memory, blocked after a limit within a window.
- **Headers and logs** (:class:`SafetyMiddleware`): a content security policy
  without inline script or style, no framing, no referrer; one log line per
  request with the invitation token cut out of the path, in place of the
  uvicorn access log (which would record it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable

__all__ = ["LoginThrottle", "SafetyMiddleware", "Signer", "csrf_matches", "csrf_token", "redact_path"]

log = logging.getLogger("kantelmeter.web")

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
     b"frame-ancestors 'none'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


def _mac(secret: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(secret, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Signer:
    """Sign a text with its issue time; read it back only while fresh and untampered.

    Parameters
    ----------
    secret : bytes
    purpose : str
        Separates signatures made for different uses under one secret.
    clock : callable, optional
        Seconds since the epoch; tests pass their own.

    Examples
    --------
    >>> signer = Signer(b"k" * 32, "session", clock=lambda: 1000)
    >>> token = signer.sign("evaluator")
    >>> signer.unsign(token, max_age=60)
    'evaluator'
    >>> signer.unsign("X" + token, max_age=60) is None  # altered
    True
    >>> Signer(b"k" * 32, "session", clock=lambda: 1061).unsign(token, max_age=60) is None
    True
    """

    def __init__(self, secret: bytes, purpose: str, clock: Callable[[], float] = time.time):
        self.secret, self.purpose, self.clock = secret, purpose, clock

    def sign(self, value: str) -> str:
        payload = base64.urlsafe_b64encode(f"{int(self.clock())}:{value}".encode()).rstrip(b"=").decode()
        return f"{payload}.{_mac(self.secret, self.purpose, payload)}"

    def unsign(self, token: str | None, max_age: float) -> str | None:
        """The signed text, or None when the token is missing, altered or older than ``max_age`` seconds."""
        if not token or token.count(".") != 1:
            return None
        payload, signature = token.split(".")
        if not hmac.compare_digest(signature, _mac(self.secret, self.purpose, payload)):
            return None
        issued, _, value = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode().partition(":")
        return value if 0 <= self.clock() - int(issued) <= max_age else None


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
    """
    if not cookie or not submitted:
        return False
    return hmac.compare_digest(submitted, csrf_token(secret, cookie))


class LoginThrottle:
    """Block sign-in for a client address and user name after too many failures.

    Parameters
    ----------
    limit : int
        Failures allowed within ``window`` seconds.
    window : float
    clock : callable, optional

    Examples
    --------
    >>> now = [0.0]
    >>> throttle = LoginThrottle(limit=2, window=900, clock=lambda: now[0])
    >>> throttle.fail("10.0.0.1", "ann"); throttle.fail("10.0.0.1", "ann")
    >>> throttle.blocked("10.0.0.1", "ann"), throttle.blocked("10.0.0.2", "ann")
    (True, False)
    >>> now[0] = 901.0
    >>> throttle.blocked("10.0.0.1", "ann")
    False
    """

    def __init__(self, limit: int = 5, window: float = 900.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def _recent(self, address: str, username: str) -> deque[float]:
        failures = self._failures[(address, username.lower())]
        while failures and self.clock() - failures[0] > self.window:
            failures.popleft()
        return failures

    def blocked(self, address: str, username: str) -> bool:
        return len(self._recent(address, username)) >= self.limit

    def fail(self, address: str, username: str) -> None:
        self._recent(address, username).append(self.clock())

    def succeed(self, address: str, username: str) -> None:
        self._failures.pop((address, username.lower()), None)


_TOKEN_PATH = re.compile(r"^(/[rc]/)[^/?]+")  # /r/TOKEN and /c/CODE (a survey letter's login code)


def redact_path(path: str) -> str:
    """A request path fit for a log: the invitation token or login code replaced by ``***``.

    Examples
    --------
    >>> redact_path("/r/Zx8_abc-123/background")
    '/r/***/background'
    >>> redact_path("/c/K7QMX-4RT9B")
    '/c/***'
    >>> redact_path("/login")
    '/login'
    """
    return _TOKEN_PATH.sub(r"\1***", path)


class SafetyMiddleware:
    """ASGI middleware: security headers on every response, one redacted log line per request.

    The query string is never logged: it may carry a respondent's choice of
    page, and nothing else in it is needed to read a log.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            log.info("%s %s %d %.1fms", scope["method"], redact_path(scope["path"]), status,
                     (time.perf_counter() - started) * 1000)
