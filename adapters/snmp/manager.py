"""The gateway's SNMP manager: polls each NE's agent and receives their traps (pysnmp 7).

One SNMP engine on the caller's event loop serves every NE: polls go out from an ephemeral UDP
port, traps come in on one port for all NEs. Every poll and every meaningful trap becomes a
`HealthReading` handed to ``on_reading`` (see `adapters.snmp.health` for what each means).

A **poll** is one GETBULK: sysUpTime.0 as a non-repeater, and the alarm table's severity and
text columns as repeaters (more requests only when an NE has more alarms than one answer
holds). pysnmp's entity API is used rather than its high-level one so that each NE's
community is configured once under a security name of its own, which is how a trap is told
apart from the others.

A **trap** is matched to an NE by its source address and community: the NE whose agent
address and port it came from, else the only NE on that host with that community. A trap
that matches none (or several), a wrong community, garbage bytes, a malformed answer: each is
logged and ignored; nothing an agent or the network sends stops the manager.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import cmdgen, ntfrcv
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.proto.api import v2c

from adapters.network_element import HealthReading
from adapters.snmp import mib
from adapters.snmp.health import ActiveAlarm, HealthTracker
from adapters.snmp.mib import Oid
from adapters.snmp.settings import SnmpSettings

log = logging.getLogger(__name__)

ROWS_PER_REQUEST = 8
"""Alarm rows asked for per GETBULK: one request covers an NE with up to eight alarms."""
_TRAP_DOMAIN = (*udp.DOMAIN_NAME, 1)  # a second UDP transport, for the trap port
_EXCEPTIONS = (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)


def _is(value: Any, kind: Any) -> bool:
    """Whether a decoded value has the ASN.1 type ``kind`` (by its tag: decoders hand out
    pyasn1's base classes, and TimeTicks is an Integer to ``isinstance``)."""
    return bool(getattr(value, "tagSet", None) == kind.tagSet)


ReadingCallback = Callable[[HealthReading], None]


class MalformedAnswer(ValueError):
    """An agent's answer or trap that does not say what PROVGW-EMULATOR-MIB says it should."""


@dataclass
class _Target:
    name: str
    settings: SnmpSettings
    tracker: HealthTracker
    address: tuple[str, int] = ("", 0)
    security_name: str = ""
    target_name: str = ""  # the agent's entry in the engine's target table, once resolved


class SnmpManager:
    """Health of NEs over SNMP.

    ``targets`` maps NE names to their agents' settings; ``on_reading`` receives every
    reading (it must not block; exceptions are logged). ``trap_port`` None receives no
    traps, 0 picks a free port (``self.trap_port`` then holds it). ``clock`` is monotonic
    (uptime arithmetic), ``wall_clock`` stamps the readings.

        async with SnmpManager(targets, on_reading, trap_port=1162) as manager: …
    """

    def __init__(
        self,
        targets: Mapping[str, SnmpSettings],
        on_reading: ReadingCallback,
        *,
        trap_host: str = "0.0.0.0",
        trap_port: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._targets = {
            name: _Target(name, settings, HealthTracker(name)) for name, settings in targets.items()
        }
        self._on_reading = on_reading
        self.trap_host = trap_host
        self.trap_port = trap_port
        self._clock = clock
        self._wall_clock = wall_clock
        self._engine: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._readings: dict[str, HealthReading] = {}

    def reading(self, ne: str) -> HealthReading | None:
        """The last reading of ``ne`` (None before its first)."""
        return self._readings.get(ne)

    @property
    def targets(self) -> frozenset[str]:
        """The NEs this manager polls."""
        return frozenset(self._targets)

    async def start(self, *, poll: bool = True) -> None:
        """Open the trap port, and (unless ``poll`` is False) poll every NE now and then
        every interval. Raises `OSError` if the trap port cannot be had."""
        snmp = engine.SnmpEngine()
        self._engine = snmp
        config.add_transport(snmp, udp.DOMAIN_NAME, udp.UdpAsyncioTransport().open_client_mode())
        communities: dict[str, str] = {}
        for target in self._targets.values():
            community = target.settings.community.get_secret_value()
            if community not in communities:
                communities[community] = f"community-{len(communities) + 1}"
                config.add_v1_system(snmp, communities[community], community)
                name = communities[community]
                config.add_target_parameters(snmp, name, name, "noAuthNoPriv", 1)
            target.security_name = communities[community]
        for target in self._targets.values():
            await self._resolve(target)
        if self.trap_port is not None:
            self._open_trap_port(snmp)
        if poll:
            loop = asyncio.get_running_loop()
            self._tasks = [
                loop.create_task(self._poll_every_interval(name), name=f"snmp-poll-{name}")
                for name in self._targets
            ]

    async def _resolve(self, target: _Target) -> None:
        """Give the NE's agent a target address in the engine, once its host name resolves
        (a name that does not resolve leaves the NE "unknown", and is tried at each poll)."""
        host, port = target.settings.host, target.settings.port
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, family=socket.AF_INET, type=socket.SOCK_DGRAM
            )
        except OSError as exc:
            log.warning("%s: SNMP agent %s does not resolve: %s", target.name, host, exc)
            return
        target.address = (str(infos[0][4][0]), port)
        target.target_name = f"ne-{list(self._targets).index(target.name) + 1}"
        config.add_target_address(
            self._engine,
            target.target_name,
            udp.DOMAIN_NAME,
            target.address,
            target.security_name,
            timeout=target.settings.timeout * 100,
            retryCount=target.settings.retries,
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._engine is not None:
            self._engine.close_dispatcher()
            self._engine = None
            await asyncio.sleep(0)  # the loop closes the sockets on its next turn

    async def __aenter__(self) -> SnmpManager:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def poll(self, ne: str) -> HealthReading | None:
        """Poll ``ne`` once now and deliver the reading; None if its answer was malformed."""
        target = self._targets[ne]
        if not target.target_name:
            await self._resolve(target)
        try:
            if not target.target_name:
                raise TimeoutError(f"{target.settings.host} does not resolve")
            uptime, alarms = await self._ask(target)
        except TimeoutError as exc:
            reading = target.tracker.unanswered(str(exc), at=self._wall_clock())
        except MalformedAnswer as exc:
            log.warning("%s: malformed SNMP answer ignored: %s", ne, exc)
            return None
        else:
            reading = target.tracker.polled(
                uptime, alarms, now=self._clock(), at=self._wall_clock()
            )
        self._deliver(reading)
        return reading

    async def _poll_every_interval(self, ne: str) -> None:
        interval = self._targets[ne].settings.interval
        while True:
            try:
                await self.poll(ne)
            except Exception:  # pysnmp's own failures too: the next interval tries again
                log.exception("%s: SNMP poll failed", ne)
            await asyncio.sleep(interval)

    def _deliver(self, reading: HealthReading) -> None:
        self._readings[reading.ne] = reading
        try:
            self._on_reading(reading)
        except Exception:
            log.exception("%s: health reading callback failed", reading.ne)

    # -- polls ---------------------------------------------------------------------------

    async def _ask(self, target: _Target) -> tuple[int, list[ActiveAlarm]]:
        """sysUpTime and the alarm table: `TimeoutError` without an answer."""
        answer = await self._bulk(target, 1, [mib.SYS_UPTIME, mib.ALARM_SEVERITY, mib.ALARM_TEXT])
        if not answer or tuple(answer[0][0]) != mib.SYS_UPTIME_0:
            raise MalformedAnswer("no sysUpTime.0 in the answer")
        uptime = answer[0][1]
        if not _is(uptime, v2c.TimeTicks):
            raise MalformedAnswer(f"sysUpTime.0 is {type(uptime).__name__}, not TimeTicks")
        alarms: dict[int, ActiveAlarm] = {}
        pairs = answer[1:]
        while True:
            rows, ended = _alarm_rows(pairs)
            alarms.update((i, row) for i, row in rows.items() if row.severity != mib.CLEARED)
            if ended or not rows:
                return int(uptime), sorted(alarms.values(), key=lambda alarm: alarm.id)
            last = max(rows)
            pairs = await self._bulk(
                target, 0, [(*mib.ALARM_SEVERITY, last), (*mib.ALARM_TEXT, last)]
            )

    async def _bulk(
        self, target: _Target, non_repeaters: int, oids: Sequence[Oid]
    ) -> list[tuple[Any, Any]]:
        future: asyncio.Future[list[tuple[Any, Any]]] = asyncio.get_running_loop().create_future()

        def answered(
            snmp: Any, handle: Any, indication: Any, status: Any, index: Any, varbinds: Any, _: Any
        ) -> None:
            if future.done():
                return
            if indication:
                future.set_exception(TimeoutError(str(indication)))
            elif status:
                future.set_exception(MalformedAnswer(f"error-status {status.prettyPrint()}"))
            else:
                future.set_result([(name, value) for name, value in varbinds])

        cmdgen.BulkCommandGeneratorSingleRun().send_varbinds(
            self._engine,
            target.target_name,
            None,
            "",
            non_repeaters,
            ROWS_PER_REQUEST,
            [(rfc1902.ObjectName(oid), v2c.null) for oid in oids],
            answered,
        )
        return await future

    # -- traps ---------------------------------------------------------------------------

    def _open_trap_port(self, snmp: Any) -> None:
        assert self.trap_port is not None
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.trap_host, self.trap_port))
        except OSError as exc:
            sock.close()
            where = f"{self.trap_host}:{self.trap_port}"
            raise OSError(f"snmp trap port {where}: {exc.strerror}") from None
        sock.setblocking(False)
        self.trap_port = sock.getsockname()[1]
        transport = udp.UdpAsyncioTransport().open_server_mode(sock=sock)
        config.add_transport(snmp, _TRAP_DOMAIN, transport)
        ntfrcv.NotificationReceiver(snmp, self._trap_received)

    def _trap_received(
        self, snmp: Any, state: Any, engine_id: Any, context: Any, varbinds: Any, _: Any
    ) -> None:
        """pysnmp calls this for a trap or inform whose community is one of the NEs'."""
        request = snmp.observer.get_execution_context("rfc3412.receiveMessage:request")
        host, port = request["transportAddress"][:2]
        try:
            target = self._sender(str(host), int(port), str(request["securityName"]))
            reading = self._trap_reading(target, [(tuple(n), v) for n, v in varbinds])
        except MalformedAnswer as exc:
            log.warning("SNMP trap from %s:%s ignored: %s", host, port, exc)
            return
        except Exception:
            log.exception("SNMP trap from %s:%s ignored", host, port)
            return
        if reading is not None:
            self._deliver(reading)

    def _sender(self, host: str, port: int, security_name: str) -> _Target:
        same_host = [
            t
            for t in self._targets.values()
            if t.address[0] == host and t.security_name == security_name
        ]
        exact = [t for t in same_host if t.address[1] == port]
        matches = exact or same_host
        if len(matches) != 1:
            raise MalformedAnswer(f"it matches {len(matches)} NEs by address and community")
        return matches[0]

    def _trap_reading(
        self, target: _Target, varbinds: list[tuple[Oid, Any]]
    ) -> HealthReading | None:
        values = dict(varbinds)
        trap = values.get(mib.SNMP_TRAP_OID_0)
        if not _is(trap, v2c.ObjectIdentifier):
            raise MalformedAnswer("no snmpTrapOID.0")
        trap_oid, tracker, at = tuple(trap or ()), target.tracker, self._wall_clock()
        if trap_oid in (mib.COLD_START, mib.WARM_START):
            return tracker.agent_started(now=self._clock(), at=at)
        if trap_oid not in (mib.ALARM_RAISED, mib.ALARM_CLEARED):
            log.debug("%s: trap %s not about health, ignored", target.name, trap_oid)
            return None
        rows, _ = _alarm_rows(varbinds)
        if len(rows) != 1:
            raise MalformedAnswer(f"an alarm trap naming {len(rows)} alarms")
        (alarm,) = rows.values()
        if trap_oid == mib.ALARM_CLEARED:
            return tracker.alarm_cleared(alarm.id, at=at)
        return tracker.alarm_raised(alarm, at=at)


def _alarm_rows(varbinds: Sequence[tuple[Any, Any]]) -> tuple[dict[int, ActiveAlarm], bool]:
    """The alarm rows among ``varbinds`` (their severity and text columns), and whether the
    table ended among them (an object past the columns, or the end of the agent's MIB)."""
    severities: dict[int, int] = {}
    texts: dict[int, str] = {}
    ended = False
    for name, value in varbinds:
        oid = tuple(name)
        column, index = oid[:-1], oid[-1]
        if any(_is(value, kind) for kind in _EXCEPTIONS):
            ended = True
        elif column == mib.ALARM_SEVERITY and _is(value, v2c.Integer):
            severities[index] = int(value)
        elif column == mib.ALARM_TEXT and _is(value, v2c.OctetString):
            texts[index] = bytes(value).decode("utf-8", "replace")
        elif column in (mib.ALARM_SEVERITY, mib.ALARM_TEXT):
            raise MalformedAnswer(f"{'.'.join(map(str, oid))} is {type(value).__name__}")
        else:
            ended = True
    rows = {i: ActiveAlarm(i, severity, texts.get(i, "")) for i, severity in severities.items()}
    return rows, ended
