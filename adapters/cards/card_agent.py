"""Card stations whose reader sits beside a clerk's PC, reached through a card agent.

The clerk's PC is usually behind NAT: the gateway cannot call it. So the agent calls out — it
long-polls the gateway for jobs and posts each result back — and `AgentLink` is the gateway's
end of that: a `CardAccess` whose operations become jobs in a queue. `AgentStation` puts the
ordinary station logic (`CardStationAdapter`: profiles, the proof, error mapping) on top, so
a card failure reads the same to the engine whether the reader is local or remote.

When things go wrong:
- No agent takes a job within ``offer_timeout``: the job is withdrawn and `ReaderError` ("no
  card agent online at station X") is raised — TRANSIENT to the engine, which retries.
- An agent took a job and did not answer — no answer within ``answer_timeout``, or the agent
  polled again (it restarted, or the job never reached it). A taken job is never offered
  again. A lost challenge or IMSI read is simply a `ReaderError` (they change nothing worth
  keeping). A lost write is different: it may have reached the card. The station answers
  UNKNOWN, and the engine reconciles by reading the card back (`read` → an ``imsi`` job)
  before it writes again.
- A result is accepted once per job; posting it again is ignored; a result for a job already
  withdrawn is refused as gone.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from adapters.cards.card_station import AucLookup, CardStationAdapter
from gateway.operations import CardOperation, Lookup, Outcome, Reply, SubscriberView
from simcard import agent_wire as wire
from simcard.errors import CardLayerError, ReaderError
from simcard.profile import CardProfile
from simcard.verifier import AuthResult
from simcard.writer import CardReport

log = logging.getLogger(__name__)

ONLINE_GRACE_S = 5.0  # an agent between two polls is still online for this long
_REMEMBERED_JOBS = 1024  # finished job ids kept to answer re-posted results

Completion = Literal["accepted", "duplicate", "gone"]


class CardOutcomeUnknownError(Exception):
    """A write job was taken by an agent that never answered: the card may hold the profile.

    Deliberately not a `CardLayerError`: the station logic must not read it as a card failure
    (which it would retry or give up on); `AgentStation` turns it into an UNKNOWN reply."""


@dataclass(eq=False)
class _Job:
    id: str
    kind: str
    body: dict[str, Any]  # cleared once handed out: the write's secrets do not linger here
    decode: Callable[[Mapping[str, Any]], Any]
    taken: asyncio.Event = field(default_factory=asyncio.Event)
    answer: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(frozen=True)
class AgentTimeouts:
    offer_s: float = 10.0  # for an agent to take a job
    answer_s: float = 90.0  # for the agent to answer a job it took (card wait included)
    card_wait_s: float = 30.0  # for the agent to see a card in the reader before it gives up


class AgentLink:
    """The gateway's end of one station's card agent: a job queue, long-polled by the agent.

    Implements `adapters.cards.card_station.CardAccess` for the station, and the desk the REST
    routes (`gateway/stations_api.py`) serve the agent from.
    """

    def __init__(self, station: str, token: str, timeouts: AgentTimeouts | None = None) -> None:
        self.station = station
        self.timeouts = timeouts or AgentTimeouts()
        self._token = token.encode()
        self._queue: deque[_Job] = deque()
        self._out: dict[str, _Job] = {}  # taken, not answered
        self._finished: OrderedDict[str, bool] = OrderedDict()  # id → answered (not withdrawn)
        self._arrived = asyncio.Event()
        self._change = asyncio.Event()
        self._polls = 0
        self._last_contact = float("-inf")
        self._agent: str | None = None
        self._agent_info: dict[str, Any] = {}
        self._closed = False
        self.where = f"the reader of the card agent at station {station}"

    # -- CardAccess: what the station asks for ---------------------------------------------

    async def write(self, profile: CardProfile) -> CardReport:
        body = {"profile": wire.profile_to_wire(profile)}
        report: CardReport = await self._run("write", body, wire.report_from_wire)
        return report

    async def challenge(self, rand: bytes, autn: bytes) -> AuthResult:
        body = {"rand": rand.hex(), "autn": autn.hex()}
        result: AuthResult = await self._run("challenge", body, wire.auth_from_wire)
        return result

    async def imsi(self) -> str | None:
        imsi: str | None = await self._run("imsi", {}, wire.imsi_from_wire)
        return imsi

    async def _run(
        self, kind: str, body: dict[str, Any], decode: Callable[[Mapping[str, Any]], Any]
    ) -> Any:
        job = _Job(secrets.token_hex(8), kind, body, decode)
        job.body |= {"id": job.id, "kind": kind, "card_wait_s": self.timeouts.card_wait_s}
        self._queue.append(job)
        self._arrived.set()
        self._changed()
        try:
            try:
                async with asyncio.timeout(self.timeouts.offer_s):
                    await job.taken.wait()
            except TimeoutError:
                raise ReaderError(f"no card agent online at station {self.station}") from None
            answered, _ = await asyncio.wait({job.answer}, timeout=self.timeouts.answer_s)
            if not answered:
                self._lose(job, f"no answer within {self.timeouts.answer_s:g} s")
            return await job.answer
        finally:
            self._retire(job)

    def _lose(self, job: _Job, why: str) -> None:
        if job.answer.done():
            return
        what = f"the card agent at station {self.station} took the {job.kind} job and lost it"
        log.warning("%s (%s)", what, why)
        if job.kind == "write":
            job.answer.set_exception(
                CardOutcomeUnknownError(f"{what} ({why}): the card may or may not be written")
            )
        else:
            job.answer.set_exception(ReaderError(f"{what} ({why})"))

    def _retire(self, job: _Job) -> None:
        if job in self._queue:
            self._queue.remove(job)
        self._out.pop(job.id, None)
        job.body.clear()
        self._finished.setdefault(job.id, False)  # answered jobs were recorded by `complete`
        while len(self._finished) > _REMEMBERED_JOBS:
            self._finished.popitem(last=False)
        self._changed()

    # -- the desk: what the agent asks for -------------------------------------------------

    def accepts(self, token: str) -> bool:
        """Whether ``token`` is this station's agent token (compared in constant time)."""
        return hmac.compare_digest(token.encode(), self._token)

    async def next_job(self, agent: str, wait: float) -> dict[str, Any] | None:
        """The next job for ``agent``, waiting up to ``wait`` seconds for one; None if none.

        A poll while a job is out means the agent lost it (agents work one job at a time and
        poll again only after answering): such jobs are resolved as lost at once.
        """
        self._meet(agent)
        for job in list(self._out.values()):
            self._lose(job, "the agent asked for new work without answering it")
        self._polls += 1
        self._changed()
        try:
            async with asyncio.timeout(wait):
                while not self._queue and not self._closed:
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            return None
        finally:
            self._polls -= 1
            self._last_contact = time.monotonic()
            asyncio.get_running_loop().call_later(ONLINE_GRACE_S, self._changed)
        if self._closed:
            return None
        job = self._queue.popleft()
        self._out[job.id] = job
        job.taken.set()
        body, job.body = job.body, {}
        self._changed()
        return body

    def complete(self, job_id: str, result: Mapping[str, Any]) -> Completion:
        """Record the agent's result for a job it took.

        Raises `KeyError` for a job this station never handed out, `wire.WireError` (a
        ValueError) for a result of the wrong shape — the job then stays out.
        """
        job = self._out.get(job_id)
        if job is None:
            if job_id not in self._finished:
                raise KeyError(job_id)
            return "duplicate" if self._finished[job_id] else "gone"
        if job.answer.done():
            return "gone"
        try:
            value = job.decode(wire.check_result(result))
        except CardLayerError as exc:  # the card failure the result carries
            job.answer.set_exception(exc)
        else:
            job.answer.set_result(value)
        self._out.pop(job_id)
        self._finished[job_id] = True
        return "accepted"

    def report(self, agent: str, info: Mapping[str, Any]) -> None:
        """The agent's own news: which reader, whether a card is in it, what went wrong."""
        self._meet(agent)
        self._agent_info = dict(info)
        reader = info.get("reader")
        place = f'reader "{reader}"' if reader else "the reader"
        self.where = f"{place} of the card agent at station {self.station}"
        self._last_contact = time.monotonic()
        asyncio.get_running_loop().call_later(ONLINE_GRACE_S, self._changed)
        self._changed()

    def _meet(self, agent: str) -> None:
        if agent != self._agent:
            if self._agent is not None:
                log.warning("station %s: another card agent took over", self.station)
            self._agent = agent

    def online(self) -> bool:
        recent = time.monotonic() - self._last_contact < ONLINE_GRACE_S
        return self._polls > 0 or bool(self._out) or recent

    def status(self) -> dict[str, Any]:
        """What a front end shows: is the agent there, which reader, is a card in it, is a
        card job under way (``busy``: write, challenge or imsi) or waiting for the agent."""
        out = next(iter(self._out.values()), None)
        info = self._agent_info
        return {
            "online": self.online(),
            "host": info.get("host"),
            "reader": info.get("reader"),
            "card_present": info.get("card_present"),
            "reader_error": info.get("reader_error"),
            "busy": out.kind if out is not None else None,
            "waiting_jobs": len(self._queue),
        }

    def _changed(self) -> None:
        self._change.set()
        self._change = asyncio.Event()

    async def changed(self) -> None:
        """Return at the next change of `status()` (or of `online()`, which ages)."""
        await self._change.wait()

    def close(self) -> None:
        """Fail every job still waiting; wake every poll (gateway shutting down)."""
        for job in [*self._queue, *self._out.values()]:
            if not job.answer.done():
                job.answer.set_exception(ReaderError(f"station {self.station} is closing"))
        self._queue.clear()
        self._closed = True
        self._arrived.set()


class AgentStation:
    """A `CardStation` whose reader is reached through a card agent (see the module doc)."""

    def __init__(self, name: str, link: AgentLink, *, auc: AucLookup) -> None:
        self.name = name
        self.dialect = "card-agent"
        self.desk = link
        self._station = CardStationAdapter(name, link, auc=auc, dialect=self.dialect)

    def render(self, op: CardOperation) -> str:
        return self._station.render(op)

    async def execute(self, op: CardOperation) -> Reply:
        started = time.perf_counter()
        try:
            return await self._station.execute(op)
        except CardOutcomeUnknownError as exc:
            log.info("card station %s: %s (agent-lost)", self.name, exc)
            return Reply(
                outcome=Outcome.UNKNOWN,
                code="agent-lost",
                text=str(exc),
                command=self.render(op),
                elapsed_ms=(time.perf_counter() - started) * 1e3,
            )

    async def read(self, lookup: Lookup) -> SubscriberView:
        return await self._station.read(lookup)

    async def close(self) -> None:
        self.desk.close()
        await self._station.close()


def agent_station(
    name: str, *, token: str, auc: AucLookup, timeouts: AgentTimeouts | None = None
) -> AgentStation:
    """A station served by a card agent that authenticates with ``token``."""
    return AgentStation(name, AgentLink(name, token, timeouts), auc=auc)
