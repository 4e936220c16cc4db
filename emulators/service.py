"""An emulator's service port as its management side sees it: up or down, and its alarms.

The fault settings drive both. Setting ``outage`` stops the service (the emulator closes its
listening sockets and cuts every session, so clients get "connection refused"); clearing it
listens again on the same port. Every change of the settings re-derives the active alarms
(`FaultSettings.conditions`). The SNMP agent reads ``up``, ``changed_at`` and ``alarms``.

Changes come from synchronous code (an MML command, an admin request, a test calling
``faults.update``), while listening again is asynchronous: it runs as a task, and `settled`
waits for it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from emulators.alarms import AlarmTable, Condition, Severity
from emulators.fault_injection import OUTAGE, FaultSettings

log = logging.getLogger(__name__)


class ServicePort:
    """``stop`` closes the service at once; ``start`` listens again (raises `OSError` if it
    cannot). ``description`` names the port for engineers (the SNMP ifDescr)."""

    def __init__(
        self,
        faults: FaultSettings,
        *,
        stop: Callable[[], None],
        start: Callable[[], Awaitable[None]],
        alarms: AlarmTable | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.faults = faults
        self.alarms = alarms or AlarmTable()
        self.description = ""
        self.up = True
        self._stop = stop
        self._start = start
        self._clock = clock
        self.changed_at = clock()
        self._restarting: asyncio.Task[None] | None = None
        self._outage_end: asyncio.TimerHandle | None = None
        self._listen_error: str | None = None
        self._attached = False

    def attach(self) -> None:
        """Follow the fault settings from now on (call once the service listens)."""
        self.faults.watch(self._faults_changed)
        self._attached = True
        self._faults_changed()

    async def detach(self) -> None:
        """Stop following the settings; a restart under way is finished first."""
        if not self._attached:
            return
        self._attached = False
        self.faults.unwatch(self._faults_changed)
        if self._outage_end is not None:
            self._outage_end.cancel()
        await self.settled()

    async def settled(self) -> None:
        """Wait until the service is in the state the settings ask for (or failed to be)."""
        while self._restarting is not None:
            await asyncio.shield(self._restarting)

    def _faults_changed(self) -> None:
        self._sync_alarms()
        self._schedule_outage_end()
        if self._restarting is None:
            self._apply(retry=True)

    def _sync_alarms(self) -> None:
        conditions = self.faults.conditions()
        if not self.up and self._listen_error is None:
            conditions["outage"] = OUTAGE  # until the port is open again, whatever the setting
        if self._listen_error is not None:
            conditions["listen"] = Condition(
                Severity.CRITICAL, f"service port could not open again: {self._listen_error}"
            )
        self.alarms.sync(conditions)

    def _schedule_outage_end(self) -> None:
        if self._outage_end is not None:
            self._outage_end.cancel()
            self._outage_end = None
        if self.faults.outage and self.faults.outage_s > 0:
            self._outage_end = asyncio.get_running_loop().call_later(
                self.faults.outage_s, self._end_outage
            )

    def _end_outage(self) -> None:
        self._outage_end = None
        self.faults.update(outage=False)

    def _apply(self, *, retry: bool) -> None:
        if self.faults.outage and self.up:
            log.warning("injected outage: service %s stops", self.description)
            self._stop()
            self._set(up=False)
        elif not self.faults.outage and not self.up and (retry or self._listen_error is None):
            self._restarting = asyncio.get_running_loop().create_task(self._restart())

    async def _restart(self) -> None:
        try:
            await self._start()
        except OSError as exc:
            log.error("service %s could not listen again: %s", self.description, exc)
            self._listen_error = str(exc)
        else:
            self._listen_error = None
            self._set(up=True)
            log.warning("outage over: service %s listens again", self.description)
        finally:
            self._restarting = None
        self._sync_alarms()
        self._apply(retry=False)  # the settings may have changed meanwhile

    def _set(self, *, up: bool) -> None:
        self.up = up
        self.changed_at = self._clock()
