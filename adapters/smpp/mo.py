"""Mobile-originated messages: what a handset sent to one of the gateway's numbers.

The SMSC hands them over as ``deliver_sm`` that are not receipts (SMPP 3.4 §4.6.1:
``esm_class`` message type 0; UDHI 0x40 when the message has a user data header). A long
message comes as several, one per part, joined by the concatenation element of their headers;
`MoAssembler` puts them back together, so that a handler always sees **whole messages**.

**The seam.** The gateway registers one `MoHandler` with the SMPP client (`SmppClient(...,
on_mo=handler)`). The client answers the deliver_sm of every part only once the handler has
*returned* for the whole message: if the gateway dies in between, the SMSC never heard that the
message arrived and delivers it again. A handler that raises gets the parts answered
``ESME_RX_T_APPN`` (temporary error): the SMSC tries again later. The other side of this
guarantee: a message may come twice (the answer lost with a bind), so handlers are idempotent
or harmless when repeated — a PoR seen twice proves nothing new; a keyword command must check
what it already did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from adapters.smpp import sms_text
from adapters.smpp.pdu import ShortMessage

UDHI = 0x40
IEI_CONCAT_8BIT, IEI_CONCAT_16BIT = 0x00, 0x08

T = TypeVar("T")


class MoError(ValueError):
    """A deliver_sm that cannot be a message: its user data header does not parse."""


@dataclass(frozen=True)
class MobileOriginated:
    """A whole message from a handset.

    ``user_data`` is TP-UD as one message would carry it: the user data header with the
    concatenation element removed (the other elements, e.g. IEI 71 of a card's PoR, as the
    first part had them), then the parts' payloads joined. GSM text is one character per octet,
    as SMPP carries it.
    """

    source: str  # the handset's number, as the SMSC gave it (international digits)
    destination: str  # the number it was sent to (a service number, the OTA address)
    protocol_id: int
    data_coding: int
    user_data: bytes
    udhi: bool
    parts: int = 1

    @property
    def header(self) -> tuple[tuple[int, bytes], ...]:
        """The user data header's elements (IEI, data)."""
        return _elements(self.user_data)[0] if self.udhi else ()

    @property
    def payload(self) -> bytes:
        """The user data after its header."""
        return self.user_data[1 + self.user_data[0] :] if self.udhi else self.user_data

    @property
    def text(self) -> str | None:
        """The text, for a text coding (GSM, IA5, Latin-1, UCS-2); None for binary data."""
        return sms_text.decode(self.data_coding, self.payload)

    def describe(self) -> str:
        """One line for logs: who, to whom, what (text cut short, binary as its size)."""
        text = self.text
        shown = f"{text[:40]!r}" if text is not None else f"{len(self.payload)} octets binary"
        return (
            f"from {self.source} to {self.destination}, PID {self.protocol_id:02X} "
            f"DCS {self.data_coding:02X}, {self.parts} part(s): {shown}"
        )


class MoHandler(Protocol):
    """Takes a whole mobile-originated message (see the module docstring for the guarantee).

    Return once the message is safe — acted on or stored; raise to have the SMSC deliver it
    again later."""

    async def __call__(self, message: MobileOriginated, /) -> None: ...


def _elements(user_data: bytes) -> tuple[tuple[tuple[int, bytes], ...], int]:
    """(elements, header length with UDHL) of user data starting with a header."""
    if not user_data or 1 + user_data[0] > len(user_data):
        raise MoError("user data header longer than the message")
    end = 1 + user_data[0]
    elements, at = [], 1
    while at < end:
        if at + 2 > end or at + 2 + user_data[at + 1] > end:
            raise MoError("user data header element cut short")
        size = user_data[at + 1]
        elements.append((user_data[at], user_data[at + 2 : at + 2 + size]))
        at += 2 + size
    return tuple(elements), end


def _header(elements: tuple[tuple[int, bytes], ...]) -> bytes:
    body = b"".join(bytes((iei, len(data))) + data for iei, data in elements)
    return bytes((len(body),)) + body if elements else b""


@dataclass
class _Part(Generic[T]):
    token: T
    elements: tuple[tuple[int, bytes], ...]
    payload: bytes


@dataclass
class _Group(Generic[T]):
    started: float
    total: int
    parts: dict[int, _Part[T]] = field(default_factory=dict)


@dataclass(frozen=True)
class Assembly(Generic[T]):
    """What one part did: completed a ``message`` (from the parts ``tokens``), or not yet;
    ``superseded`` are earlier copies of this very part (the SMSC sent it again)."""

    message: MobileOriginated | None
    tokens: tuple[T, ...] = ()
    superseded: tuple[T, ...] = ()


class MoAssembler(Generic[T]):
    """Joins the parts of concatenated messages; each part is held with a ``token`` (whatever
    the caller needs to answer it) until its message is whole."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str, int, int], _Group[T]] = {}

    def add(self, token: T, message: ShortMessage, now: float) -> Assembly[T]:
        """Take one deliver_sm; `MoError` when its header does not parse."""
        elements: tuple[tuple[int, bytes], ...] = ()
        payload = message.short_message
        if message.esm_class & UDHI:
            elements, size = _elements(payload)
            payload = payload[size:]
        concat = _concatenation(elements)
        if concat is None or concat[1] == 1:
            whole = _message(message, [_Part(token, elements, payload)])
            return Assembly(whole, (token,))
        reference, total, seq = concat
        key = (message.source.addr, message.destination.addr, reference, total)
        group = self._groups.setdefault(key, _Group(now, total))
        old = group.parts.get(seq)
        group.parts[seq] = _Part(token, elements, payload)
        superseded = (old.token,) if old is not None else ()
        if len(group.parts) < total:
            return Assembly(None, (), superseded)
        del self._groups[key]
        parts = [group.parts[n] for n in range(1, total + 1)]
        return Assembly(_message(message, parts), tuple(p.token for p in parts), superseded)

    def stale(self, older_than: float) -> list[T]:
        """Give up the messages whose first part came before ``older_than``: the tokens of
        their parts (to be answered "try again": the SMSC sends them again)."""
        gone = [key for key, group in self._groups.items() if group.started < older_than]
        return [p.token for key in gone for p in self._groups.pop(key).parts.values()]

    def forget(self, lost: Callable[[T], bool]) -> None:
        """Drop the parts whose token is ``lost`` (their bind went: the SMSC sends them
        again, as it never had an answer)."""
        for key, group in list(self._groups.items()):
            group.parts = {n: p for n, p in group.parts.items() if not lost(p.token)}
            if not group.parts:
                del self._groups[key]

    def held(self) -> int:
        return sum(len(g.parts) for g in self._groups.values())


def _concatenation(elements: tuple[tuple[int, bytes], ...]) -> tuple[int, int, int] | None:
    """(reference, total, sequence) from an 8- or 16-bit concatenation element."""
    for iei, data in elements:
        if iei == IEI_CONCAT_8BIT and len(data) == 3:
            reference, total, seq = data
        elif iei == IEI_CONCAT_16BIT and len(data) == 4:
            reference, total, seq = int.from_bytes(data[:2], "big"), data[2], data[3]
        else:
            continue
        if not 1 <= seq <= total:
            raise MoError(f"concatenation: part {seq} of {total}")
        return reference, total, seq
    return None


def _message(first: ShortMessage, parts: list[_Part[T]]) -> MobileOriginated:
    kept = tuple(
        (iei, data)
        for iei, data in parts[0].elements
        if iei not in (IEI_CONCAT_8BIT, IEI_CONCAT_16BIT)
    )
    return MobileOriginated(
        source=first.source.addr,
        destination=first.destination.addr,
        protocol_id=first.protocol_id,
        data_coding=first.data_coding,
        user_data=_header(kept) + b"".join(p.payload for p in parts),
        udhi=bool(kept),
        parts=len(parts),
    )
