"""The SMSC's side towards handsets: the link they attach over, and the TPDUs it carries.

In a network, an SMSC reaches a handset through the MSC (MAP MT-ForwardSM / MO-ForwardSM over
SS7), and the handset answers at the relay layer (TS 24.011: RP-ACK, or RP-ERROR with a
cause). The emulator collapses MSC and radio into one TCP link per handset and keeps what
matters end to end: the **TPDUs** go over it exactly as on the air interface (TS 23.040
SMS-DELIVER down, SMS-SUBMIT up, 7-bit text packed), and every one is answered with the
relay layer's verdict. The link is JSON, one object per line, so an engineer can follow it
with ``nc``:

    handset → SMSC   {"type": "attach", "msisdn": "8613800138001"}
    SMSC → handset   {"type": "attached", "msisdn": …}   or {"type": "refused", "error": …}
    SMSC → handset   {"type": "deliver", "ref": 7, "tpdu": "<SMS-DELIVER, hex>"}
    handset → SMSC   {"type": "deliver_report", "ref": 7, "ok": true, "user_data": "<hex>"}
                     {"type": "deliver_report", "ref": 7, "ok": false, "cause": 111}
    handset → SMSC   {"type": "submit", "ref": 3, "tpdu": "<SMS-SUBMIT, hex>"}
    SMSC → handset   {"type": "submit_report", "ref": 3, "ok": true, "message_id": "…"}
                     {"type": "submit_report", "ref": 3, "ok": false, "cause": 96}

``user_data`` of a positive deliver report is the RP-ACK's user data (a card's PoR, when the
card answered an SMS-PP download in the ENVELOPE response); the causes are TS 24.011's RP
causes (`RpCause`). The handset emulator (`emulators.handset`) is the other end.

The rest of this module converts between the two forms of a message: SMPP's (what ESMEs submit
and receive: GSM text one character per octet, `data_coding`) and the air interface's (TP-DCS,
7-bit text packed behind the user data header's fill bits).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from simcard.sms_pp import (
    SmsDeliver,
    SmsError,
    SmsSubmit,
    alphabet,
    pack_septets,
    text_user_data,
    unpack_septets,
)
from simcard.text import gsm_encode

MAX_LINE = 4096


class RpCause(IntEnum):
    """RP causes (TS 24.011 §8.2.5.4) the emulators use."""

    OPERATOR_DETERMINED_BARRING = 8
    SHORT_MESSAGE_TRANSFER_REJECTED = 21
    MEMORY_CAPACITY_EXCEEDED = 22
    TEMPORARY_FAILURE = 41
    INVALID_MANDATORY_INFORMATION = 96
    PROTOCOL_ERROR = 111


class LinkError(ValueError):
    """A line on the link that is not a message of the link; the text says what is wrong."""


def encode_line(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode_line(line: bytes) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise LinkError("not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise LinkError("expected an object with a type")
    return message


def hex_field(message: dict[str, Any], name: str) -> bytes:
    value = message.get(name, "")
    if not isinstance(value, str):
        raise LinkError(f"{name}: expected hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise LinkError(f"{name}: not hex") from None


@dataclass(frozen=True)
class SmppForm:
    """A message as SMPP carries it (see `emulators.smsc.store.Part`)."""

    data_coding: int
    esm_class: int
    protocol_id: int
    payload: bytes

    @property
    def header(self) -> bytes:
        """The user data header, UDHL included (empty without UDHI)."""
        if not self.esm_class & 0x40 or not self.payload:
            return b""
        return self.payload[: 1 + self.payload[0]]


def air_dcs(data_coding: int) -> int:
    """TP-DCS for an SMPP data_coding (SMPP 3.4 §5.2.19): the GSM codings (message class
    groups 0xC0-0xFF, UCS-2 8) stay as they are; SMSC default alphabet 0 is GSM 7-bit;
    IA5 (1) and Latin-1 (3) are text the SMSC re-encodes; anything else is 8-bit data."""
    if data_coding in (0x00, 0x08) or data_coding >= 0xC0:
        return data_coding
    if data_coding in (0x01, 0x03):
        return 0x00  # re-encoded by `deliver_tpdu` (GSM 7-bit or UCS-2)
    return 0x04


def deliver_tpdu(form: SmppForm, originator: str, scts: bytes) -> bytes:
    """The SMS-DELIVER a handset gets for a message in SMPP form."""
    header = form.header
    body = form.payload[len(header) :]
    udhi = bool(header)
    dcs = air_dcs(form.data_coding)
    septets: int | None = None
    if form.data_coding in (0x01, 0x03):  # text in an ESME's alphabet: the air has its own
        text = body.decode("ascii" if form.data_coding == 0x01 else "latin-1", errors="replace")
        dcs, user_data, septets = text_user_data(text, header)
    elif alphabet(dcs) == "7bit":
        fill = (7 - len(header) * 8 % 7) % 7 if header else 0
        user_data, septets = header + pack_septets(body, fill), len(body)
    else:
        user_data = form.payload
    return SmsDeliver(
        originator, user_data, form.protocol_id, dcs, scts, udhi, text_septets=septets
    ).encode()


def smpp_form(sms: SmsSubmit) -> SmppForm:
    """A handset's SMS-SUBMIT in SMPP form: 7-bit text unpacked to one character per octet
    (data_coding 0), everything else as it came (TP-DCS becomes data_coding)."""
    header = b""
    if sms.udhi and sms.user_data:
        header = sms.user_data[: 1 + sms.user_data[0]]
    esm_class = 0x40 if header else 0x00
    if alphabet(sms.dcs) == "7bit":
        fill = (7 - len(header) * 8 % 7) % 7 if header else 0
        septets = unpack_septets(sms.user_data[len(header) :], sms.text_septets or 0, fill)
        return SmppForm(0x00, esm_class, sms.pid, header + septets)
    data_coding = 0x08 if alphabet(sms.dcs) == "ucs2" else sms.dcs
    return SmppForm(data_coding, esm_class, sms.pid, sms.user_data)


CONCATENATED_GSM, CONCATENATED_UCS2 = 153, 67  # characters / code units per part with a header


def text_submits(destination: str, text: str, reference: int) -> list[SmsSubmit]:
    """The SMS-SUBMITs a handset sends for ``text``: one when it fits, else concatenated parts
    (8-bit reference, ``05 00 03 ref total seq``) of 153 GSM characters or 67 UCS-2 code units,
    never splitting an escape or a surrogate pair. `SmsError` beyond 255 parts."""
    try:
        dcs, user_data, septets = text_user_data(text)
    except SmsError:
        pass
    else:
        return [SmsSubmit(destination, user_data, dcs=dcs, text_septets=septets)]
    gsm = gsm_encode(text) is not None
    limit = CONCATENATED_GSM if gsm else CONCATENATED_UCS2
    chunks, chunk, used = [], "", 0
    for char in text:
        cost = len(gsm_encode(char) or b"") if gsm else len(char.encode("utf-16-be")) // 2
        if used + cost > limit:
            chunks.append(chunk)
            chunk, used = "", 0
        chunk, used = chunk + char, used + cost
    chunks.append(chunk)
    if len(chunks) > 255:
        raise SmsError(f"a text of {len(chunks)} parts (255 at most)")
    parts = []
    for seq, piece in enumerate(chunks, start=1):
        header = bytes([5, 0, 3, reference & 0xFF, len(chunks), seq])
        dcs, user_data, septets = text_user_data(piece, header)
        parts.append(SmsSubmit(destination, user_data, dcs=dcs, udhi=True, text_septets=septets))
    return parts
