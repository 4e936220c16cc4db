"""The terminal's half of the card toolkit (ETSI TS 102 223, 3GPP TS 31.111): what a handset
does with its card — TERMINAL PROFILE, ENVELOPEs, FETCH and TERMINAL RESPONSE.

    toolkit = Toolkit(transport)              # any simcard Transport: PC/SC or in-process
    toolkit.start()                           # TERMINAL PROFILE; the card's SET UP MENU comes
    toolkit.menu                              # SetUpMenu: title and items, as a phone shows it
    result = toolkit.download_sms(tpdu)       # an SMS-DELIVER with PID 7F / class 2 (OTA)
    result.acknowledgement                    # TP-UD for the SMS-DELIVER-REPORT (RP-ACK), if any
    result.messages                           # SMS-SUBMITs the card asked to send (e.g. a PoR)
    toolkit.select_menu(item_id).messages     # the SMS a menu selection sends

Every proactive command the card announces (`91xx`) is fetched and answered with a TERMINAL
RESPONSE "performed successfully": the handset is expected to send the SMS-SUBMITs it is
handed (the SMSC's acknowledgement is not waited for). Proactive commands other than SET UP
MENU and SEND SHORT MESSAGE are answered "command beyond terminal's capabilities".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simcard.errors import StatusWordError
from simcard.session import describe_sw
from simcard.sms_pp import SmsSubmit, encode_address
from simcard.text import decode_alpha
from simcard.tlv import TlvError, parse, parse_one, simple_tag, tlv
from simcard.transport import Transport

CLA = 0x80
TERMINAL_PROFILE, FETCH, TERMINAL_RESPONSE, ENVELOPE = 0x10, 0x12, 0x14, 0xC2
PROACTIVE_COMMAND = 0xD0
SMS_PP_DOWNLOAD, MENU_SELECTION = 0xD1, 0xD3
COMMAND_DETAILS, DEVICE_IDENTITIES, RESULT, ADDRESS, ALPHA = 0x01, 0x02, 0x03, 0x06, 0x05
SMS_TPDU, ITEM, ITEM_IDENTIFIER = 0x0B, 0x0F, 0x10
SET_UP_MENU, SEND_SHORT_MESSAGE = 0x25, 0x13
DEVICE_KEYPAD, DEVICE_TERMINAL, DEVICE_UICC, DEVICE_NETWORK = 0x01, 0x82, 0x81, 0x83
RESULT_OK, RESULT_BEYOND_CAPABILITIES = 0x00, 0x30
DEFAULT_PROFILE = bytes([0x0B, 0x01, 0x00, 0x22]) + bytes(16)
"""Profile download, SMS-PP data download, menu selection (byte 1); command result (byte 2);
SEND SHORT MESSAGE and SET UP MENU (byte 4) — what a handset needs for OTA and STK menus."""
_MAX_ROUNDS = 32


class ToolkitError(ValueError):
    """A proactive command or answer the terminal cannot read."""


@dataclass(frozen=True)
class ProactiveCommand:
    """One proactive command: its details and its COMPREHENSION-TLVs (tags without CR bit)."""

    number: int
    type: int
    qualifier: int
    objects: tuple[tuple[int, bytes], ...]

    def get(self, tag: int) -> bytes | None:
        return next((value for t, value in self.objects if t == tag), None)

    @classmethod
    def decode(cls, data: bytes) -> ProactiveCommand:
        try:
            tag, body = parse_one(data)
            if tag != PROACTIVE_COMMAND:
                raise ToolkitError(f"proactive command tag {tag:02X}, expected D0")
            objects = tuple((simple_tag(t), v) for t, v in parse(body))
        except TlvError as exc:
            raise ToolkitError(f"proactive command: {exc}") from None
        details = next((v for t, v in objects if t == COMMAND_DETAILS), None)
        if details is None or len(details) != 3:
            raise ToolkitError("proactive command without command details")
        return cls(details[0], details[1], details[2], objects)


@dataclass(frozen=True)
class SetUpMenu:
    title: str
    items: tuple[tuple[int, str], ...]

    @classmethod
    def of(cls, command: ProactiveCommand) -> SetUpMenu:
        title = decode_alpha(command.get(ALPHA) or b"")
        items = tuple((v[0], decode_alpha(v[1:])) for t, v in command.objects if t == ITEM and v)
        return cls(title, items)


def send_short_message(command: ProactiveCommand) -> SmsSubmit:
    tpdu = command.get(SMS_TPDU)
    if tpdu is None:
        raise ToolkitError("SEND SHORT MESSAGE without an SMS TPDU")
    return SmsSubmit.decode(tpdu)


@dataclass
class Outcome:
    """What the card answered an ENVELOPE with, and what it asked the terminal to do."""

    sw: int
    response: bytes = b""
    commands: list[ProactiveCommand] = field(default_factory=list)

    @property
    def messages(self) -> list[SmsSubmit]:
        return [send_short_message(c) for c in self.commands if c.type == SEND_SHORT_MESSAGE]

    @property
    def acknowledgement(self) -> bytes | None:
        """User data for the SMS-DELIVER-REPORT (RP-ACK): the card's response data, if any."""
        return self.response or None


class Toolkit:
    """The card toolkit session of one handset over one transport."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.menu: SetUpMenu | None = None

    def start(self, profile: bytes = DEFAULT_PROFILE) -> Outcome:
        """TERMINAL PROFILE, then whatever the card has pending (typically SET UP MENU)."""
        return self._send("TERMINAL PROFILE", TERMINAL_PROFILE, profile)

    def download_sms(self, tpdu: bytes, *, smsc: str | None = None) -> Outcome:
        """ENVELOPE (SMS-PP download) with an SMS-DELIVER TPDU, TS 31.111 §7.1.1."""
        body = tlv(DEVICE_IDENTITIES | 0x80, bytes([DEVICE_NETWORK, DEVICE_UICC]))
        if smsc is not None:
            body += tlv(ADDRESS | 0x80, encode_address(smsc)[1:])  # TON/NPI + BCD, no count
        body += tlv(SMS_TPDU | 0x80, tpdu)
        return self._send("ENVELOPE (SMS-PP download)", ENVELOPE, tlv(SMS_PP_DOWNLOAD, body))

    def select_menu(self, item: int) -> Outcome:
        """ENVELOPE (menu selection) for an item of the card's SET UP MENU."""
        body = tlv(DEVICE_IDENTITIES | 0x80, bytes([DEVICE_KEYPAD, DEVICE_UICC]))
        body += tlv(ITEM_IDENTIFIER | 0x80, bytes([item]))
        return self._send("ENVELOPE (menu selection)", ENVELOPE, tlv(MENU_SELECTION, body))

    def _send(self, what: str, ins: int, data: bytes) -> Outcome:
        apdu = bytes([CLA, ins, 0, 0, len(data)]) + data
        response, sw = self.transport.transmit(apdu)
        if sw != 0x9000 and sw >> 8 != 0x91:
            raise StatusWordError(what, sw, describe_sw(sw))
        outcome = Outcome(sw, response)
        outcome.commands = self._run_pending(sw)
        return outcome

    def _run_pending(self, sw: int) -> list[ProactiveCommand]:
        commands: list[ProactiveCommand] = []
        for _ in range(_MAX_ROUNDS):
            if sw >> 8 != 0x91:
                return commands
            data, fetch_sw = self.transport.transmit(bytes([CLA, FETCH, 0, 0, sw & 0xFF]))
            if fetch_sw != 0x9000:
                raise StatusWordError("FETCH", fetch_sw, describe_sw(fetch_sw))
            command = ProactiveCommand.decode(data)
            commands.append(command)
            result = RESULT_OK
            if command.type == SET_UP_MENU:
                self.menu = SetUpMenu.of(command)
            elif command.type != SEND_SHORT_MESSAGE:
                result = RESULT_BEYOND_CAPABILITIES
            sw = self._terminal_response(command, result)
        raise ToolkitError(f"the card kept announcing proactive commands ({_MAX_ROUNDS} fetched)")

    def _terminal_response(self, command: ProactiveCommand, result: int) -> int:
        body = tlv(COMMAND_DETAILS | 0x80, bytes([command.number, command.type, command.qualifier]))
        body += tlv(DEVICE_IDENTITIES | 0x80, bytes([DEVICE_TERMINAL, DEVICE_UICC]))
        body += tlv(RESULT | 0x80, bytes([result]))
        _, sw = self.transport.transmit(bytes([CLA, TERMINAL_RESPONSE, 0, 0, len(body)]) + body)
        if sw != 0x9000 and sw >> 8 != 0x91:
            raise StatusWordError("TERMINAL RESPONSE", sw, describe_sw(sw))
        return sw
