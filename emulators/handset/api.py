"""The handset's control API — the subscriber's thumbs, for tests and demos. Loopback only,
no authentication (like the card reader's control API).

    GET    /status          {"msisdn", "reader", "attached", "menu", "inbox", "sent", counters}
    GET    /inbox           {"messages": [{"from", "text", "dcs", "binary", "parts", "received"}]}
    DELETE /inbox           {"cleared": n}
    GET    /sent            {"messages": [{"to", "pid", "dcs", "text", "by", "message_id",
                              "error", "sent"}]}   (by: "user" or "card", e.g. a PoR)
    GET    /menu            {"title", "items": [{"id", "text"}]}; 404 when the card has none
    POST   /menu/{id}       select an item → {"sent": [...]} the SMS the card sent for it;
                            404 for an item the menu does not have
    POST   /sms             {"to": "10086", "text": "CXXZ#…"} → {"sent": [...]}

Errors are {"error": "<field>: <why>"} with 400, 404, 405, or 503 when the card failed.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from emulators.handset.phone import Handset, MenuItemUnknown, Sent, menu_dict
from emulators.json_http import Answer, HttpError, JsonHttpServer, allow, json_object
from simcard.errors import CardLayerError
from simcard.sms_pp import SmsError
from simcard.toolkit import ToolkitError


class HandsetApi:
    def __init__(self, handset: Handset) -> None:
        self.handset = handset
        self._http = JsonHttpServer(self._route)

    async def start(self, host: str, port: int) -> int:
        return await self._http.start(host, port)

    async def stop(self) -> None:
        await self._http.stop()

    async def _route(self, method: str, target: str, body: bytes) -> Answer:
        handset = self.handset
        parts = [unquote(p) for p in urlsplit(target).path.strip("/").split("/") if p]
        if parts == ["status"]:
            allow(method, "GET")
            return 200, handset.status()
        if parts == ["inbox"]:
            allow(method, "GET, DELETE")
            if method == "DELETE":
                cleared = len(handset.inbox)
                handset.inbox.clear()
                return 200, {"cleared": cleared}
            return 200, {"messages": [m.as_dict() for m in handset.inbox]}
        if parts == ["sent"]:
            allow(method, "GET")
            return 200, {"messages": [m.as_dict() for m in handset.sent]}
        if parts == ["menu"]:
            allow(method, "GET")
            if handset.menu is None:
                raise HttpError(404, "menu: the card has not set up a menu")
            return 200, menu_dict(handset.menu)
        if len(parts) == 2 and parts[0] == "menu":
            allow(method, "POST")
            if not parts[1].isdigit():
                raise HttpError(400, "item: expected the item's number")
            try:
                return _sent(await handset.select_menu(int(parts[1])))
            except MenuItemUnknown as exc:
                raise HttpError(404, str(exc)) from None
            except (CardLayerError, ToolkitError) as exc:
                raise HttpError(503, f"card: {exc}") from None
        if parts == ["sms"]:
            allow(method, "POST")
            request = json_object(body)
            to, text = request.get("to"), request.get("text")
            if not isinstance(to, str) or not to.lstrip("+").isdigit() or len(to) > 21:
                raise HttpError(400, "to: expected a number (digits, optionally after '+')")
            if not isinstance(text, str) or not text:
                raise HttpError(400, "text: required, a string")
            try:
                return _sent(await handset.send_text(to, text))
            except SmsError as exc:
                raise HttpError(400, f"text: {exc}") from None
        raise HttpError(404, f"path: no such resource /{'/'.join(parts)}")


def _sent(messages: list[Sent]) -> Answer:
    return 200, {"sent": [m.as_dict() for m in messages]}
