"""Cards over the air as a `NetworkElement`: RFM in secured packets by SMS, through the SMSC.

``OtaTransport(settings, sms, counters)`` carries out two operations of `gateway.operations`:

* ``OtaUpdate(card, files)`` — the files' RFM commands (SELECT, UPDATE BINARY/RECORD;
  `adapters.ota.card_files`), one secured command packet per RFM application they need,
  secured with the card's key set (``card.keys``) and its next counter (reserved and persisted
  in the counter store *before* the packet is built, so a retried or reconciled command never
  reuses one), split into SMS (PID 7F, DCS F6, UDH IEI 70) and submitted through the shared
  `SmppClient` to the card's number. Then it waits for the card's **PoR**, which comes back as a
  mobile-originated SMS (`accept`) and is matched to its request by TAR and counter.
* ``OtaRead(card, files)`` — READ BINARY/RECORD in the expanded format (every command's
  answer), the files decoded into the reply's fields as JSON.

``read(lookup)`` reads ``lookup.card.files`` the same way into ``SubscriberView.card``: what the
engine reconciles an unknown outcome with.

Replies:

| what happened | outcome | code | unreachable |
|---|---|---|---|
| PoR verified, every command executed | OK | ``por-00`` | |
| PoR with an error status (security, counter, TAR) | PERMANENT | ``por-XX`` (the status) | |
| PoR OK, a command refused (e.g. no such file) | PERMANENT | ``sw-XXXX`` | |
| PoR "more time" (status 08) | UNKNOWN | ``por-08`` | |
| no PoR within ``por_timeout`` | UNKNOWN | ``no-por`` | no |
| the submit failed | the submit's: TRANSIENT, UNKNOWN, PERMANENT | the SMSC's | the submit's |

A PoR that claims success and does not verify with the card's keys is ignored (logged); so is
a PoR for no request waiting (late: after its request's timeout — the read-back settles it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from adapters.network_element import NotSupported
from adapters.ota import card_files
from adapters.ota.card_files import CardFileError
from adapters.smpp.client import SmppClient, SubmitResult
from adapters.smpp.mo import MobileOriginated
from adapters.transport_failures import NeUnavailable
from gateway.operations import (
    CardFile,
    CardFileName,
    CardView,
    Lookup,
    Operation,
    OtaCard,
    OtaKeys,
    OtaRead,
    OtaUpdate,
    Outcome,
    Reply,
    SubscriberView,
)
from simcard import ota as scp80
from simcard import rfm
from simcard.ota_counters import Counters, SqliteCounters
from simcard.ota_keys import KeySet
from simcard.rfm import Format
from simcard.secured_packet import PorStatus, SecuredPacketError, wrap_command
from simcard.sms_pp import (
    DCS_CLASS2_8BIT,
    IEI_COMMAND_PACKET,
    IEI_RESPONSE_PACKET,
    PID_USIM_DATA_DOWNLOAD,
    segment,
)

log = logging.getLogger(__name__)

_APPLICATIONS = {rfm.TAR_USIM_RFM: "USIM RFM", rfm.TAR_UICC_RFM: "UICC RFM"}


class OtaSettings(BaseModel):
    """How the gateway reaches cards over the air."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field("ota", description="the target's name in plans")
    address: str = Field(
        "10658800",
        pattern=r"^[0-9]{3,15}$",
        description="the number OTA SMS come from; cards send their PoR there",
    )
    por_timeout: float = Field(30.0, gt=0, description="seconds to wait for a card's PoR")
    counters: Path = Field(Path("var/ota-counters.sqlite"), description="the counter store")
    smsp_record_length: int = Field(
        card_files.SMSP_RECORD_LENGTH, ge=28, le=255, description="EF.SMSP records on the cards"
    )


@dataclass
class _Waiting:
    """A request on its way: the PoR it waits for."""

    request: scp80.OtaRequest
    por: asyncio.Future[tuple[scp80.OtaOutcome, int]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(frozen=True)
class _Exchange:
    """One command packet: what the submit did, and the PoR's outcome if one came."""

    request: scp80.OtaRequest
    submit: SubmitResult
    outcome: scp80.OtaOutcome | None
    por_sms: int = 0
    elapsed_ms: float = 0.0


class OtaTransport:
    """`NetworkElement` for cards over the air (dialect ``ota-scp80``); see the module
    docstring. ``sms`` is shared with the SMSC element; its MO handler must hand PoRs to
    `accept` (``takes`` says which)."""

    dialect = "ota-scp80"

    def __init__(
        self, settings: OtaSettings, sms: SmppClient, counters: Counters | None = None
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self._sms = sms
        self._counters = counters if counters is not None else SqliteCounters(settings.counters)
        self._spots = card_files.spots(settings.smsp_record_length)
        self._waiting: dict[str, list[_Waiting]] = {}
        self._references = 0

    # -- NetworkElement ---------------------------------------------------------------------

    def render(self, op: Operation) -> str:
        if isinstance(op, OtaUpdate):
            scripts = self._update_scripts(op)
            what = "update"
        elif isinstance(op, OtaRead):
            scripts = self._read_scripts(op.files)
            what = "read"
        else:
            raise NotSupported(f"{self.name}: OTA carries out card updates and reads only")
        lines = [
            f"OTA {what} of card {op.card.iccid} by SMS to {op.card.msisdn} from "
            f"{self.settings.address}, key set {op.card.keys.version} "
            f"({op.card.keys.algorithm.upper()}, KIc/KID ****), next counter of the card:"
        ]
        for tar, commands, words in scripts:
            lines.append(f"  {_APPLICATIONS[tar]} (TAR {tar.hex().upper()}): {'; '.join(words)}")
            sms = self._sms_needed(op.card, tar, commands, Format.COMPACT)
            if sms > self._sms.settings.max_parts:
                raise NotSupported(
                    f"{self.name}: {_APPLICATIONS[tar]} script needs {sms} SMS, at most "
                    f"{self._sms.settings.max_parts} are sent for one packet"
                )
        return "\n".join(lines)

    def check(self, op: Operation) -> None:
        self.render(op)

    async def execute(self, op: Operation) -> Reply:
        command = self.render(op)
        if isinstance(op, OtaRead):
            return await self._read_reply(op, command)
        assert isinstance(op, OtaUpdate)
        started = time.perf_counter()
        sent, received, proven = 0, 0, 0
        counters = []
        for tar, commands, _ in self._update_scripts(op):
            exchange = await self._exchange(op.card, tar, commands, Format.COMPACT)
            sent += len(exchange.request.messages)
            received += exchange.por_sms
            counters.append(str(exchange.request.counter))
            failed = _failure(exchange, uncertain=proven > 0)
            if failed is not None:
                return failed.model_copy(
                    update={
                        "command": command,
                        "fields": {**failed.fields, **_counts(counters, sent, received)},
                        "elapsed_ms": (time.perf_counter() - started) * 1000.0,
                    }
                )
            proven += 1
        return Reply(
            outcome=Outcome.OK,
            code="por-00",
            text=f"PoR verified: every command executed ({proven} packet(s))",
            fields=_counts(counters, sent, received),
            command=command,
            response=f"PoR OK, counter(s) {', '.join(counters)}",
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )

    async def read(self, lookup: Lookup) -> SubscriberView:
        """The files ``lookup.card`` names, read over the air. `TimeoutError` when no PoR came,
        `ConnectionError` when they could not be read otherwise (nothing sent, the card
        refused)."""
        if lookup.card is None:
            raise NotSupported(f"{self.name}: an OTA read needs the card (lookup.card)")
        files = await self._read_files(lookup.card.card, lookup.card.files)
        if isinstance(files, Reply):
            if files.outcome is Outcome.UNKNOWN and not files.unreachable:
                raise TimeoutError(f"{self.name}: {files.text}")
            raise NeUnavailable(f"{self.name}: cannot read the card: {files.code} {files.text}")
        return SubscriberView(
            exists=True,
            msisdn=lookup.card.card.msisdn,
            card=CardView(iccid=lookup.card.card.iccid, files=files),
        )

    async def probe(self) -> None:
        """The SMPP bind answers an enquire_link: the way to the cards is open."""
        await self._sms.probe()

    async def close(self) -> None:
        """Nothing of its own to close (the SMPP client is shared); waiting requests end."""
        for waiting in self._waiting.values():
            for entry in waiting:
                entry.por.cancel()
        self._waiting.clear()

    # -- PoRs coming in -----------------------------------------------------------------------

    def takes(self, message: MobileOriginated) -> bool:
        """Whether a mobile-originated message is for OTA: a (U)SIM data download answer
        (PID 7F), or anything sent to the OTA address."""
        return (
            message.protocol_id == PID_USIM_DATA_DOWNLOAD
            or message.destination.lstrip("+") == self.settings.address
        )

    async def accept(self, message: MobileOriginated) -> None:
        """A card's PoR (or something else sent to the OTA address): matched to the request
        waiting for it, else logged. Never raises: a message the gateway cannot use is still
        taken (the SMSC must not deliver it again)."""
        if (IEI_RESPONSE_PACKET, b"") not in message.header:
            log.info("%s: not a PoR, ignored: %s", self.name, message.describe())
            return
        source = message.source.lstrip("+")
        for entry in list(self._waiting.get(source, ())):
            try:
                outcome = scp80.read_por(entry.request, message.user_data)
            except scp80.PorMismatchError:
                continue
            except (SecuredPacketError, ValueError) as exc:
                log.warning("%s: PoR from %s does not verify: %s", self.name, source, exc)
                return
            if not entry.por.done():
                entry.por.set_result((outcome, message.parts))
            return
        log.info("%s: PoR from %s for no request waiting (late?)", self.name, source)

    # -- the exchange -----------------------------------------------------------------------

    async def _exchange(
        self, card: OtaCard, tar: bytes, commands: list[bytes], fmt: Format
    ) -> _Exchange:
        started = time.perf_counter()
        target = scp80.OtaCard(card.iccid, _keyset(card.keys), tar=tar, fmt=fmt)
        self._references = (self._references + 1) & 0xFF
        request = await asyncio.to_thread(  # SQLite with fsync: not on the event loop
            scp80.prepare, target, commands, self._counters, reference=self._references
        )
        entry = _Waiting(request)
        waiting = self._waiting.setdefault(card.msisdn, [])
        waiting.append(entry)
        try:
            submit = await self._sms.submit_data(
                card.msisdn,
                request.messages,
                sender=self.settings.address,
                reference=f"ota/{card.iccid}/{card.keys.version}/{request.counter}",
                protocol_id=PID_USIM_DATA_DOWNLOAD,
                data_coding=DCS_CLASS2_8BIT,
            )
            if not submit.ok:
                return _Exchange(request, submit, None)
            try:
                outcome, parts = await asyncio.wait_for(entry.por, self.settings.por_timeout)
            except TimeoutError:
                return _Exchange(request, submit, None, 0, _ms(started))
            return _Exchange(request, submit, outcome, parts, _ms(started))
        finally:
            waiting.remove(entry)
            if not waiting:
                self._waiting.pop(card.msisdn, None)

    async def _read_files(
        self, card: OtaCard, names: Sequence[CardFileName]
    ) -> dict[CardFileName, CardFile] | Reply:
        """The files that are not blank, or the reply saying why they could not be read."""
        files: dict[CardFileName, CardFile] = {}
        for tar, commands, _ in self._read_scripts(names):
            exchange = await self._exchange(card, tar, commands, Format.EXPANDED)
            failed = _failure(exchange, uncertain=False)
            if failed is not None:
                return failed
            assert exchange.outcome is not None and exchange.outcome.rfm is not None
            answers = [r.data for r in exchange.outcome.rfm.responses]
            at = 0
            for name in names:  # in the order the script has them
                spot = self._spots[name]
                if spot.tar != tar:
                    continue
                at += len(spot.path)
                reads = len(spot.reads())
                try:
                    content = card_files.decode(spot, answers[at : at + reads])
                except CardFileError as exc:
                    return Reply(outcome=Outcome.PERMANENT, code="unreadable", text=str(exc))
                at += reads
                if content is not None:
                    files[name] = content
        return files

    async def _read_reply(self, op: OtaRead, command: str) -> Reply:
        started = time.perf_counter()
        files = await self._read_files(op.card, op.files)
        elapsed = (time.perf_counter() - started) * 1000.0
        if isinstance(files, Reply):
            return files.model_copy(update={"command": command, "elapsed_ms": elapsed})
        fields = {
            name: json.dumps(files[name].model_dump(mode="json"), ensure_ascii=False)
            if name in files
            else "null"
            for name in op.files
        }
        return Reply(
            outcome=Outcome.OK,
            code="por-00",
            text=f"read {len(files)} of {len(op.files)} file(s); the others are blank",
            fields=fields,
            command=command,
            response=json.dumps(fields, ensure_ascii=False),
            elapsed_ms=elapsed,
        )

    # -- scripts ----------------------------------------------------------------------------

    def _update_scripts(self, op: OtaUpdate) -> list[tuple[bytes, list[bytes], list[str]]]:
        """Per RFM application: (TAR, commands, the commands in words)."""
        scripts: dict[bytes, tuple[list[bytes], list[str]]] = {}
        for content in op.files:
            spot = self._spots[content.file]
            try:
                writes = card_files.updates(spot, content)
            except CardFileError as exc:
                raise NotSupported(f"{self.name}: the card cannot hold it: {exc}") from None
            commands, words = scripts.setdefault(spot.tar, ([], []))
            commands += spot.select() + writes
            kind = "UPDATE BINARY" if spot.records is None else f"UPDATE RECORD 1-{len(writes)}"
            words.append(
                f"SELECT {spot.where}, {kind} {spot.size} bytes: {card_files.describe(content)}"
            )
        return [(tar, commands, words) for tar, (commands, words) in scripts.items()]

    def _read_scripts(
        self, names: Sequence[CardFileName]
    ) -> list[tuple[bytes, list[bytes], list[str]]]:
        scripts: dict[bytes, tuple[list[bytes], list[str]]] = {}
        for name in names:
            spot = self._spots[name]
            commands, words = scripts.setdefault(spot.tar, ([], []))
            commands += spot.select() + spot.reads()
            kind = "READ BINARY" if spot.records is None else f"READ RECORD 1-{spot.records}"
            words.append(f"SELECT {spot.where}, {kind}")
        return [(tar, commands, words) for tar, (commands, words) in scripts.items()]

    def _sms_needed(self, card: OtaCard, tar: bytes, commands: list[bytes], fmt: Format) -> int:
        """How many SMS the packet takes: the counter is 5 bytes whatever its value, so a
        packet secured with counter 0 has the size of the real one."""
        keys = _keyset(card.keys)
        packet = wrap_command(keys, scp80.DEFAULT_SPI, tar, 0, rfm.script(commands, fmt))
        return len(segment(packet, IEI_COMMAND_PACKET, 0))


def _keyset(keys: OtaKeys) -> KeySet:
    kic = bytes.fromhex(keys.kic.get_secret_value())
    kid = bytes.fromhex(keys.kid.get_secret_value())
    return (
        KeySet.aes(keys.version, kic, kid)
        if keys.algorithm == "aes"
        else KeySet.tdes(keys.version, kic, kid)
    )


def _failure(exchange: _Exchange, *, uncertain: bool) -> Reply | None:
    """The reply for an exchange that did not prove its commands ran (None when it did).

    ``uncertain``: an earlier packet of the same update was applied, so a refusal now leaves
    the card half-updated — reported UNKNOWN, for the read-back to say what holds."""
    submit, outcome = exchange.submit, exchange.outcome
    if not submit.ok:
        text = f"the SMSC did not take the SMS: {submit.code} {submit.text}".strip()
        return Reply(
            outcome=submit.outcome, code=submit.code, text=text, unreachable=submit.unreachable
        )
    if outcome is None:
        text = f"no PoR within the timeout (counter {exchange.request.counter})"
        return Reply(outcome=Outcome.UNKNOWN, code="no-por", text=text)
    if outcome.done:
        return None
    por = outcome.por
    if not por.ok:
        code = f"por-{por.status.value:02x}"
        result = (
            Outcome.UNKNOWN
            if por.status is PorStatus.MORE_TIME or uncertain
            else (Outcome.PERMANENT)
        )
        return Reply(outcome=result, code=code, text=outcome.describe(), response=code)
    last = outcome.rfm.last if outcome.rfm is not None else None
    code = f"sw-{last.sw:04x}" if last is not None else "por-no-rfm"
    result = Outcome.UNKNOWN if uncertain else Outcome.PERMANENT
    return Reply(outcome=result, code=code, text=outcome.describe(), response=code)


def _counts(counters: list[str], sent: int, received: int) -> dict[str, str]:
    return {"counters": ",".join(counters), "sms_sent": str(sent), "sms_received": str(received)}


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
