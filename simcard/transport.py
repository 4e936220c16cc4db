"""How APDUs reach a card: PC/SC through pyscard, or straight into an in-process card object.

Both transports share the T=0 chores nothing else in the chain does for us (see
shared/reference/pcsc-vpcd.md): GET RESPONSE on `61xx` (and `9Fxx` for GSM-class commands) and
a repeat with the right Le on `6Cxx`. They also count every APDU they send, GET RESPONSEs
included, because APDUs per card is the figure that decides how long a batch takes.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from smartcard import scard

from simcard.errors import CardRemovedError, NoCardError, ReaderError

_GET_RESPONSE = 0xC0
_MAX_CHAINED = 32  # GET RESPONSE rounds before giving up on a card that never says 9000


@runtime_checkable
class Transport(Protocol):
    """A connection to one card: send a command APDU, get (response data, status word)."""

    @property
    def atr(self) -> bytes: ...

    @property
    def apdu_count(self) -> int: ...

    def connect(self) -> bytes:
        """Power the card up (or attach to it) and return its ATR."""
        ...

    def transmit(self, apdu: bytes) -> tuple[bytes, int]: ...

    def disconnect(self) -> None: ...


class _T0Transport(ABC):
    """Counting and the 61xx/6Cxx/9Fxx handling, over a raw `_exchange`."""

    def __init__(self) -> None:
        self._atr = b""
        self._count = 0

    @property
    def atr(self) -> bytes:
        return self._atr

    @property
    def apdu_count(self) -> int:
        return self._count

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        if len(apdu) < 4:
            raise ValueError("a command APDU has at least 4 bytes")
        response = self._send(apdu)
        if response[-2] == 0x6C:
            response = self._send(_with_le(apdu, response[-1]))
        data = bytearray(response[:-2])
        for _ in range(_MAX_CHAINED):
            sw1, sw2 = response[-2], response[-1]
            if sw1 not in (0x61, 0x9F):
                break
            get_response = bytes([apdu[0], _GET_RESPONSE, 0, 0, sw2])
            response = self._send(get_response)
            data += response[:-2]
        return bytes(data), int.from_bytes(response[-2:], "big")

    def _send(self, apdu: bytes) -> bytes:
        response = self._exchange(apdu)
        self._count += 1
        if len(response) < 2:
            raise CardRemovedError("card answered with no status word")
        return response

    @abstractmethod
    def _exchange(self, apdu: bytes) -> bytes:
        """One command APDU out, the raw response (data + SW1 SW2) back."""

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self, exc: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.disconnect()

    @abstractmethod
    def connect(self) -> bytes: ...

    @abstractmethod
    def disconnect(self) -> None: ...


def _with_le(apdu: bytes, le: int) -> bytes:
    """The same command with Le set (case 1/3: appended; case 2/4: replaced)."""
    if len(apdu) == 4:
        return apdu + bytes([le])
    if len(apdu) == 5:
        return apdu[:4] + bytes([le])
    if len(apdu) == 5 + apdu[4]:
        return apdu + bytes([le])
    return apdu[:-1] + bytes([le])


class InProcessCard(Protocol):
    """Anything that behaves like a card: the USIM emulator, or a test double."""

    def power_on(self) -> bytes: ...

    def transmit(self, apdu: bytes) -> bytes: ...


class InProcessTransport(_T0Transport):
    """APDUs handed straight to a card object in this process (unit tests, benchmarks)."""

    def __init__(self, card: InProcessCard) -> None:
        super().__init__()
        self.card = card

    def connect(self) -> bytes:
        self._atr = self.card.power_on()
        return self._atr

    def _exchange(self, apdu: bytes) -> bytes:
        return self.card.transmit(apdu)

    def disconnect(self) -> None:
        """Nothing to release; the card object stays as it is."""


_REMOVED = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_W_RESET_CARD, scard.SCARD_E_NO_SMARTCARD}
_REMOVED |= {scard.SCARD_W_UNPOWERED_CARD, scard.SCARD_E_NOT_TRANSACTED}
_STATUS_POLL_MS = 200


def _pcsc_message(rc: int) -> str:
    return f"{scard.SCardGetErrorMessage(rc).strip()} (0x{rc & 0xFFFFFFFF:08X})"


def _context() -> int:
    rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rc != scard.SCARD_S_SUCCESS:
        raise ReaderError(f"PC/SC is not available (is pcscd running?): {_pcsc_message(rc)}")
    return int(ctx)


def list_readers() -> list[str]:
    """The PC/SC readers pcscd knows (empty when there are none)."""
    ctx = _context()
    try:
        rc, readers = scard.SCardListReaders(ctx, [])
        if rc == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if rc != scard.SCARD_S_SUCCESS:
            raise ReaderError(f"cannot list readers: {_pcsc_message(rc)}")
        return list(readers)
    finally:
        scard.SCardReleaseContext(ctx)


def resolve_reader(wanted: str | None, readers: list[str]) -> str:
    """The reader named `wanted` exactly, else the one whose name contains it (case-blind).

    With no name the only reader is chosen; several readers then need a name, since writing
    to the wrong card is worse than asking.
    """
    if not readers:
        raise ReaderError("no PC/SC reader found")
    if wanted is None:
        if len(readers) == 1:
            return readers[0]
        raise ReaderError(f"several readers, choose one with --reader: {', '.join(readers)}")
    if wanted in readers:
        return wanted
    matches = [r for r in readers if wanted.lower() in r.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ReaderError(f"no reader matches {wanted!r}; readers: {', '.join(readers)}")
    raise ReaderError(f"{wanted!r} matches several readers: {', '.join(matches)}")


class PcscTransport(_T0Transport):
    """A card in a PC/SC reader, through pcscd.

    Exclusive by default (as pySim opens readers), so no other program interleaves commands
    while a card is being written; `shared=True` lets tools watch alongside. After the card
    leaves the reader every command raises CardRemovedError until `reconnect()` succeeds on a
    card put back (or `wait_for_card` + `connect` for the next card of a batch).
    """

    def __init__(self, reader: str | None = None, *, shared: bool = False) -> None:
        super().__init__()
        self._ctx: int | None = None
        self._card: int | None = None
        self._protocol = 0
        self._share = scard.SCARD_SHARE_SHARED if shared else scard.SCARD_SHARE_EXCLUSIVE
        self.reader = resolve_reader(reader, list_readers())

    def _context(self) -> int:
        if self._ctx is None:
            self._ctx = _context()
        return self._ctx

    def connect(self) -> bytes:
        if self._card is not None:
            return self._atr
        protocols = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        rc, card, protocol = scard.SCardConnect(
            self._context(), self.reader, self._share, protocols
        )
        if rc in (scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_REMOVED_CARD):
            raise NoCardError(f"no card in {self.reader!r}")
        if rc == scard.SCARD_E_SHARING_VIOLATION:
            raise ReaderError(f"{self.reader!r} is in use by another program")
        if rc != scard.SCARD_S_SUCCESS:
            raise ReaderError(f"cannot connect to {self.reader!r}: {_pcsc_message(rc)}")
        self._card, self._protocol = card, protocol
        self._atr = self._read_atr()
        return self._atr

    def _read_atr(self) -> bytes:
        rc, _, _, _, atr = scard.SCardStatus(self._card)
        if rc != scard.SCARD_S_SUCCESS:
            raise CardRemovedError(f"card in {self.reader!r} gone: {_pcsc_message(rc)}")
        return bytes(atr)

    def reconnect(self) -> bytes:
        """Re-attach after the card was pulled and put back (or reset); returns the ATR."""
        if self._card is None:
            return self.connect()
        protocols = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        rc, protocol = scard.SCardReconnect(
            self._card, self._share, protocols, scard.SCARD_RESET_CARD
        )
        if rc != scard.SCARD_S_SUCCESS:
            self._drop_card()
            return self.connect()
        self._protocol = protocol
        self._atr = self._read_atr()
        return self._atr

    def _exchange(self, apdu: bytes) -> bytes:
        if self._card is None:
            raise CardRemovedError(f"not connected to a card in {self.reader!r}")
        rc, response = scard.SCardTransmit(self._card, self._protocol, list(apdu))
        if rc in _REMOVED:
            raise CardRemovedError(f"card removed from {self.reader!r}: {_pcsc_message(rc)}")
        if rc != scard.SCARD_S_SUCCESS:
            raise CardRemovedError(f"{self.reader!r} failed a command: {_pcsc_message(rc)}")
        return bytes(response)

    def disconnect(self) -> None:
        """Reset the card (forgetting ADM/PIN verification) and release PC/SC."""
        self._drop_card()
        if self._ctx is not None:
            scard.SCardReleaseContext(self._ctx)
            self._ctx = None

    def _drop_card(self) -> None:
        if self._card is not None:
            scard.SCardDisconnect(self._card, scard.SCARD_RESET_CARD)
            self._card = None

    def card_present(self) -> bool:
        """Whether pcscd reports a card in the reader right now."""
        _, state = self._status_change(scard.SCARD_STATE_UNAWARE, 0)
        return bool(state & scard.SCARD_STATE_PRESENT)

    def wait_for_card(self, timeout: float | None = None, *, present: bool = True) -> bool:
        """Wait until a card is in (or out of) the reader; False on timeout.

        Watches the reader status the PC/SC way (SCardGetStatusChange), never by touching the
        card; `timeout=None` waits for ever (a batch waiting for the clerk's next card).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        known = scard.SCARD_STATE_UNAWARE
        while True:
            wait_ms = _STATUS_POLL_MS
            if deadline is not None:
                wait_ms = max(0, min(wait_ms, int((deadline - time.monotonic()) * 1000)))
            changed, state = self._status_change(known, wait_ms)
            if changed:
                if bool(state & scard.SCARD_STATE_PRESENT) == present:
                    return True
                known = state & ~scard.SCARD_STATE_CHANGED
            if deadline is not None and time.monotonic() >= deadline:
                return False

    def _status_change(self, known: int, wait_ms: int) -> tuple[bool, int]:
        rc, states = scard.SCardGetStatusChange(self._context(), wait_ms, [(self.reader, known)])
        if rc == scard.SCARD_E_TIMEOUT:
            return False, known
        if rc != scard.SCARD_S_SUCCESS:
            raise ReaderError(f"cannot watch {self.reader!r}: {_pcsc_message(rc)}")
        return True, int(states[0][1])
