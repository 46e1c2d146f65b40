"""A light load generator for the web benchmark: raw HTTP/1.1 over asyncio streams.

The server under test and the clients share the machine's two cores, so the
clients' own CPU is taken from the server. httpx spends about 4 ms of CPU on
each POST, more than the bare endpoint it measures (about 1.5 ms): with it the
benchmark measured mostly its own client. Here a request is a few bytes built
by hand on a keep-alive connection, and a reply is read by its
``Content-Length``: well under a tenth of a millisecond per request, for the
form and the bare endpoint alike.

It speaks just enough HTTP for the two loopback servers it drives (uvicorn
answers every request with a ``Content-Length``); it is no general client.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

__all__ = ["Connection", "Reply", "process_cpu"]


@dataclass(frozen=True)
class Reply:
    """A response: its status and body."""

    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


class Connection:
    """One keep-alive HTTP/1.1 connection, sending one cookie header with every request.

    Parameters
    ----------
    url : str
        ``http://HOST:PORT`` of the server.
    cookie : str
        The ``Cookie`` header to send, for example ``"km_csrf=abc"``; empty for none.

    Examples
    --------
    >>> import asyncio
    >>> async def one_request():
    ...     async def answer(reader, writer):
    ...         await reader.readuntil(b"\\r\\n\\r\\n")
    ...         writer.write(b"HTTP/1.1 200 OK\\r\\ncontent-length: 2\\r\\n\\r\\nok")
    ...         await writer.drain()
    ...     server = await asyncio.start_server(answer, "127.0.0.1", 0)
    ...     port = server.sockets[0].getsockname()[1]
    ...     async with Connection(f"http://127.0.0.1:{port}") as connection:
    ...         reply = await connection.get("/")
    ...     server.close()
    ...     return reply
    >>> asyncio.run(one_request())
    Reply(status=200, body=b'ok')
    """

    def __init__(self, url: str, cookie: str = ""):
        address = urlsplit(url)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.cookie = cookie
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Connection:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()

    def request_bytes(self, method: str, path: str, fields: Mapping[str, str] | None = None) -> bytes:
        """The request as sent: prepare them before a timed run, so it measures the server and not this."""
        body = urlencode(fields).encode() if fields is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if self.cookie:
            head.append(f"Cookie: {self.cookie}")
        if fields is not None:
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

    async def send(self, request: bytes) -> Reply:
        """Send a prepared request and read its reply."""
        assert self._reader is not None and self._writer is not None, "use the connection in 'async with'"
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding":
                raise NotImplementedError("a chunked reply: this client reads replies by their Content-Length only")
        return Reply(status, await self._reader.readexactly(length))

    async def get(self, path: str) -> Reply:
        return await self.send(self.request_bytes("GET", path))

    async def post(self, path: str, fields: Mapping[str, str]) -> Reply:
        return await self.send(self.request_bytes("POST", path, fields))


def process_cpu(pid: int | None = None) -> float:
    """CPU seconds (user and system) a process has used so far; this process by default (Linux).

    Examples
    --------
    >>> process_cpu() > 0
    True
    """
    if pid is None:
        times = os.times()
        return times.user + times.system
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
