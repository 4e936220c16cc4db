"""The card agent: runs beside a clerk's card reader and writes cards for a gateway.

The gateway cannot reach a clerk's PC (NAT), so the agent calls out: it long-polls
``GET /stations/{station}/jobs`` for card jobs, carries each out on the reader with this
package (`write_card`, `challenge`, `read_card`) and posts the result back; on the side it
tells the gateway which reader it serves and whether a card is in it. Jobs and results are
described in `simcard.agent_wire`; the gateway's side is in ``adapters/cards/card_agent.py``.

It keeps going through everything a counter's day brings: the gateway restarting (it
reconnects with growing, jittered pauses), the reader unplugged, the card pulled — each a
result or a log line, not an exit. It exits only when stopped (SIGTERM/SIGINT) or when the
gateway refuses it for good (wrong token, unknown station): see `EXIT_*`.

Secrets: a write job carries Ki/OPc/ADM1. They are used and dropped; no log line carries a
job body, a key or the token.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import signal
import socket
import time
import uuid
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from simcard import agent_wire as wire
from simcard.errors import CardLayerError, NoCardError
from simcard.reader import read_card
from simcard.transport import PcscTransport, Transport
from simcard.verifier import challenge
from simcard.writer import write_card

log = logging.getLogger(__name__)

EXIT_STOPPED = 0  # stopped by SIGTERM/SIGINT
EXIT_USAGE = 2  # bad options, or the token variable is not set
EXIT_REFUSED = 4  # the gateway refused the token (401/403): not retried
EXIT_NO_STATION = 5  # the gateway has no agent station of that name (404)

_REPORT_EVERY_S = 30.0  # the reader's state is reported again at least this often
_PRESENCE_POLL_S = 0.5  # how long one presence watch blocks (bounds the stop latency)


class AgentExit(Exception):
    """The gateway refused the agent for good; `code` is the exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class AgentSettings:
    gateway: str  # base URL, e.g. https://gateway.example:8443
    station: str
    token: str = field(repr=False)
    reader: str | None = None  # name or part of it; None: the only reader
    poll_wait_s: float = 25.0
    backoff_first_s: float = 0.25
    backoff_max_s: float = 15.0


class AgentReader:
    """The agent's reader: one PC/SC connection per job, released after it (blocking calls;
    the agent runs them in threads)."""

    def __init__(self, reader: str | None) -> None:
        self.reader = reader

    @contextlib.contextmanager
    def _card(self) -> Iterator[Transport]:
        transport = PcscTransport(self.reader)
        try:
            transport.connect()
            yield transport
        finally:
            transport.disconnect()

    def run(self, job: Mapping[str, Any]) -> dict[str, Any]:
        """Carry out one job; the result to post (a card failure is a result, not an error)."""
        try:
            kind = job.get("kind")
            if kind not in wire.JOB_KINDS:
                raise wire.WireError(f"kind: unknown job kind {kind!r}")
            self.wait_for_card(float(job.get("card_wait_s") or 0))
            with self._card() as transport:
                if kind == "write":
                    profile = wire.profile_from_wire(job.get("profile"))
                    return {"ok": True, **wire.report_to_wire(write_card(transport, profile))}
                if kind == "challenge":
                    rand, autn = wire.hex_field(job, "rand"), wire.hex_field(job, "autn")
                    return {"ok": True, **wire.auth_to_wire(challenge(transport, rand, autn))}
                imsi = read_card(transport)["files"]["imsi"]["value"]
                return {"ok": True, "imsi": str(imsi) if imsi else None}
        except (CardLayerError, ValueError) as exc:
            return wire.error_result(exc)

    def wait_for_card(self, timeout: float) -> None:
        """Give the clerk ``timeout`` seconds to insert a card, if none is in the reader."""
        if timeout <= 0:
            return
        watcher = PcscTransport(self.reader, shared=True)
        try:
            if not watcher.card_present():
                log.info("waiting up to %g s for a card in %s", timeout, watcher.reader)
                if not watcher.wait_for_card(timeout):
                    raise NoCardError(f"no card inserted in {watcher.reader!r} in time")
        finally:
            watcher.disconnect()

    def presence(self, known: bool | None) -> dict[str, Any]:
        """The reader's state once it differs from ``known`` or after a short watch: its name,
        whether a card is in, or why the reader cannot be used."""
        try:
            watcher = PcscTransport(self.reader, shared=True)
        except CardLayerError as exc:
            return {"reader": self.reader, "card_present": None, "reader_error": str(exc)}
        try:
            present = watcher.card_present()
            if present == known:
                watcher.wait_for_card(_PRESENCE_POLL_S, present=not known)
                present = watcher.card_present()
            return {"reader": watcher.reader, "card_present": present, "reader_error": None}
        except CardLayerError as exc:
            return {"reader": watcher.reader, "card_present": None, "reader_error": str(exc)}
        finally:
            watcher.disconnect()


class CardAgent:
    """One agent process's work: the job loop and the presence reports, until stopped."""

    def __init__(
        self,
        settings: AgentSettings,
        *,
        reader: AgentReader | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.reader = reader or AgentReader(settings.reader)
        self.id = uuid.uuid4().hex
        self._base = f"/stations/{settings.station}"
        self._client = httpx.AsyncClient(
            base_url=settings.gateway,
            headers={"Authorization": f"Bearer {settings.token}"},
            timeout=httpx.Timeout(10.0, read=settings.poll_wait_s + 10.0),
            transport=transport,
        )
        self._stop = asyncio.Event()
        self._report_again = asyncio.Event()
        self._online: bool | None = None

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> int:
        """Work until stopped (`EXIT_STOPPED`) or refused for good (its exit code)."""
        log.info(
            "card agent for station %s at %s started",
            self.settings.station,
            self.settings.gateway,
            extra={"fields": {"agent": self.id, "reader": self.settings.reader}},
        )
        presence = asyncio.create_task(self._presence())
        try:
            await self._jobs()
        except AgentExit as exc:
            log.error("%s", exc)
            return exc.code
        finally:
            presence.cancel()
            with contextlib.suppress(asyncio.CancelledError, AgentExit):
                await presence
            await self._client.aclose()
        log.info("card agent stopped")
        return EXIT_STOPPED

    # -- jobs --------------------------------------------------------------------------------

    async def _jobs(self) -> None:
        params: dict[str, str | float] = {"agent": self.id, "wait": self.settings.poll_wait_s}
        backoff = self._backoff()
        while not self._stop.is_set():
            response = await self._until_stopped(
                self._client.get(f"{self._base}/jobs", params=params)
            )
            if response is None:
                await self._pause(backoff)
                continue
            if response.status_code == 404:
                raise AgentExit(EXIT_NO_STATION, f"the gateway says: {response.text}")
            if response.status_code == 204:
                continue
            if response.status_code != 200:
                log.warning("the gateway answered a poll with HTTP %d", response.status_code)
                await self._pause(backoff)
                continue
            job = response.json()
            job_id, kind = str(job.get("id")), job.get("kind")
            log.info("job %s (%s) taken", job_id, kind)
            result = await asyncio.to_thread(self.reader.run, job)
            job.clear()  # the write's keys go no further
            outcome = "done" if result["ok"] else f"failed: {result['error']['code']}"
            log.info("job %s (%s) %s", job_id, kind, outcome)
            await self._post(job_id, result)
            backoff = self._backoff()

    async def _post(self, job_id: str, result: dict[str, Any]) -> None:
        """Post a job's result until the gateway has it (re-posting is harmless: results are
        idempotent per job) or has withdrawn the job."""
        backoff = self._backoff()
        while True:
            response = await self._until_stopped(
                self._client.post(f"{self._base}/jobs/{job_id}", json=result), stopping=False
            )
            if response is not None:
                if response.status_code in (404, 410):
                    log.warning("job %s: the gateway withdrew it; result dropped", job_id)
                elif response.status_code != 200:
                    log.warning("job %s: result refused (HTTP %d)", job_id, response.status_code)
                return
            if self._stop.is_set():
                log.warning("job %s: stopping before the gateway had its result", job_id)
                return
            await self._sleep(next(backoff), stopping=False)

    async def _until_stopped(
        self, request: Coroutine[Any, Any, httpx.Response], *, stopping: bool = True
    ) -> httpx.Response | None:
        """The gateway's answer to ``request``; None if unreachable or busy (5xx), or if the
        agent is stopped meanwhile (when ``stopping``). Refusals for good raise `AgentExit`."""
        call = asyncio.ensure_future(request)
        waits: set[asyncio.Future[Any]] = {call}
        if stopping:
            waits.add(asyncio.ensure_future(self._stop.wait()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        if call.cancelled():
            return None
        try:
            response: httpx.Response = call.result()
        except httpx.HTTPError as exc:
            self._offline(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            return None
        if response.status_code in (401, 403):
            raise AgentExit(EXIT_REFUSED, f"the gateway refused the token ({response.text})")
        if response.status_code >= 500:
            self._offline(f"HTTP {response.status_code}")
            return None
        if not self._online:
            self._online = True
            self._report_again.set()  # a gateway that restarted knows nothing of the reader
            log.info("connected to %s as station %s", self.settings.gateway, self.settings.station)
        return response

    def _offline(self, why: str) -> None:
        if self._online is not False:
            log.warning("gateway %s unreachable (%s); retrying", self.settings.gateway, why)
        self._online = False

    # -- presence ------------------------------------------------------------------------------

    async def _presence(self) -> None:
        """Tell the gateway the reader's state at start, whenever it changes, after each
        reconnection and at least every `_REPORT_EVERY_S`."""
        reported: dict[str, Any] | None = None
        sent_at = 0.0
        host = socket.gethostname()
        backoff = self._backoff()
        while not self._stop.is_set():
            known = reported["card_present"] if reported else None
            state = await asyncio.to_thread(self.reader.presence, known)
            due = self._report_again.is_set() or time.monotonic() - sent_at > _REPORT_EVERY_S
            if state == reported and not due:
                if state["card_present"] is None:  # the reader is unusable: look again later
                    await self._sleep(_PRESENCE_POLL_S)
                continue
            self._report_again.clear()
            report = {"agent": self.id, "host": host, **state}
            response = await self._until_stopped(
                self._client.put(f"{self._base}/agent", json=report)
            )
            if response is None:
                await self._pause(backoff)
                continue
            if state != reported:
                log.info(
                    "reader %s: %s",
                    state["reader"],
                    state["reader_error"] or ("card in" if state["card_present"] else "no card"),
                )
            reported, sent_at, backoff = state, time.monotonic(), self._backoff()

    # -- pauses --------------------------------------------------------------------------------

    def _backoff(self) -> Iterator[float]:
        """Pauses between tries: doubling from the first to the longest, each jittered."""
        delay = self.settings.backoff_first_s
        while True:
            yield delay * random.uniform(0.5, 1.0)
            delay = min(delay * 2, self.settings.backoff_max_s)

    async def _pause(self, backoff: Iterator[float]) -> None:
        await self._sleep(next(backoff))

    async def _sleep(self, seconds: float, *, stopping: bool = True) -> None:
        """Sleep, cut short by a stop when ``stopping``."""
        if not stopping:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)


class JsonLines(logging.Formatter):
    """One JSON object per log record (``--json``): time, level, message and the record's
    ``fields`` extra, if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        return json.dumps(line, ensure_ascii=False)


def configure_logging(as_json: bool) -> None:
    """The agent's log lines on stderr; the HTTP client's own lines (every request) muted."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonLines() if as_json else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)


async def run_agent(settings: AgentSettings) -> int:
    """Run an agent until SIGTERM/SIGINT or a refusal; its exit code."""
    agent = CardAgent(settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, agent.stop)
    try:
        return await agent.run()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
