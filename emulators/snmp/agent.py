"""An SNMPv2c agent for an emulator, on the emulator's own event loop (pysnmp 7).

It answers GET, GETNEXT and GETBULK for a handful of objects — the MIB-II system group, one
ifTable row for the emulator's service port, and the active alarm table of
PROVGW-EMULATOR-MIB — and sends SNMPv2c traps: coldStart when it starts, and
provgwEmuAlarmRaised / provgwEmuAlarmCleared whenever the emulator's alarm table changes.

pysnmp's own MIB instrumentation would publish the engine's internal tables and wants a
managed-object class per column; this agent instead registers a small view of its own as the
default context's instrumentation (pysnmp's `AbstractMibInstrumController` interface: read,
read-next, write): the objects are a sorted map from OID to value, rebuilt only when the alarm
table changes. The community is the only credential and grants read access to every object;
SET is answered notWritable.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import cmdrsp, context, ntforg
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.smi import error as smi_error

from emulators.alarms import Alarm, Severity
from emulators.service import ServicePort
from emulators.snmp import mib
from emulators.snmp.mib import Oid

log = logging.getLogger(__name__)

_SECURITY_NAME = "emulator"
_NOTIFY = "alarms"
_TICKS = 2**32  # TimeTicks wrap after 497 days
# The object types (scalars and columns) answered: a GET of an instance they lack is
# noSuchInstance, of anything else noSuchObject (RFC 3416 §4.2.1).
_TYPES: tuple[Oid, ...] = (
    mib.SYS_DESCR,
    mib.SYS_OBJECT_ID,
    mib.SYS_UPTIME,
    mib.SYS_NAME,
    mib.IF_NUMBER,
    mib.IF_INDEX,
    mib.IF_DESCR,
    mib.IF_TYPE,
    mib.IF_ADMIN_STATUS,
    mib.IF_OPER_STATUS,
    mib.IF_LAST_CHANGE,
    mib.ALARM_SEVERITY,
    mib.ALARM_TEXT,
    mib.ALARM_RAISED_AT,
)
_RESPONDERS = (
    cmdrsp.GetCommandResponder,
    cmdrsp.NextCommandResponder,
    cmdrsp.BulkCommandResponder,
    cmdrsp.SetCommandResponder,
)


@dataclass(frozen=True)
class AgentSettings:
    """How an emulator runs its agent: ``port`` 0 picks a free one; ``host`` None is the
    emulator's own address."""

    port: int = 161
    community: str = "public"
    trap_targets: tuple[tuple[str, int], ...] = ()
    host: str | None = None


@dataclass(frozen=True)
class SystemInfo:
    """The MIB-II system group's constant part."""

    descr: str  # sysDescr: product and version
    object_id: Oid  # sysObjectID: one of PROVGW-EMULATOR-MIB's products
    name: str  # sysName: the NE's name


class SnmpAgent:
    """``async with SnmpAgent(system, service, port=0) as agent: agent.port …``; an emulator
    starts one with `start_agent`.

    ``trap_targets`` are (host, port) pairs that receive every trap. ``clock`` is where
    sysUpTime counts from (a test sets it to read a restart)."""

    def __init__(
        self,
        system: SystemInfo,
        service: ServicePort,
        *,
        host: str = "127.0.0.1",
        port: int = 161,
        community: str = "public",
        trap_targets: Sequence[tuple[str, int]] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not community:
            raise ValueError("snmp community: must not be empty")
        self.system = system
        self.service = service
        self.host = host
        self.port = port
        self.community = community
        self.trap_targets = tuple(trap_targets)
        self._clock = clock
        self._started = clock()
        self._engine: Any = None
        self._originator: Any = None
        self._view = _MibView(self._objects, lambda: service.alarms.version)

    def uptime(self) -> int:
        """sysUpTime: hundredths of a second since the agent started."""
        return int((self._clock() - self._started) * 100) % _TICKS

    async def start(self) -> None:
        """Listen (``self.port`` is then the real port) and send coldStart to the targets."""
        loop = asyncio.get_running_loop()
        targets = [await _resolve(loop, host, port) for host, port in self.trap_targets]
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(f"snmp port {self.host}:{self.port}: {exc.strerror}") from None
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._started = self._clock()
        snmp = engine.SnmpEngine()
        config.add_transport(
            snmp, udp.DOMAIN_NAME, udp.UdpAsyncioTransport().open_server_mode(sock=sock)
        )
        config.add_v1_system(snmp, _SECURITY_NAME, self.community)
        config.add_vacm_user(snmp, 2, _SECURITY_NAME, "noAuthNoPriv", notifySubTree=(1, 3, 6, 1))
        snmp_context = context.SnmpContext(snmp)
        snmp_context.unregister_context_name(b"")
        snmp_context.register_context_name(b"", self._view)
        for responder in _RESPONDERS:
            responder(snmp, snmp_context)
        config.add_target_parameters(snmp, _NOTIFY, _SECURITY_NAME, "noAuthNoPriv", 1)
        for number, address in enumerate(targets):
            config.add_target_address(
                snmp, f"{_NOTIFY}-{number}", udp.DOMAIN_NAME, address, _NOTIFY, tagList=_NOTIFY
            )
        config.add_notification_target(snmp, _NOTIFY, _NOTIFY, _NOTIFY, "trap")
        self._engine = snmp
        self._originator = ntforg.NotificationOriginator()
        self.service.alarms.listen(self._alarm_changed)
        self._send(mib.COLD_START, [])
        log.info("%s: SNMP agent on udp://%s:%d", self.system.name, self.host, self.port)

    async def stop(self) -> None:
        if self._engine is None:
            return
        self.service.alarms.unlisten(self._alarm_changed)
        self._engine.close_dispatcher()
        self._engine = None
        await asyncio.sleep(0)  # the loop closes the socket on its next turn: free the port

    async def __aenter__(self) -> SnmpAgent:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _alarm_changed(self, alarm: Alarm, raised: bool) -> None:
        severity = alarm.severity if raised else Severity.CLEARED
        self._send(
            mib.ALARM_RAISED if raised else mib.ALARM_CLEARED,
            [
                ((*mib.ALARM_SEVERITY, alarm.id), rfc1902.Integer32(severity)),
                ((*mib.ALARM_TEXT, alarm.id), rfc1902.OctetString(alarm.text.encode())),
                (
                    (*mib.ALARM_RAISED_AT, alarm.id),
                    rfc1902.OctetString(mib.date_and_time(alarm.raised_at)),
                ),
            ],
        )

    def _send(self, trap: Oid, objects: list[tuple[Oid, Any]]) -> None:
        if not self.trap_targets:
            return
        varbinds = [
            ((*mib.SYS_UPTIME, 0), rfc1902.TimeTicks(self.uptime())),
            ((*mib.SNMP_TRAP_OID, 0), rfc1902.ObjectIdentifier(trap)),
            *objects,
        ]
        try:
            # The context name must be b"", not "": pysnmp's access control looks it up in a
            # map of octet strings, and a notification it cannot find is dropped silently.
            self._originator.send_varbinds(self._engine, _NOTIFY, None, b"", varbinds)
        except Exception as exc:  # a trap is best effort; the alarm table still tells
            log.warning("%s: trap %s not sent: %s", self.system.name, trap, exc)

    def _objects(self) -> dict[Oid, Callable[[], Any]]:
        """Every object instance, with how to read its value now."""
        system, service = self.system, self.service

        def constant(value: Any) -> Callable[[], Any]:
            return lambda: value

        objects: dict[Oid, Callable[[], Any]] = {
            (*mib.SYS_DESCR, 0): constant(rfc1902.OctetString(system.descr.encode())),
            (*mib.SYS_OBJECT_ID, 0): constant(rfc1902.ObjectIdentifier(system.object_id)),
            (*mib.SYS_UPTIME, 0): lambda: rfc1902.TimeTicks(self.uptime()),
            (*mib.SYS_NAME, 0): constant(rfc1902.OctetString(system.name.encode())),
            (*mib.IF_NUMBER, 0): constant(rfc1902.Integer32(1)),
            (*mib.IF_INDEX, 1): constant(rfc1902.Integer32(1)),
            (*mib.IF_DESCR, 1): lambda: rfc1902.OctetString(service.description.encode()),
            (*mib.IF_TYPE, 1): constant(rfc1902.Integer32(mib.IF_TYPE_OTHER)),
            (*mib.IF_ADMIN_STATUS, 1): constant(rfc1902.Integer32(mib.IF_UP)),
            (*mib.IF_OPER_STATUS, 1): lambda: rfc1902.Integer32(
                mib.IF_UP if service.up else mib.IF_DOWN
            ),
            (*mib.IF_LAST_CHANGE, 1): lambda: rfc1902.TimeTicks(self._ticks(service.changed_at)),
        }
        for alarm in service.alarms.active():
            objects[(*mib.ALARM_SEVERITY, alarm.id)] = constant(rfc1902.Integer32(alarm.severity))
            objects[(*mib.ALARM_TEXT, alarm.id)] = constant(
                rfc1902.OctetString(alarm.text.encode())
            )
            objects[(*mib.ALARM_RAISED_AT, alarm.id)] = constant(
                rfc1902.OctetString(mib.date_and_time(alarm.raised_at))
            )
        return objects

    def _ticks(self, moment: float) -> int:
        """sysUpTime at ``moment`` (a reading of the agent's clock); 0 if before it started."""
        return max(0, int((moment - self._started) * 100)) % _TICKS


async def start_agent(
    settings: AgentSettings | None, system: SystemInfo, service: ServicePort, host: str
) -> SnmpAgent | None:
    """The agent an emulator's settings ask for, started (None without settings); ``host``
    is the emulator's address, the agent's unless the settings name another."""
    if settings is None:
        return None
    agent = SnmpAgent(
        system,
        service,
        host=settings.host or host,
        port=settings.port,
        community=settings.community,
        trap_targets=settings.trap_targets,
    )
    await agent.start()
    return agent


class _MibView:
    """The agent's objects, answered in OID order (pysnmp's MIB instrumentation interface)."""

    def __init__(
        self, objects: Callable[[], dict[Oid, Callable[[], Any]]], version: Callable[[], int]
    ) -> None:
        self._build = objects
        self._version = version
        self._built: int | None = None
        self._objects: dict[Oid, Callable[[], Any]] = {}
        self._order: list[Oid] = []

    def _current(self) -> None:
        version = self._version()
        if version != self._built:
            self._objects = self._build()
            self._order = sorted(self._objects)
            self._built = version

    def read_variables(self, *varbinds: tuple[Any, Any], **context: Any) -> list[tuple[Any, Any]]:
        self._current()
        answers = []
        for name, _ in varbinds:
            oid = tuple(name)
            value = self._objects.get(oid)
            if value is not None:
                answers.append((oid, value()))
            elif any(oid[: len(kind)] == kind and len(oid) > len(kind) for kind in _TYPES):
                answers.append((oid, rfc1905.noSuchInstance))
            else:
                answers.append((oid, rfc1905.noSuchObject))
        return answers

    def read_next_variables(
        self, *varbinds: tuple[Any, Any], **context: Any
    ) -> list[tuple[Any, Any]]:
        self._current()
        answers = []
        for name, _ in varbinds:
            oid = tuple(name)
            index = bisect.bisect_right(self._order, oid)
            if index < len(self._order):
                following = self._order[index]
                answers.append((following, self._objects[following]()))
            else:
                answers.append((oid, rfc1905.endOfMibView))
        return answers

    def write_variables(self, *varbinds: tuple[Any, Any], **context: Any) -> list[Any]:
        raise smi_error.NotWritableError(idx=context.get("idx", 0))


async def _resolve(loop: asyncio.AbstractEventLoop, host: str, port: int) -> tuple[str, int]:
    """A trap target's IPv4 address (pysnmp's target table takes addresses, not names)."""
    try:
        infos = await loop.getaddrinfo(host, port, family=socket.AF_INET, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise ValueError(f"snmp trap target {host}:{port}: {exc.strerror}") from None
    address, real_port = infos[0][4][:2]
    return str(address), int(real_port)
