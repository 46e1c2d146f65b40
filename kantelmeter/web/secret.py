"""The secret that signs the form app's CSRF tokens: long enough, and the same after a restart.

``KANTELMETER_SECRET`` sets it for every process serving one store; it must
have at least 32 bytes, because a visitor sees a CSRF cookie and the token
made from it, and could otherwise search for a short secret offline. Without
the variable the secret lives in a file beside the pseudonym key file
(``web-form.secret``, mode 0600), created on first start and read on every
later one, so a form opened before a restart is still accepted after it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from kantelmeter.errors import KantelmeterError
from kantelmeter.privacy import load_or_create_secret

__all__ = ["MIN_SECRET_BYTES", "SECRET_ENV", "SECRET_FILE", "SecretError", "form_secret"]

SECRET_ENV = "KANTELMETER_SECRET"
SECRET_FILE = "web-form.secret"
MIN_SECRET_BYTES = 32


class SecretError(KantelmeterError, ValueError):
    """A configured secret that is too short to be safe; the message says how to make one."""


def form_secret(key_file: Path, environ: Mapping[str, str] = os.environ) -> bytes:
    """The form app's secret: ``KANTELMETER_SECRET`` if set, else the secret file beside ``key_file``.

    Raises
    ------
    SecretError
        When ``KANTELMETER_SECRET`` is set (even to nothing) with fewer than 32 bytes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> key_file = pathlib.Path(tempfile.mkdtemp()) / "pseudonym.key"
    >>> first = form_secret(key_file, environ={})
    >>> len(first), first == form_secret(key_file, environ={}), oct((key_file.parent / SECRET_FILE).stat().st_mode & 0o777)
    (32, True, '0o600')
    >>> form_secret(key_file, environ={"KANTELMETER_SECRET": "x"})
    Traceback (most recent call last):
    ...
    kantelmeter.web.secret.SecretError: KANTELMETER_SECRET has 1 bytes; allowed: at least 32 bytes, for example the output of: python -c "import secrets; print(secrets.token_urlsafe(32))". Or unset it to use the secret file web-form.secret beside the key file
    """
    configured = environ.get(SECRET_ENV)
    if configured is None:
        return load_or_create_secret(Path(key_file).parent / SECRET_FILE, what="secret file")
    secret = configured.encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise SecretError(
            f"{SECRET_ENV} has {len(secret)} bytes; allowed: at least {MIN_SECRET_BYTES} bytes, for "
            f'example the output of: python -c "import secrets; print(secrets.token_urlsafe(32))". '
            f"Or unset it to use the secret file {SECRET_FILE} beside the key file"
        )
    return secret
