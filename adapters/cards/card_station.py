"""Card stations: where the gateway writes blank USIM cards and proves them against the network.

A station is split in two. `CardStationAdapter` holds the gateway's logic — a profile from the
plan's `WriteCard`, the proof (a vector from the network's authentication centre, the card's
answer, RES against XRES), and how each card failure reads for the clerk and the engine. The
`CardAccess` below it only moves bytes to a card: `LocalReader` through a PC/SC reader on this
machine; a card agent beside a clerk's PC can stand in for it (the reader need not sit on the
gateway's machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from adapters.network_element import AuthenticationCentre, Resynchronising
from gateway.operations import (
    ABSENT,
    CardOperation,
    Lookup,
    Outcome,
    ProveAuthentication,
    Reply,
    SubscriberView,
    WriteCard,
)
from simcard.errors import (
    AdmRejectedError,
    AuthenticationRejectedError,
    CardLayerError,
    CardRemovedError,
    HalfWrittenCardError,
    NoCardError,
    ReaderError,
)
from simcard.profile import CardProfile
from simcard.reader import read_card
from simcard.transport import PcscTransport, Transport
from simcard.verifier import AuthResult, challenge
from simcard.writer import CardReport, write_card

log = logging.getLogger(__name__)

AucLookup = Callable[[str], AuthenticationCentre | None]


class CardAccess(Protocol):
    """One card reader, wherever it is. Raises `simcard.errors` exceptions for card trouble."""

    where: str

    async def write(self, profile: CardProfile) -> CardReport:
        """Write the blank card in the reader, read it back, prove its keys locally."""
        ...

    async def challenge(self, rand: bytes, autn: bytes) -> AuthResult:
        """AUTHENTICATE (3G context) with a network's RAND/AUTN."""
        ...

    async def imsi(self) -> str | None:
        """The IMSI of the card in the reader; None for a blank card."""
        ...


class LocalReader:
    """A PC/SC reader on the gateway's machine. Card I/O blocks, so it runs in a thread."""

    def __init__(self, reader: str | None, transport: Callable[[], Transport] | None = None):
        self.where = f'reader "{reader}"' if reader else "the only reader"
        self._transport = transport or (lambda: PcscTransport(reader))

    @contextlib.contextmanager
    def _card(self) -> Iterator[Transport]:
        """The card in the reader, connected for one operation and released after it."""
        transport = self._transport()
        try:
            transport.connect()
            yield transport
        finally:
            transport.disconnect()

    def _write(self, profile: CardProfile) -> CardReport:
        with self._card() as transport:
            return write_card(transport, profile)

    def _challenge(self, rand: bytes, autn: bytes) -> AuthResult:
        with self._card() as transport:
            return challenge(transport, rand, autn)

    def _imsi(self) -> str | None:
        with self._card() as transport:
            value = read_card(transport)["files"]["imsi"]["value"]
        return str(value) if value else None

    async def write(self, profile: CardProfile) -> CardReport:
        return await asyncio.to_thread(self._write, profile)

    async def challenge(self, rand: bytes, autn: bytes) -> AuthResult:
        return await asyncio.to_thread(self._challenge, rand, autn)

    async def imsi(self) -> str | None:
        return await asyncio.to_thread(self._imsi)


class CardStationAdapter:
    """Implements `adapters.network_element.CardStation` over any `CardAccess`."""

    def __init__(self, name: str, access: CardAccess, *, auc: AucLookup, dialect: str) -> None:
        self.name = name
        self.dialect = dialect
        self.access = access
        self._auc = auc
        self._lock = asyncio.Lock()  # one card operation at a time per reader

    def render(self, op: CardOperation) -> str:
        if isinstance(op, WriteCard):
            return (
                f"WRITE CARD ICCID={op.iccid} IMSI={op.imsi} MSISDN={op.msisdn or '-'} "
                f'KI="****" OPC="****" ADM1="****" at {self.access.where}; read back; AUTHENTICATE'
            )
        return (
            f"AUTHENTICATE IMSI={op.imsi} with a vector from {op.ne} at {self.access.where}; "
            "RES = XRES?"
        )

    async def execute(self, op: CardOperation) -> Reply:
        started = time.perf_counter()
        async with self._lock:
            if isinstance(op, WriteCard):
                reply = await self._write(op)
            else:
                reply = await self._prove(op)
        return reply.model_copy(
            update={"command": self.render(op), "elapsed_ms": (time.perf_counter() - started) * 1e3}
        )

    async def _write(self, op: WriteCard) -> Reply:
        try:
            profile = CardProfile.create(
                iccid=op.iccid,
                imsi=op.imsi,
                ki=op.ki.get_secret_value(),
                opc=op.opc.get_secret_value(),
                msisdn=f"+{op.msisdn}" if op.msisdn else None,
                spn=op.spn,
                adm1=op.adm1.get_secret_value(),
            )
            report = await self.access.write(profile)
        except HalfWrittenCardError as exc:
            # Never retried: the card is neither blank nor written. The text lists what was.
            return _failed(Outcome.PERMANENT, "half-written", str(exc))
        except (NoCardError, CardRemovedError) as exc:
            return _failed(Outcome.TRANSIENT, "no-card", f"insert a blank card: {exc}")
        except AdmRejectedError as exc:
            return _failed(Outcome.PERMANENT, "adm-rejected", str(exc))
        except ReaderError as exc:
            return _failed(Outcome.TRANSIENT, "reader", str(exc))
        except (CardLayerError, ValueError) as exc:
            return _failed(Outcome.PERMANENT, "card", str(exc))
        return Reply(
            outcome=Outcome.OK,
            text=f"{report.model} written: {report.apdus} APDUs, {report.elapsed_ms:.0f} ms",
            response=", ".join(report.written),
        )

    async def _prove(self, op: ProveAuthentication) -> Reply:
        auc = self._auc(op.ne)
        if auc is None:
            return _failed(Outcome.PERMANENT, "no-auc", f"{op.ne} has no authentication centre")
        outcome = await self._challenge_once(op, auc)
        if isinstance(outcome, _Answer) and outcome.result.auts is not None:
            # The card's sequence number is ahead of the network's (a card proven before, by
            # another network or by the writer itself): resynchronise, then one more vector.
            if not isinstance(auc, Resynchronising):
                return _failed(
                    Outcome.PERMANENT,
                    "sync-failure",
                    f"card and {op.ne} out of step, and {op.ne} cannot resynchronise",
                )
            try:
                await auc.resync(op.imsi, outcome.rand.hex(), outcome.result.auts.hex())
            except (LookupError, ValueError) as exc:
                return _failed(Outcome.PERMANENT, "sync-failure", f"{op.ne}: {exc}")
            except (ConnectionError, OSError, TimeoutError) as exc:
                return _failed(Outcome.TRANSIENT, "auc-unreachable", f"{op.ne}: {exc}")
            outcome = await self._challenge_once(op, auc)
        if isinstance(outcome, Reply):
            return outcome
        if outcome.result.auts is not None:
            return _failed(Outcome.PERMANENT, "sync-failure", "card and network out of step (AUTS)")
        return Reply(outcome=Outcome.OK, text="proven: the card's RES equals the network's XRES")

    async def _challenge_once(
        self, op: ProveAuthentication, auc: AuthenticationCentre
    ) -> Reply | _Answer:
        """A vector and the card's answer to it: a failure `Reply`, or the answer (RES
        already checked against XRES; an AUTS is left to the caller)."""
        try:
            vector = await auc.auth_vector(op.imsi)
        except LookupError as exc:
            return _failed(Outcome.PERMANENT, "no-auth-data", f"{op.ne}: {exc}")
        except (ConnectionError, OSError, TimeoutError) as exc:
            return _failed(Outcome.TRANSIENT, "auc-unreachable", f"{op.ne}: {exc}")
        rand = bytes.fromhex(vector.rand)
        try:
            result = await self.access.challenge(rand, bytes.fromhex(vector.autn))
        except AuthenticationRejectedError:
            return _failed(
                Outcome.PERMANENT,
                "mac-failure",
                f"the card rejected {op.ne}'s challenge: card and network hold different keys",
            )
        except (NoCardError, CardRemovedError, ReaderError) as exc:
            return _failed(Outcome.TRANSIENT, "no-card", f"put the new card back: {exc}")
        except CardLayerError as exc:
            return _failed(Outcome.PERMANENT, "card", str(exc))
        if result.auts is None and result.res.hex() != vector.xres:
            return _failed(
                Outcome.PERMANENT,
                "res-mismatch",
                "the card's answer differs from the network's expected answer (RES ≠ XRES)",
            )
        return _Answer(rand, result)

    async def read(self, lookup: Lookup) -> SubscriberView:
        try:
            card = await self.access.imsi()
        except CardLayerError as exc:
            raise ConnectionError(f"station {self.name}: {exc}") from exc
        if card is None:
            return ABSENT
        held = card == lookup.imsi
        return SubscriberView(exists=held, auth_loaded=held, imsi=card)

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class _Answer:
    rand: bytes
    result: AuthResult


def pcsc_station(
    name: str,
    *,
    reader: str | None,
    auc: AucLookup,
    transport: Callable[[], Transport] | None = None,
) -> CardStationAdapter:
    """A station on a PC/SC reader of the gateway's own machine."""
    return CardStationAdapter(name, LocalReader(reader, transport), auc=auc, dialect="pcsc-card")


def _failed(outcome: Outcome, code: str, text: str) -> Reply:
    log.info("card station: %s (%s)", text, code)
    return Reply(outcome=outcome, code=code, text=text)
