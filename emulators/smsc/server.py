"""The SMSC emulator in-process: ``async with SmscEmulator(port=0) as smsc: smsc.port …``.

SMPP 3.4 over TCP for ESMEs, and the admin HTTP API (`emulators.smsc.admin`) beside it. The
store, the barring list, the faults and the counters can be read and changed while it runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from types import TracebackType

from emulators.alarms import AlarmTable
from emulators.service import ServicePort
from emulators.smsc.admin import AdminApi
from emulators.smsc.core import SmscCore, Stats
from emulators.smsc.faults import Faults
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
    that is None. With `snmp` settings an SNMP agent runs beside it (`snmp`);
    ``faults.update(outage=True)`` closes SMPP and the admin API (`service_port`), and the
    alarms it raises are in `alarms`."""

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
    ) -> None:
        accounts = dict(DEFAULT_ACCOUNTS if accounts is None else accounts)
        for system, password in accounts.items():
            if not 0 < len(system) <= 15 or len(password) > 8:
                raise ValueError("accounts: system_id 1-15 characters, password at most 8")
        if not 0 < barred_status <= 0xFFFFFFFF:
            raise ValueError("barred_status: expected a non-zero command_status")
        first_user, first_password = next(iter(accounts.items()), ("admin", "admin"))
        self.host = host
        self.port = port
        self.admin_port = admin_port
        self.core = SmscCore(
            accounts=accounts,
            system_id=system_id,
            faults=faults or Faults(),
            barred_status=barred_status,
            idempotency_tag=idempotency_tag,
        )
        for number in barred:
            self.bar(number)
        self._admin = AdminApi(
            self.core.store,
            self.core.faults,
            self.status,
            admin_user or first_user,
            first_password if admin_password is None else admin_password,
        )
        self._server: asyncio.Server | None = None
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

    def status(self) -> dict[str, int]:
        """Counters, plus the binds open now and the receipts waiting for an ESME."""
        bound = sum(1 for s in self.core.sessions if s.state is not BindState.OPEN)
        return {
            **self.core.stats.as_dict(),
            "bound_now": bound,
            "receipts_pending": self.core.pending_receipts(),
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
        if self.admin_port is not None:
            try:
                self.admin_port = await self._admin.start(self.host, self.admin_port)
            except OSError:
                self._server.close()
                self._server = None
                raise
        log.info("SMSC %s listening on smpp://%s:%d", self.system_id, self.host, self.port)

    def _stop_service(self) -> None:
        """The outage: SMPP and the admin API stop listening, every bind is cut at once."""
        if self._server is not None:
            self._server.close()
            self._server = None
        self.drop_binds()
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
        self._server.close()
        sessions = list(self.core.sessions)
        for session in sessions:
            session.unbind()
        if sessions:
            await asyncio.sleep(0.05)  # let unbind_resp come back before the sockets close
        for session in list(self.core.sessions):
            session.close()
        await self._admin.stop()
        await self._server.wait_closed()
        self._server = None
        self.core.stop()

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
