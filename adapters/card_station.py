"""A card station: a PC/SC reader where the gateway writes and proves blank USIM cards.

The writing is `simcard`'s (write, read back every file, prove the keys locally); the proof
that counts comes afterwards: a vector from the network's authentication centre, and the card's
answer to it. Card I/O blocks, so it runs in a worker thread, one card operation at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator

from adapters.network_element import AuthenticationCentre
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
from simcard.writer import write_card

log = logging.getLogger(__name__)

TransportFactory = Callable[[], Transport]
AucLookup = Callable[[str], AuthenticationCentre | None]


class PcscCardStation:
    """Implements `adapters.network_element.CardStation` over one PC/SC reader."""

    dialect = "pcsc-card"

    def __init__(
        self,
        name: str,
        *,
        reader: str | None,
        auc: AucLookup,
        transport: TransportFactory | None = None,
    ) -> None:
        self.name = name
        self.reader = reader
        self._auc = auc
        self._transport = transport or (lambda: PcscTransport(reader))
        self._lock = asyncio.Lock()

    def render(self, op: CardOperation) -> str:
        where = f'reader "{self.reader}"' if self.reader else f"station {self.name}"
        if isinstance(op, WriteCard):
            return (
                f"WRITE CARD ICCID={op.iccid} IMSI={op.imsi} MSISDN={op.msisdn or '-'} "
                f'KI="****" OPC="****" ADM1="****" at {where}; read back; AUTHENTICATE'
            )
        return f"AUTHENTICATE IMSI={op.imsi} with a vector from {op.ne} at {where}; RES = XRES?"

    async def execute(self, op: CardOperation) -> Reply:
        started = time.perf_counter()
        async with self._lock:
            if isinstance(op, WriteCard):
                reply = await asyncio.to_thread(self._write, op)
            else:
                reply = await self._prove(op)
        return reply.model_copy(
            update={"command": self.render(op), "elapsed_ms": (time.perf_counter() - started) * 1e3}
        )

    def _write(self, op: WriteCard) -> Reply:
        profile = CardProfile.create(
            iccid=op.iccid,
            imsi=op.imsi,
            ki=op.ki.get_secret_value(),
            opc=op.opc.get_secret_value(),
            msisdn=f"+{op.msisdn}" if op.msisdn else None,
            spn=op.spn,
            adm1=op.adm1.get_secret_value(),
        )
        try:
            with self._card() as transport:
                report = write_card(transport, profile)
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
        try:
            vector = await auc.auth_vector(op.imsi)
        except LookupError as exc:
            return _failed(Outcome.PERMANENT, "no-auth-data", f"{op.ne}: {exc}")
        except (ConnectionError, OSError, TimeoutError) as exc:
            return _failed(Outcome.TRANSIENT, "auc-unreachable", f"{op.ne}: {exc}")
        rand, autn = bytes.fromhex(vector.rand), bytes.fromhex(vector.autn)
        try:
            result = await asyncio.to_thread(self._challenge, rand, autn)
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
        if result.auts is not None:
            # The card's sequence number is ahead of the network's; a later attempt with a
            # vector after resynchronisation succeeds, so this is worth retrying.
            return _failed(Outcome.TRANSIENT, "sync-failure", "card and network out of step (AUTS)")
        if result.res is None or result.res.hex() != vector.xres:
            return _failed(
                Outcome.PERMANENT,
                "res-mismatch",
                "the card's answer differs from the network's expected answer (RES ≠ XRES)",
            )
        return Reply(outcome=Outcome.OK, text="proven: the card's RES equals the network's XRES")

    def _challenge(self, rand: bytes, autn: bytes) -> AuthResult:
        with self._card() as transport:
            return challenge(transport, rand, autn)

    @contextlib.contextmanager
    def _card(self) -> Iterator[Transport]:
        """The card in the reader, connected for one operation and released after it."""
        transport = self._transport()
        try:
            transport.connect()
            yield transport
        finally:
            transport.disconnect()

    async def read(self, lookup: Lookup) -> SubscriberView:
        try:
            card = await asyncio.to_thread(self._read_imsi)
        except CardLayerError as exc:
            raise ConnectionError(f"station {self.name}: {exc}") from exc
        if card is None:
            return ABSENT
        return SubscriberView(
            exists=card == lookup.imsi, auth_loaded=card == lookup.imsi, imsi=card
        )

    def _read_imsi(self) -> str | None:
        with self._card() as transport:
            value = read_card(transport)["files"]["imsi"]["value"]
        return str(value) if value else None

    async def close(self) -> None:
        return None


def _failed(outcome: Outcome, code: str, text: str) -> Reply:
    log.info("card station: %s (%s)", text, code)
    return Reply(outcome=outcome, code=code, text=text)
