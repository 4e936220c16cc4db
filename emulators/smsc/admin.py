"""The SMSC's provisioning and inspection interface: a small HTTP/1.1 JSON API.

Why HTTP and JSON: barring is one flag per number, and an engineer can drive it with `curl`;
SMSC vendors' provisioning interfaces are as often HTTP as MML. Every request needs HTTP Basic
authentication with the admin account.

    GET    /barring                 {"barred": ["8613800138000", …]}
    GET    /barring/{msisdn}        {"msisdn": …, "barred": true|false}
    PUT    /barring/{msisdn}        bar (idempotent)   → {"msisdn": …, "barred": true}
    DELETE /barring/{msisdn}        unbar (idempotent) → {"msisdn": …, "barred": false}
    GET    /messages[?destination=] {"messages": [reassembled messages]}
    DELETE /messages                {"cleared": parts}
    GET    /faults                  fault settings;  PATCH /faults {"refuse_rate": 0.5, …}
                                    ({"outage": true, "outage_s": 60}: SMPP and this API
                                    refuse connections for a minute)
    GET    /status                  counters (binds, submit_sm, drops, receipts …)

Numbers are international digits without '+'. Errors are {"error": "<field>: <why>"} with
400, 401, 404 or 405. The server is a few dozen lines on asyncio streams rather than a web
framework so that it runs inside the emulator's event loop with nothing else to start.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from emulators.smsc.faults import Faults
from emulators.smsc.store import MessageStore

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
MAX_HEADERS = 100
_NUMBER = re.compile(r"[0-9]{5,15}")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
}


class _HttpError(Exception):
    def __init__(self, status: int, message: str, allow: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.allow = allow


Answer = tuple[int, dict[str, Any]]


class AdminApi:
    """Routes requests to the store and the faults; `start` listens, `stop` closes."""

    def __init__(
        self,
        store: MessageStore,
        faults: Faults,
        status: Callable[[], dict[str, int]],
        user: str,
        password: str,
    ) -> None:
        self._store = store
        self._faults = faults
        self._status = status
        self._credentials = f"{user}:{password}".encode()
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

        A request that closed the API (PATCH /faults with an outage) is answered first; its
        connection closes after the answer."""
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
                except _HttpError as exc:
                    _write(writer, exc.status, {"error": str(exc)}, close=True)
                    break
                if request is None:
                    break
                method, target, headers, body = request
                try:
                    self._authorise(headers)
                    self._answering = writer
                    status, payload = self._route(method, target, body)
                    allow = ""
                except _HttpError as exc:
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
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            given = b""
        if scheme.lower() != "basic" or not hmac.compare_digest(given, self._credentials):
            raise _HttpError(401, "authorization: admin credentials required")

    def _route(self, method: str, target: str, body: bytes) -> Answer:
        url = urlsplit(target)
        parts = [unquote(p) for p in url.path.strip("/").split("/") if p]
        if parts == ["barring"]:
            _allow(method, "GET")
            return 200, {"barred": sorted(self._store.barred)}
        if len(parts) == 2 and parts[0] == "barring":
            return self._barring(method, _number(parts[1]))
        if parts == ["messages"]:
            _allow(method, "GET, DELETE")
            if method == "DELETE":
                return 200, {"cleared": self._store.clear()}
            query = parse_qs(url.query)
            destination = query.get("destination", [None])[0]
            if destination is not None:
                destination = _number(destination, "destination")
            messages = self._store.messages(destination)
            return 200, {"messages": [m.as_dict() for m in messages]}
        if parts == ["faults"]:
            _allow(method, "GET, PATCH")
            if method == "PATCH":
                changes = _json_object(body)
                try:
                    self._faults.update(**changes)
                except ValueError as exc:
                    raise _HttpError(400, str(exc)) from None
            return 200, self._faults.settings()
        if parts == ["status"]:
            _allow(method, "GET")
            return 200, self._status()
        raise _HttpError(404, f"path: no such resource {url.path}")

    def _barring(self, method: str, number: str) -> Answer:
        _allow(method, "GET, PUT, DELETE")
        if method == "PUT":
            self._store.barred.add(number)
        elif method == "DELETE":
            self._store.barred.discard(number)
        return 200, {"msisdn": number, "barred": number in self._store.barred}


def _allow(method: str, allowed: str) -> None:
    if method not in allowed.split(", "):
        raise _HttpError(405, f"method: {method} not allowed here", allow=allowed)


def _number(value: str, field: str = "msisdn") -> str:
    if not _NUMBER.fullmatch(value):
        raise _HttpError(400, f"{field}: expected an international number, 5-15 digits, no '+'")
    return value


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _HttpError(400, "body: not JSON") from None
    if not isinstance(value, dict):
        raise _HttpError(400, "body: expected a JSON object")
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
        raise _HttpError(400, "request line: malformed") from None
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep:
            raise _HttpError(400, "header: malformed")
        headers[name.strip().lower()] = value.strip()
    else:
        raise _HttpError(400, "headers: too many")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise _HttpError(400, "content-length: not a number") from None
    if not 0 <= length <= MAX_BODY:
        raise _HttpError(413, f"content-length: at most {MAX_BODY}")
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
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
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
