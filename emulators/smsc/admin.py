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
    POST   /mo                      a mobile-originated SMS, as if a handset had sent it:
                                    {"from", "to", "text"} (split into concatenated parts
                                    when long) or {"from", "to", "data": hex TP-UD, "pid",
                                    "dcs", "udhi"} → {"message_ids": [...]}; 409 with the RP
                                    cause when the SMSC refuses it (a barred number)
    GET    /handsets                {"handsets": [{"msisdn", "attached", "waiting"}]}
    GET    /faults                  fault settings;  PATCH /faults {"refuse_rate": 0.5, …}
                                    ({"outage": true, "outage_s": 60}: SMPP, handsets and
                                    this API refuse connections for a minute)
    GET    /status                  counters (binds, submit_sm, drops, receipts, MO …)

Numbers are international digits without '+' (``to`` may be a short service number). Errors
are {"error": "<field>: <why>"} with 400, 401, 404, 405 or 409.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from emulators.json_http import Answer, HttpError, JsonHttpServer, allow, json_object
from emulators.smsc.air import RpCause, text_submits
from emulators.smsc.core import SmscCore
from simcard.sms_pp import MAX_USER_DATA, SmsError, SmsSubmit, alphabet

_NUMBER = re.compile(r"[0-9]{5,15}")
_SERVICE_NUMBER = re.compile(r"[0-9]{3,15}")


class AdminApi:
    """Routes requests to the SMSC's state; `start` listens, `stop` closes."""

    def __init__(
        self, core: SmscCore, status: Callable[[], dict[str, int]], user: str, password: str
    ) -> None:
        self._core = core
        self._status = status
        self._http = JsonHttpServer(self._route, (user, password))

    async def start(self, host: str, port: int) -> int:
        return await self._http.start(host, port)

    async def stop(self) -> None:
        await self._http.stop()

    def close(self) -> None:
        """Stop listening and close every connection (the outage fault; `start` again)."""
        self._http.close()

    async def _route(self, method: str, target: str, body: bytes) -> Answer:
        store, faults = self._core.store, self._core.faults
        url = urlsplit(target)
        parts = [unquote(p) for p in url.path.strip("/").split("/") if p]
        if parts == ["barring"]:
            allow(method, "GET")
            return 200, {"barred": sorted(store.barred)}
        if len(parts) == 2 and parts[0] == "barring":
            return self._barring(method, _number(parts[1]))
        if parts == ["messages"]:
            allow(method, "GET, DELETE")
            if method == "DELETE":
                return 200, {"cleared": store.clear()}
            query = parse_qs(url.query)
            destination = query.get("destination", [None])[0]
            if destination is not None:
                destination = _number(destination, "destination", _SERVICE_NUMBER)
            messages = store.messages(destination)
            return 200, {"messages": [m.as_dict() for m in messages]}
        if parts == ["mo"]:
            allow(method, "POST")
            return self._mobile_originated(json_object(body))
        if parts == ["handsets"]:
            allow(method, "GET")
            return 200, {"handsets": self._core.handsets.status()}
        if parts == ["faults"]:
            allow(method, "GET, PATCH")
            if method == "PATCH":
                try:
                    faults.update(**json_object(body))
                except ValueError as exc:
                    raise HttpError(400, str(exc)) from None
            return 200, faults.settings()
        if parts == ["status"]:
            allow(method, "GET")
            return 200, self._status()
        raise HttpError(404, f"path: no such resource {url.path}")

    def _barring(self, method: str, number: str) -> Answer:
        allow(method, "GET, PUT, DELETE")
        barred = self._core.store.barred
        if method == "PUT":
            barred.add(number)
        elif method == "DELETE":
            barred.discard(number)
        return 200, {"msisdn": number, "barred": number in barred}

    def _mobile_originated(self, request: dict[str, Any]) -> Answer:
        unknown = sorted(set(request) - {"from", "to", "text", "data", "pid", "dcs", "udhi"})
        if unknown:
            raise HttpError(400, f"{unknown[0]}: not a field of an MO message")
        source = _number(_text(request, "from"), "from")
        destination = _number(_text(request, "to"), "to", _SERVICE_NUMBER)
        submits = _submits(request, destination)
        ids = []
        for sms in submits:
            result = self._core.mobile_originated(source, sms)
            if isinstance(result, RpCause):
                raise HttpError(409, f"mo: refused with RP cause {int(result)} ({result.name})")
            ids.append(result)
        return 200, {"message_ids": ids}


def _submits(request: dict[str, Any], destination: str) -> list[SmsSubmit]:
    """The SMS-SUBMITs of a POST /mo: text (concatenated when long) or one binary message."""
    if ("text" in request) == ("data" in request):
        raise HttpError(400, "text: give either text or data (hex TP-UD)")
    if "text" in request:
        text = _text(request, "text")
        reference = zlib.crc32(f"{request['from']}{text}".encode()) & 0xFF
        try:
            return text_submits(destination, text, reference)
        except SmsError as exc:
            raise HttpError(400, f"text: {exc}") from None
    try:
        data = bytes.fromhex(_text(request, "data"))
    except ValueError:
        raise HttpError(400, "data: expected hex digits (the TP-UD)") from None
    if not 0 < len(data) <= MAX_USER_DATA:
        raise HttpError(400, f"data: 1-{MAX_USER_DATA} octets of user data")
    pid, dcs = _octet(request, "pid", 0x00), _octet(request, "dcs", 0x04)
    udhi = request.get("udhi", False)
    if not isinstance(udhi, bool):
        raise HttpError(400, "udhi: expected true or false")
    if udhi and data[0] + 1 > len(data):
        raise HttpError(400, "data: the user data header is longer than the data")
    if alphabet(dcs) == "7bit":
        raise HttpError(400, "dcs: 7-bit text goes in text, not data")
    return [SmsSubmit(destination, data, pid=pid, dcs=dcs, udhi=udhi)]


def _text(request: dict[str, Any], name: str) -> str:
    value = request.get(name)
    if not isinstance(value, str) or not value:
        raise HttpError(400, f"{name}: required, a string")
    return value


def _octet(request: dict[str, Any], name: str, default: int) -> int:
    value = request.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0xFF:
        raise HttpError(400, f"{name}: expected a number 0-255")
    return value


def _number(value: str, field: str = "msisdn", pattern: re.Pattern[str] = _NUMBER) -> str:
    if not pattern.fullmatch(value):
        kind = "an international number, 5" if pattern is _NUMBER else "a number, 3"
        raise HttpError(400, f"{field}: expected {kind}-15 digits, no '+'")
    return value
