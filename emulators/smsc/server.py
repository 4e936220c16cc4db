"""The SMSC emulator in-process: ``async with SmscEmulator(port=0) as smsc: smsc.port …``.

SMPP 3.4 over TCP for ESMEs, the handsets' link (`emulators.smsc.air`) on a port of its own,
and the admin HTTP API (`emulators.smsc.admin`) beside them. The store, the barring list, the
faults and the counters can be read and changed while it runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from types import TracebackType

from emulators.alarms import AlarmTable
from emulators.service import ServicePort
from emulators.smsc.admin import AdminApi
from emulators.smsc.core import DELIVER_WINDOW, SmscCore, Stats
from emulators.smsc.faults import Faults
from emulators.smsc.handsets import HandsetLink
from emulators.smsc.outbox import DeliveryPolicy
from emulators.smsc.protocol import Status
from emulators.smsc.session import BindState, SmppSession
from emulators.smsc.store import Message, MessageStore, normalise
from emulators.snmp import AgentSettings, SnmpAgent, SystemInfo, start_agent
from emulators.snmp.mib import PRODUCT_SMSC

log = logging.getLogger(__name__)

DEFAULT_ACCOUNTS: Mapping[str, str] = {"provgw": "provgw"}
# The status a barred destination's submit_sm is refused with: the one standard status that
# says "this destination cannot be served", which every ESME treats as final. Vendors use
# codes of their own (0x400-0x4FF); `barred_status` sets one.
BARRED_STATUS = Status.ESME_RINVDSTADR
# The vendor-specific optional parameter carrying the gateway's idempotency key.
IDEMPOTENCY_TAG = 0x1400


class SmscEmulator:
    """`accounts` maps ESME system_id to password; the admin API takes `admin_user` and
    `admin_password` (by default the first account's), and listens on `admin_port` unless
    that is None; handsets attach on `handset_port` unless that is None. With `snmp` settings
    an SNMP agent runs beside it (`snmp`); ``faults.update(outage=True)`` closes SMPP, the
    handsets' port and the admin API (`service_port`), and the alarms it raises are in
    `alarms`.

    `service_numbers` are the numbers whose mobile-originated messages go to an ESME as
    deliver_sm: a mapping number → account, or numbers for the first account. `delivery` says
    how MO are retried and when they expire; at most `deliver_window` deliver_sm wait for
    their answer on one bind."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 2775,
        admin_port: int | None = 0,
        accounts: Mapping[str, str] | None = None,
        admin_user: str | None = None,
        admin_password: str | None = None,
        system_id: str = "SMSC",
        faults: Faults | None = None,
        barred: Iterable[str] = (),
        barred_status: int = BARRED_STATUS,
        idempotency_tag: int | None = IDEMPOTENCY_TAG,
        snmp: AgentSettings | None = None,
        handset_port: int | None = 0,
        service_numbers: Mapping[str, str] | Iterable[str] = (),
        deliver_window: int = DELIVER_WINDOW,
        delivery: DeliveryPolicy | None = None,
    ) -> None:
        accounts = dict(DEFAULT_ACCOUNTS if accounts is None else accounts)
        for system, password in accounts.items():
            if not 0 < len(system) <= 15 or len(password) > 8:
                raise ValueError("accounts: system_id 1-15 characters, password at most 8")
        if not 0 < barred_status <= 0xFFFFFFFF:
            raise ValueError("barred_status: expected a non-zero command_status")
        if not 1 <= deliver_window <= 1000:
            raise ValueError("deliver_window: 1-1000 deliver_sm awaiting an answer")
        first_user, first_password = next(iter(accounts.items()), ("admin", "admin"))
        if not isinstance(service_numbers, Mapping):
            service_numbers = {number: first_user for number in service_numbers}
        for number, account in service_numbers.items():
            if not normalise(number).isdigit() or account not in accounts:
                raise ValueError(f"service_numbers: {number} → {account}: digits → an account")
        self.host = host
        self.port = port
        self.admin_port = admin_port
        self.handset_port = handset_port
        self.core = SmscCore(
            accounts=accounts,
            system_id=system_id,
            faults=faults or Faults(),
            barred_status=barred_status,
            idempotency_tag=idempotency_tag,
            service_numbers=service_numbers,
            deliver_window=deliver_window,
            delivery=delivery,
        )
        for number in barred:
            self.bar(number)
        self._admin = AdminApi(
            self.core,
            self.status,
            admin_user or first_user,
            first_password if admin_password is None else admin_password,
        )
        self._server: asyncio.Server | None = None
        self._handset_server: asyncio.Server | None = None
        self.service_port = ServicePort(
            self.core.faults, stop=self._stop_service, start=self._listen
        )
        self._snmp_settings = snmp
        self.snmp: SnmpAgent | None = None

    @property
    def alarms(self) -> AlarmTable:
        return self.service_port.alarms

    @property
    def system_id(self) -> str:
        return self.core.system_id

    @property
    def store(self) -> MessageStore:
        return self.core.store

    @property
    def faults(self) -> Faults:
        return self.core.faults

    @property
    def stats(self) -> Stats:
        return self.core.stats

    def messages(self, destination: str | None = None) -> list[Message]:
        """Messages received, long ones reassembled; optionally only those to one number."""
        return self.core.store.messages(destination)

    def bar(self, number: str) -> None:
        """Refuse messages to ``number`` from now on (with `barred_status`)."""
        self.core.store.barred.add(normalise(number))

    def unbar(self, number: str) -> None:
        self.core.store.barred.discard(normalise(number))

    @property
    def service_numbers(self) -> dict[str, str]:
        return dict(self.core.service_numbers)

    def status(self) -> dict[str, int]:
        """Counters, plus the binds open now, the receipts and MO waiting for an ESME, the
        handsets attached and the messages waiting for handsets."""
        bound = sum(1 for s in self.core.sessions if s.state is not BindState.OPEN)
        return {
            **self.core.stats.as_dict(),
            "bound_now": bound,
            "receipts_pending": self.core.pending_receipts(),
            "mo_pending": self.core.pending_mobile_originated(),
            "handsets_attached": len(self.core.handsets.links),
            "handset_waiting": self.core.handsets.waiting(),
        }

    def drop_binds(self) -> int:
        """Cut every connection at once, as a crashing SMSC or a network fault would."""
        sessions = list(self.core.sessions)
        for session in sessions:
            session.drop()
        return len(sessions)

    async def start(self) -> None:
        await self._listen()
        description = f"SMPP, {self.host}:{self.port}"
        if self.handset_port is not None:
            description += f"; handsets, {self.host}:{self.handset_port}"
        if self.admin_port is not None:
            description += f"; admin HTTP, {self.host}:{self.admin_port}"
        self.service_port.description = description
        self.service_port.attach()
        system = SystemInfo("provgw SMS centre emulator (SMPP 3.4)", PRODUCT_SMSC, self.system_id)
        self.snmp = await start_agent(self._snmp_settings, system, self.service_port, self.host)

    async def _listen(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SmppSession(self.core), self.host, self.port
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        try:
            if self.handset_port is not None:
                self._handset_server = await loop.create_server(
                    lambda: HandsetLink(self.core), self.host, self.handset_port
                )
                self.handset_port = int(self._handset_server.sockets[0].getsockname()[1])
            if self.admin_port is not None:
                self.admin_port = await self._admin.start(self.host, self.admin_port)
        except OSError:
            self._close_listeners()
            raise
        log.info("SMSC %s listening on smpp://%s:%d", self.system_id, self.host, self.port)

    def _close_listeners(self) -> None:
        for server in (self._server, self._handset_server):
            if server is not None:
                server.close()
        self._server = self._handset_server = None

    def _stop_service(self) -> None:
        """The outage: SMPP, the handsets' port and the admin API stop listening, every bind
        and handset link is cut at once (what waits for a handset waits on)."""
        self._close_listeners()
        self.drop_binds()
        self.core.handsets.drop()
        self._admin.close()

    async def stop(self) -> None:
        """Ask every bound ESME to unbind, then close all connections and stop listening."""
        await self.service_port.detach()
        if self.snmp is not None:
            await self.snmp.stop()
        if self._server is None:
            await self._admin.stop()
            self.core.stop()
            return
        server, handsets = self._server, self._handset_server
        self._close_listeners()
        sessions = list(self.core.sessions)
        for session in sessions:
            session.unbind()
        if sessions:
            await asyncio.sleep(0.05)  # let unbind_resp come back before the sockets close
        for session in list(self.core.sessions):
            session.close()
        self.core.stop()  # also closes the handsets' links
        await self._admin.stop()
        await server.wait_closed()
        if handsets is not None:
            await handsets.wait_closed()

    async def __aenter__(self) -> SmscEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
