"""The Osmocom HLR through its CTRL interface: the ``osmo-hlr-ctrl`` `NetworkElement`.

`adapters.osmo_hlr.mapping` says what each operation becomes (a script of CTRL stages, see there);
`adapters.osmo_hlr.ctrl` carries the commands, pipelined on one connection. This module runs the
scripts and turns what happened into one `Reply`:

* nothing could be sent (no connection, backing off, closed) → TRANSIENT, unless an earlier
  stage of the same operation already changed something → UNKNOWN;
* sent, and then no complete answer (timeout, connection lost, an answer about another
  variable) → UNKNOWN if the stage changes something or an earlier one did, else TRANSIENT:
  the engine reconciles an UNKNOWN by reading the record back (`read`);
* all of these but an answer about another variable (garbled: osmo-hlr did answer) are
  transport failures, ``unreachable`` (`adapters.transport_failures`);
* an ERROR answer → PERMANENT with the refusal's clear text, after undoing what the operation
  already changed (`adapters.osmo_hlr.mapping.Action.undo`).

Keys never leave unmasked: commands are shown from their masked form, and answers (``info-all``
lists the keys) pass through `adapters.osmo_hlr.ctrl.mask`.

The adapter is also the NE's `AuthenticationCentre` (and `Resynchronising`): `auth_vector` asks
osmo-hlr over GSUP (`adapters.osmo_hlr.gsup`, same host, port 4222) for a vector, for the gateway's
authentication proof; `resync` hands it a card's AUTS.
"""

from __future__ import annotations

import logging
import time
from types import TracebackType
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from adapters.osmo_hlr import gsup, mapping
from adapters.osmo_hlr.ctrl import Command, CtrlClient, mask
from adapters.osmo_hlr.mapping import DataLock, Refusal, Stage
from adapters.transport_failures import (
    NeUnavailable,
    NoAnswer,
    NotSent,
    TransportFailure,
    failure_reply,
)
from gateway.operations import (
    ABSENT,
    AuthVector,
    Lookup,
    Operation,
    Outcome,
    Reply,
    SubscriberView,
)

log = logging.getLogger(__name__)


class OsmoCtrlSettings(BaseModel):
    """How to reach one osmo-hlr's CTRL interface, and how the lock maps onto it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field("osmo-hlr", description="the NE's name in plans and transcripts")
    host: str = "127.0.0.1"
    port: int = Field(4259, ge=1, le=65535)
    command_timeout: float = Field(10.0, gt=0, description="seconds to wait for each stage")
    connect_timeout: float = Field(5.0, gt=0)
    pipeline_depth: int = Field(
        256, ge=1, description="stages (batches of commands) in flight on the connection at most"
    )
    reconnect_backoff: float = Field(0.5, gt=0, description="first wait after a failed connect")
    reconnect_backoff_max: float = Field(
        1.0,
        gt=0,
        description="longest wait between connection attempts: the breaker spaces out probes "
        "of a down osmo-hlr already, and a restarted one should be used again at once",
    )
    gsup_port: int = Field(gsup.DEFAULT_PORT, ge=1, le=65535, description="for auth_vector")
    gsup_name: str = Field(
        "provgw", description="IPA serial the gateway identifies with; osmo-hlr derives IND from it"
    )
    data_lock: DataLock = Field(
        "refuse",
        description="osmo-hlr's PS switch is also the data subscription. 'ps-switch': a data "
        "lock switches PS off and lifting it switches PS on — right only when every "
        "subscriber on this NE has packet data. 'refuse': orders that lock data are refused.",
    )


PROBE_IMSI = "001010000000000"
"""The test network's MCC/MNC (001/01), subscriber 0: no live HLR holds it."""


class OsmoHlrCtrl:
    """`NetworkElement` for osmo-hlr over CTRL (see the module docstring)."""

    dialect = "osmo-hlr-ctrl"

    def __init__(self, settings: OsmoCtrlSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self._data_lock = settings.data_lock
        self.client = CtrlClient(
            settings.host,
            settings.port,
            name=settings.name,
            timeout=settings.command_timeout,
            connect_timeout=settings.connect_timeout,
            depth=settings.pipeline_depth,
            backoff=settings.reconnect_backoff,
            backoff_max=settings.reconnect_backoff_max,
        )
        self._gsup = gsup.GsupClient(
            settings.host,
            settings.gsup_port,
            name=settings.gsup_name,
            timeout=settings.command_timeout,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def render(self, op: Operation) -> str:
        return mapping.render(op, self._data_lock)

    def check(self, op: Operation) -> None:
        self.render(op)  # whether osmo-hlr can do it depends on the values (keys, locks)

    async def execute(self, op: Operation) -> Reply:
        return await self.run_script(mapping.script_for(op, self._data_lock))

    async def run_script(self, stages: tuple[Stage, ...]) -> Reply:
        """Carry out a script of stages (what `execute` does with an operation's script)."""
        return await _Run(self.client, self.name).script(stages)

    async def read(self, lookup: Lookup) -> SubscriberView:
        command = Command("GET", mapping.info_var(imsi=lookup.imsi, msisdn=lookup.msisdn))
        try:
            (reply,) = await self.client.exchange((command,))
        except (ConnectionError, TimeoutError) as exc:
            raise NeUnavailable(f"{self.name}: cannot read {command.var}: {exc}") from None
        if reply.kind == "ERROR":
            if mapping.classify(command, reply.value).code == "unknown-subscriber":
                return ABSENT
            raise NeUnavailable(f"{self.name}: GET {command.var}: {reply.value}")
        try:
            return mapping.view_from_info(mapping.parse_info(reply.value), self._data_lock)
        except (KeyError, ValueError) as exc:
            # A view built on a guess would mislead reconciliation; better not to know yet.
            raise NeUnavailable(f"{self.name}: info-all answer not understood: {exc}") from None

    async def probe(self) -> None:
        """A CTRL GET of an IMSI no operator assigns: osmo-hlr answers it (with an error) as
        long as it runs, and has no SNMP agent to ask instead."""
        await self.read(Lookup(imsi=PROBE_IMSI))

    async def auth_vector(self, imsi: str) -> AuthVector:
        """One fresh UMTS vector from osmo-hlr's AuC over GSUP (this advances its SQN).

        Raises `LookupError` when osmo-hlr has no subscriber or no 3G keys for ``imsi``,
        `ConnectionError` when it cannot be asked.
        """
        try:
            (vector,) = await self._gsup.send_auth_info(imsi, count=1)
        except gsup.GsupError as exc:
            if exc.cause is not None and not exc.transient:
                raise LookupError(f"{self.name}: {exc}") from None
            raise NeUnavailable(f"{self.name}: {exc}") from None
        if vector.autn is None or vector.xres is None or vector.ck is None or vector.ik is None:
            raise LookupError(f"{self.name}: IMSI {imsi} has 2G (COMP128) keys only, no 3G vector")
        return AuthVector(
            rand=vector.rand.hex(),
            autn=vector.autn.hex(),
            xres=vector.xres.hex(),
            ck=vector.ck.hex(),
            ik=vector.ik.hex(),
        )

    async def resync(self, imsi: str, rand: str, auts: str) -> None:
        """Move osmo-hlr's SQN for ``imsi`` past the card's, from the AUTS the card answered to
        ``rand`` (hex): a SendAuthInfo carrying both, whose vector is dropped.

        Raises `ValueError` when osmo-hlr refuses — it gives the same cause 2 for an unknown
        IMSI, missing keys and an AUTS that does not verify — or when RAND/AUTS are not 32/28
        hex digits (then nothing is sent); `ConnectionError` when it cannot be asked.
        """
        token = gsup.Resync(_hex("rand", rand, 16), _hex("auts", auts, 14))
        try:
            await self._gsup.send_auth_info(imsi, resync=token)
        except gsup.GsupError as exc:
            if exc.cause is not None and not exc.transient:
                raise ValueError(
                    f"{self.name}: resynchronisation refused for IMSI {imsi} (unknown IMSI, no "
                    "keys, or an AUTS that does not verify: osmo-hlr says cause "
                    f"{exc.cause} for all)"
                ) from None
            raise NeUnavailable(f"{self.name}: {exc}") from None

    async def close(self) -> None:
        await self.client.close()
        await self._gsup.close()


def _hex(name: str, value: str, size: int) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise ValueError(f"{name} must be {2 * size} hexadecimal digits")
    return raw


class _Run:
    """One operation's script being carried out: what was sent, answered and changed."""

    def __init__(self, client: CtrlClient, name: str) -> None:
        self.client = client
        self.name = name
        self.sent: list[str] = []
        self.answers: list[str] = []
        self.undos: list[Command] = []  # of the changes made so far, oldest first
        self.changed = False
        self.started = time.perf_counter()

    async def script(self, stages: tuple[Stage, ...]) -> Reply:
        for stage in stages:
            refusal, failed = await self._stage(stage)
            if failed is not None:
                return failed
            if refusal is not None:
                return await self._refused(refusal)
        return self._reply(Outcome.OK, "0", "done")

    async def _stage(self, stage: Stage) -> tuple[Refusal | None, Reply | None]:
        """(the refusal to report, or a made-up reply when no answer came)."""
        commands = stage.commands
        self.sent.extend(c.shown() for c in commands)
        changes = self.changed or any(c.verb == "SET" for c in commands)
        try:
            replies = await self.client.exchange(commands)
        except NotSent as failure:
            return None, self._failed(failure, f"not sent: {failure}", self.changed)
        except TransportFailure as failure:
            if isinstance(failure, NoAnswer):
                why = f"no answer within {self.client.timeout}s"
            else:
                why = str(failure)
            log.warning("%s: %s after sending %s", self.name, why, self.sent)
            return None, self._failed(failure, str(failure), changes)
        refusals: list[Refusal] = []
        for action, reply in zip(stage.actions, replies, strict=True):
            self.answers.append(reply.text())
            if reply.kind == "ERROR":
                refusal = mapping.classify(action.command, reply.value)
                if not (
                    action.adopt_bare
                    and refusal.code == "imsi-exists"
                    and await self._adopt(action.command.value)
                ):
                    refusals.append(refusal)
                    continue
            elif stage.guard is not None and action.command.verb == "GET":
                verdict = stage.guard(reply.value)
                if verdict is not None:
                    refusals.append(verdict)
                continue
            if action.command.verb == "SET":
                self.changed = True
                if action.undo is not None:
                    self.undos.append(action.undo)
        return (mapping.most_specific(refusals) if refusals else None), None

    async def _adopt(self, imsi: str) -> bool:
        """``subscriber.create`` found the IMSI taken: take the record over if it is bare.

        Without this, the engine's retry after an interrupted LoadAuth (reconciled as "keys not
        loaded") would fail on the record its own first attempt created.
        """
        probe = Command("GET", mapping.info_var(imsi=imsi))
        self.sent.append(probe.shown())
        try:
            (reply,) = await self.client.exchange((probe,))
        except (ConnectionError, TimeoutError):
            return False
        self.answers.append(reply.text())
        if reply.kind == "GET_REPLY" and mapping.bare(mapping.parse_info(reply.value)):
            log.info("%s: IMSI %s has an empty record; taking it over", self.name, imsi)
            return True
        return False

    async def _refused(self, refusal: Refusal) -> Reply:
        """Undo what this operation changed, newest first; report the refusal."""
        undos = self.undos[::-1]
        text = refusal.text
        if undos:
            self.sent.extend(u.shown() for u in undos)
            try:
                replies = await self.client.exchange(undos)
            except (ConnectionError, TimeoutError) as exc:
                text += f"; undoing the partial change failed ({exc or 'no answer'}): "
                text += "needs manual work"
            else:
                for undo, reply in zip(undos, replies, strict=True):
                    self.answers.append(reply.text())
                    if reply.kind == "ERROR":
                        text += f"; undoing with {undo.shown()} failed ({reply.value}): "
                        text += "needs manual work"
        return self._reply(Outcome.PERMANENT, refusal.code, text)

    def _reply(self, outcome: Outcome, code: str, text: str) -> Reply:
        """osmo-hlr's answer to the operation (done, or refused)."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: %s -> %s", self.name, self.sent, self.answers)
        return Reply(
            outcome=outcome,
            code=code,
            text=mask(text),
            command="\n".join(self.sent),
            response="\n".join(self.answers),
            elapsed_ms=self._elapsed_ms(),
        )

    def _failed(self, failure: TransportFailure, text: str, may_have_run: bool) -> Reply:
        """No (usable) answer to the current stage."""
        return failure_reply(
            failure,
            command="\n".join(self.sent),
            text=mask(text),
            may_have_run=may_have_run,
            elapsed_ms=self._elapsed_ms(),
            response="\n".join(self.answers),
        )

    def _elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000.0
