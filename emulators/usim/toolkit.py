"""The card's toolkit (ETSI TS 102 223, 3GPP TS 31.111): proactive commands and ENVELOPEs.

A proactive session starts with the terminal's TERMINAL PROFILE; from then on the card
announces a pending proactive command by answering `91xx` (xx its length) instead of `9000`,
the terminal FETCHes it and reports the outcome with TERMINAL RESPONSE; the next one, if any,
is announced in the answer to that. Before TERMINAL PROFILE nothing is announced (a PC/SC
programming tool never sees `91xx`); commands queued meanwhile wait.

What the card's applets do:
- the menu applet: SET UP MENU from its menu file (A515/6FE0, simcard.stk_menu) after
  TERMINAL PROFILE and again whenever the file is rewritten (by a card writer or over the air);
  an ENVELOPE menu selection (D3) queues SEND SHORT MESSAGE with the item's SMS;
- remote file management: an ENVELOPE SMS-PP download (D1) goes to `remote.RemoteManagement`;
  its PoR comes back as the ENVELOPE's response data or as SEND SHORT MESSAGE commands.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from emulators.usim.remote import RemoteManagement
from emulators.usim.status import CardError, Sw
from simcard.tlv import TlvError, parse, parse_one, simple_tag, tlv

if TYPE_CHECKING:
    from emulators.usim.card import UsimCard

MENU_FILE = "3F00/A515/6FE0"
_PROACTIVE, _SMS_PP_DOWNLOAD, _MENU_SELECTION = 0xD0, 0xD1, 0xD3
_COMMAND_DETAILS, _DEVICE_IDENTITIES, _RESULT = 0x81, 0x82, 0x83
_ALPHA, _ITEM, _ITEM_IDENTIFIER, _SMS_TPDU = 0x05, 0x0F, 0x10, 0x0B
_SET_UP_MENU, _SEND_SHORT_MESSAGE = 0x25, 0x13
_UICC, _TERMINAL, _NETWORK = 0x81, 0x82, 0x83


@dataclass
class CardToolkit:
    card: UsimCard
    remote: RemoteManagement = field(init=False)
    profile: bytes | None = None
    _queue: deque[bytes] = field(default_factory=deque)
    _current: bytes | None = None
    _number: int = 0

    def __post_init__(self) -> None:
        self.remote = RemoteManagement(self.card)

    # -- what the card dispatcher calls ------------------------------------------------------

    def pending(self) -> int | None:
        """Length of the proactive command to announce (`91xx`), None when there is none."""
        if self.profile is None:
            return None
        if self._current is None and self._queue:
            self._current = self._queue.popleft()
        return len(self._current) if self._current is not None else None

    def terminal_profile(self, data: bytes) -> None:
        if not data:
            raise Sw.WRONG_LENGTH.error()
        self.profile = data
        self.menu_changed()

    def fetch(self, le: int | None) -> bytes:
        length = self.pending()
        if length is None or self._current is None:
            raise Sw.CONDITIONS_NOT_SATISFIED.error()
        if le and le != length:
            raise CardError(0x6C00 | length, 0x6700 | length)
        return self._current

    def terminal_response(self, data: bytes) -> None:
        if self._current is None:
            raise Sw.CONDITIONS_NOT_SATISFIED.error()
        try:
            fields = {simple_tag(tag): value for tag, value in parse(data)}
        except TlvError:
            raise Sw.WRONG_DATA.error() from None
        sent = dict((simple_tag(t), v) for t, v in parse(parse_one(self._current)[1]))
        if fields.get(simple_tag(_COMMAND_DETAILS)) != sent[simple_tag(_COMMAND_DETAILS)]:
            raise Sw.WRONG_DATA.error()  # answers another command than the one fetched
        self._current = None  # done, whatever the result: the card does not retry

    def envelope(self, data: bytes) -> bytes:
        try:
            tag, body = parse_one(data)
            objects = {simple_tag(t): v for t, v in parse(body)}
        except TlvError:
            raise Sw.WRONG_DATA.error() from None
        if tag == _SMS_PP_DOWNLOAD:
            tpdu = objects.get(_SMS_TPDU)
            if tpdu is None:
                raise Sw.WRONG_DATA.error()
            download = self.remote.download(tpdu)
            for sms in download.submits:
                self._queue.append(self._send_short_message(sms.encode()))
            return download.response
        if tag == _MENU_SELECTION:
            item = objects.get(_ITEM_IDENTIFIER)
            tpdu = self._menu_items().get(item[0]) if item else None
            if tpdu is None:
                raise Sw.WRONG_DATA.error()
            self._queue.append(self._send_short_message(tpdu))
            return b""
        raise Sw.WRONG_DATA.error()

    def menu_changed(self) -> None:
        """(Re)issue SET UP MENU from the menu file, replacing one not yet fetched."""
        self._queue = deque(c for c in self._queue if _type_of(c) != _SET_UP_MENU)
        records = self._menu_records()
        if not records or _ALPHA not in dict(records[0]):
            return
        body = tlv(_ALPHA | 0x80, dict(records[0])[_ALPHA])
        for record in records[1:]:
            item = dict(record).get(_ITEM)
            if item:
                body += tlv(_ITEM | 0x80, item)
        self._queue.appendleft(self._command(_SET_UP_MENU, _TERMINAL, body))

    # -- building proactive commands ---------------------------------------------------------

    def _command(self, kind: int, destination: int, body: bytes) -> bytes:
        self._number = self._number % 0xFE + 1
        details = tlv(_COMMAND_DETAILS, bytes([self._number, kind, 0x00]))
        devices = tlv(_DEVICE_IDENTITIES, bytes([_UICC, destination]))
        return tlv(_PROACTIVE, details + devices + body)

    def _send_short_message(self, tpdu: bytes) -> bytes:
        return self._command(_SEND_SHORT_MESSAGE, _NETWORK, tlv(_SMS_TPDU | 0x80, tpdu))

    # -- the menu file -----------------------------------------------------------------------

    def _menu_records(self) -> list[list[tuple[int, bytes]]]:
        length = self.card.record_length(MENU_FILE)
        content = self.card.content(MENU_FILE)
        records = []
        for i in range(0, len(content), length):
            try:
                records.append(
                    [(simple_tag(t), v) for t, v in parse(content[i : i + length], padded=True)]
                )
            except TlvError:
                records.append([])  # a garbled record shows no item
        return records

    def _menu_items(self) -> dict[int, bytes]:
        items = {}
        for record in self._menu_records()[1:]:
            fields = dict(record)
            item, tpdu = fields.get(_ITEM), fields.get(_SMS_TPDU)
            if item and tpdu:
                items[item[0]] = tpdu
        return items


def _type_of(command: bytes) -> int:
    details = dict((simple_tag(t), v) for t, v in parse(parse_one(command)[1]))
    return details[simple_tag(_COMMAND_DETAILS)][1]
