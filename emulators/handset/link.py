"""The handset's side of the SMSC link (`emulators.smsc.air` describes the link).

Attach with the handset's number, stay attached — after the SMSC goes away the link comes back
by itself, with a growing wait between tries (0.1 s doubling to 5 s), as a phone re-registers —
take every SMS-DELIVER to ``on_deliver`` and answer with its report, and send SMS-SUBMITs,
each waiting for its submit report.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from emulators.smsc import air
from emulators.smsc.air import LinkError
from emulators.smsc.handsets import Report

log = logging.getLogger(__name__)

DeliverHandler = Callable[[bytes], Awaitable[Report]]


class LinkDown(ConnectionError):
    """Not attached, or the link went before the SMSC answered."""


class SubmitRefused(Exception):
    """The SMSC answered an SMS-SUBMIT with RP-ERROR; ``cause`` is the RP cause."""

    def __init__(self, cause: int) -> None:
        super().__init__(f"refused by the SMSC with RP cause {cause}")
        self.cause = cause


class SmscLink:
    def __init__(
        self,
        host: str,
        port: int,
        msisdn: str,
        on_deliver: DeliverHandler,
        *,
        backoff: float = 0.1,
        backoff_max: float = 5.0,
    ) -> None:
        self.host, self.port, self.msisdn = host, port, msisdn
        self._on_deliver = on_deliver
        self._backoff, self._backoff_max = backoff, backoff_max
        self.attached = asyncio.Event()
        self.attaches = 0
        self.last_error = "not attached yet"
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._refs = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name=f"handset-{self.msisdn}")

    async def close(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait_attached(self, within: float) -> None:
        try:
            await asyncio.wait_for(self.attached.wait(), within)
        except TimeoutError:
            raise LinkDown(f"not attached to the SMSC: {self.last_error}") from None

    async def submit(self, tpdu: bytes, *, within: float = 30.0) -> str:
        """Send one SMS-SUBMIT; the SMSC's message id. `LinkDown` when it could not be sent
        or the link went before the answer, `SubmitRefused` for an RP-ERROR, `TimeoutError`
        when no answer came ``within`` seconds."""
        writer = self._writer
        if writer is None or not self.attached.is_set():
            raise LinkDown(f"not attached to the SMSC: {self.last_error}")
        ref = next(self._refs)
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[ref] = answer
        writer.write(air.encode_line({"type": "submit", "ref": ref, "tpdu": tpdu.hex()}))
        try:
            report = await asyncio.wait_for(answer, within)
        finally:
            self._pending.pop(ref, None)
        if not report.get("ok"):
            raise SubmitRefused(int(report.get("cause", 0)))
        return str(report.get("message_id", ""))

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._session()
                failures = 0
            except (OSError, LinkError, asyncio.IncompleteReadError) as exc:
                self.last_error = str(exc) or type(exc).__name__
                failures += 1
            finally:
                self._lost()
            wait = min(self._backoff * 2 ** max(failures - 1, 0), self._backoff_max)
            log.info(
                "handset %s: link to the SMSC lost (%s); again in %.1f s",
                self.msisdn,
                self.last_error,
                wait,
            )
            await asyncio.sleep(wait)

    async def _session(self) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port, limit=air.MAX_LINE)
        self._writer = writer
        try:
            writer.write(air.encode_line({"type": "attach", "msisdn": self.msisdn}))
            answer = air.decode_line(await reader.readline() or b"{}")
            if answer.get("type") != "attached":
                raise LinkError(f"attach refused: {answer.get('error', answer)}")
            self.attaches += 1
            self.attached.set()
            log.info("handset %s attached to %s:%d", self.msisdn, self.host, self.port)
            while line := await reader.readline():
                self._received(air.decode_line(line))
            self.last_error = "closed by the SMSC"
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def _received(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "deliver":
            task = asyncio.create_task(self._deliver(message.get("ref"), message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif kind == "submit_report":
            answer = self._pending.get(message.get("ref", -1))
            if answer is not None and not answer.done():
                answer.set_result(message)
        elif kind == "refused":
            raise LinkError(f"the SMSC refused the link: {message.get('error')}")

    async def _deliver(self, ref: object, message: dict[str, Any]) -> None:
        try:
            report = await self._on_deliver(air.hex_field(message, "tpdu"))
        except Exception:  # a handset that cannot take it says so, it does not go silent
            log.exception("handset %s: delivery %s failed", self.msisdn, ref)
            report = Report(False, air.RpCause.PROTOCOL_ERROR)
        answer: dict[str, Any] = {"type": "deliver_report", "ref": ref, "ok": report.delivered}
        if report.delivered:
            answer["user_data"] = report.user_data.hex()
        else:
            answer["cause"] = report.cause
        if self._writer is not None:
            self._writer.write(air.encode_line(answer))

    def _lost(self) -> None:
        self.attached.clear()
        self._writer = None
        for answer in self._pending.values():
            if not answer.done():
                answer.set_exception(LinkDown("the link went before the SMSC answered"))
