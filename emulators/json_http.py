"""A small HTTP/1.1 JSON server on asyncio streams, for the emulators' admin and control APIs.

Why not a web framework: an emulator's API is a handful of routes that must run inside the
emulator's own event loop, next to its protocol servers, with nothing else to start. Requests
are read with a bounded size, answered with a JSON object, and kept alive unless the client
says ``Connection: close``. With ``credentials`` every request needs HTTP Basic
authentication (401 otherwise); without, the server is meant for loopback only.

Routes raise `HttpError(status, "<field>: <why>")` for anything a client got wrong; the answer
is then ``{"error": …}`` with that status.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

MAX_BODY = 64 * 1024
MAX_HEADERS = 100
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    503: "Service Unavailable",
}

Answer = tuple[int, dict[str, Any]]
Route = Callable[[str, str, bytes], Awaitable[Answer]]
"""(method, target, body) → (status, JSON object)."""


class HttpError(Exception):
    def __init__(self, status: int, message: str, allow: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.allow = allow


class JsonHttpServer:
    """``start(host, port)`` → the port; ``stop()`` closes the listener and open connections."""

    def __init__(self, route: Route, credentials: tuple[str, str] | None = None) -> None:
        self._route = route
        self._credentials = None if credentials is None else ":".join(credentials).encode()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._answering: asyncio.StreamWriter | None = None  # the request being routed

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._serve, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        server = self._server
        self.close()
        if server is not None:
            await server.wait_closed()

    def close(self) -> None:
        """Stop listening and close every connection at once (`start` listens again).

        A request that closed the server (an emulator's outage fault set through it) is
        answered first; its connection closes after the answer."""
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):
            if writer is not self._answering:
                writer.close()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    request = await _read_request(reader)
                except HttpError as exc:
                    _write(writer, exc.status, {"error": str(exc)}, close=True)
                    break
                if request is None:
                    break
                method, target, headers, body = request
                try:
                    self._authorise(headers)
                    self._answering = writer
                    status, payload = await self._route(method, target, body)
                    allow = ""
                except HttpError as exc:
                    status, payload, allow = exc.status, {"error": str(exc)}, exc.allow
                finally:
                    self._answering = None
                close = self._server is None or headers.get("connection", "").lower() == "close"
                _write(writer, status, payload, close=close, allow=allow)
                await writer.drain()
                if close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _authorise(self, headers: dict[str, str]) -> None:
        if self._credentials is None:
            return
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            given = b""
        if scheme.lower() != "basic" or not hmac.compare_digest(given, self._credentials):
            raise HttpError(401, "authorization: admin credentials required")


def allow(method: str, allowed: str) -> None:
    """405 unless ``method`` is one of ``allowed`` (``"GET, PUT"``)."""
    if method not in allowed.split(", "):
        raise HttpError(405, f"method: {method} not allowed here", allow=allowed)


def json_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object (an empty body is ``{}``); 400 otherwise."""
    try:
        value = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HttpError(400, "body: not JSON") from None
    if not isinstance(value, dict):
        raise HttpError(400, "body: expected a JSON object")
    return value


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes] | None:
    """One request, or None when the client closed the connection between requests."""
    line = await reader.readline()
    if not line:
        return None
    try:
        method, target, _version = line.decode("ascii").split()
    except (UnicodeDecodeError, ValueError):
        raise HttpError(400, "request line: malformed") from None
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep:
            raise HttpError(400, "header: malformed")
        headers[name.strip().lower()] = value.strip()
    else:
        raise HttpError(400, "headers: too many")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise HttpError(400, "content-length: not a number") from None
    if not 0 <= length <= MAX_BODY:
        raise HttpError(413, f"content-length: at most {MAX_BODY}")
    body = await reader.readexactly(length) if length else b""
    return method.upper(), target, headers, body


def _write(
    writer: asyncio.StreamWriter,
    status: int,
    payload: dict[str, Any],
    *,
    close: bool = False,
    allow: str = "",
) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    head = [
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
        "Content-Type: application/json; charset=utf-8",
        f"Content-Length: {len(body)}",
    ]
    if status == 401:
        head.append('WWW-Authenticate: Basic realm="smsc"')
    if allow:
        head.append(f"Allow: {allow}")
    if close:
        head.append("Connection: close")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body)
