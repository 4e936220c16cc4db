"""REST routes for card stations: their state for front ends, and the desk card agents work at.

For front ends (an operator's login, as every read; what the card step of a counter shows):
  ``GET /stations``, ``GET /stations/{name}`` — each station's `StationState`;
  ``GET /stations/events`` — server-sent ``station`` events, one per change of a state.

For card agents (``Authorization: Bearer <the station's token>``; docs/card-agent.md):
  ``GET /stations/{name}/jobs?agent=ID&wait=25`` — the next card job (200), none yet (204);
  ``POST /stations/{name}/jobs/{job_id}`` — its result (accepted once, re-posts ignored);
  ``PUT /stations/{name}/agent`` — which reader the agent serves and whether a card is in it.

The agent calls out, never the gateway in: the clerk's PC is usually behind NAT.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from gateway.engine import Engine
from gateway.resources.api import Key, read_access

log = logging.getLogger(__name__)
router = APIRouter(tags=["card stations"])
HEARTBEAT_S = 15.0
_bearer = HTTPBearer(auto_error=False, description="the station's card agent token")
_AGENT_ID = r"^[A-Za-z0-9_-]{1,64}$"


@runtime_checkable
class AgentDesk(Protocol):
    """What the routes need of a station served by a card agent (`adapters.cards.card_agent`)."""

    def accepts(self, token: str) -> bool: ...

    async def next_job(self, agent: str, wait: float) -> dict[str, Any] | None: ...

    def complete(self, job_id: str, result: Mapping[str, Any]) -> str:
        """ "accepted", "duplicate" or "gone"; KeyError for an unknown job, ValueError for a
        result of the wrong shape."""
        ...

    def report(self, agent: str, info: Mapping[str, Any]) -> None: ...

    def status(self) -> dict[str, Any]: ...

    async def changed(self) -> None: ...

    def close(self) -> None: ...


class StationState(BaseModel):
    """A card station as a counter screen shows it."""

    name: str
    kind: Literal["local", "agent"] = Field(
        description="local: a reader on the gateway's machine; agent: one on a clerk's PC"
    )
    reader: str | None = Field(
        description="the reader's name: configured (local), reported by the agent (agent)"
    )
    online: bool | None = Field(
        description="agent: polling the gateway now or within 5 s; local: null (not watched)"
    )
    card_present: bool | None = Field(
        description="a card in the reader, as the agent last saw it; null when not known"
    )
    busy: Literal["write", "challenge", "imsi"] | None = Field(
        description="the card job the agent is carrying out (write: writing the card; "
        "challenge: proving it; imsi: reading it back)"
    )
    waiting_jobs: int = Field(description="card jobs waiting for the agent to take them")
    host: str | None = Field(description="the host name of the agent's PC")
    reader_error: str | None = Field(description="why the agent cannot use its reader")


class AgentReport(BaseModel):
    """What an agent says about itself and its reader."""

    model_config = ConfigDict(extra="forbid")

    agent: Annotated[str, Field(pattern=_AGENT_ID)]
    host: Annotated[str, Field(max_length=255)] | None = None
    reader: Annotated[str, Field(max_length=255)] | None = None
    card_present: bool | None = None
    reader_error: Annotated[str, Field(max_length=1000)] | None = None


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(_engine)]


def _desk(station: object) -> AgentDesk | None:
    desk = getattr(station, "desk", None)
    return desk if isinstance(desk, AgentDesk) else None


def _states(engine: Engine) -> list[StationState]:
    configured = {st.name: st for st in engine.config.card_stations}
    states = []
    for name, station in engine.targets.stations.items():
        desk = _desk(station)
        config = configured.get(name)
        state: dict[str, Any] = {
            "name": name,
            "kind": "local",
            "reader": config.reader if config else None,
            "online": None,
            "card_present": None,
            "busy": None,
            "waiting_jobs": 0,
            "host": None,
            "reader_error": None,
        }
        if desk is not None:
            state |= {"kind": "agent"} | desk.status()
        states.append(StationState.model_validate(state))
    return states


@router.get("/stations", dependencies=[Depends(read_access)])
async def list_stations(engine: EngineDep) -> list[StationState]:
    """Every card station: which reader, whether its agent is online, whether a card is in."""
    return _states(engine)


@router.get("/stations/events", dependencies=[Depends(read_access)])
async def station_events(request: Request, engine: EngineDep) -> StreamingResponse:
    """Server-sent events: every station's state at once, then one ``station`` event (a
    `StationState`) each time one changes."""

    async def stream() -> AsyncIterator[str]:
        last: dict[str, StationState] = {}
        yield ": connected\n\n"
        while not await request.is_disconnected():
            for state in _states(engine):
                if last.get(state.name) != state:
                    last[state.name] = state
                    yield f"event: station\ndata: {state.model_dump_json()}\n\n"
            desks = [d for d in map(_desk, engine.targets.stations.values()) if d is not None]
            waits = [asyncio.create_task(d.changed()) for d in desks]
            done: set[asyncio.Task[None]] = set()
            if waits:
                done, pending = await asyncio.wait(
                    waits, timeout=HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED
                )
                for waiting in pending:
                    waiting.cancel()
            else:
                await asyncio.sleep(HEARTBEAT_S)
            if not done:
                yield ": keep-alive\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


@router.get("/stations/{name}", dependencies=[Depends(read_access)])
async def get_station(name: Key, engine: EngineDep) -> StationState:
    state = next((s for s in _states(engine) if s.name == name), None)
    if state is None:
        raise HTTPException(status_code=404, detail=f"no card station {name}")
    return state


def _agent_desk(
    name: Key,
    request: Request,
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AgentDesk:
    """The desk of station ``name``, for an agent that presents the station's token.

    Refusals are logged with the station and the caller's address, never with the token."""
    station = engine.targets.stations.get(name)
    if station is None:
        raise HTTPException(status_code=404, detail=f"no card station {name}")
    desk = _desk(station)
    if desk is None:
        raise HTTPException(
            status_code=404, detail=f"card station {name} has its reader on the gateway's machine"
        )
    caller = request.client.host if request.client else "unknown address"
    if credentials is None:
        log.warning("card station %s: agent without a bearer token refused (%s)", name, caller)
        raise HTTPException(
            status_code=401,
            detail="a card agent needs the station's bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not desk.accepts(credentials.credentials):
        log.warning("card station %s: agent with a wrong token refused (%s)", name, caller)
        raise HTTPException(status_code=403, detail=f"wrong token for card station {name}")
    return desk


DeskDep = Annotated[AgentDesk, Depends(_agent_desk)]


def release_agents(engine: Engine) -> None:
    """End every card agent's long poll now (the server is shutting down: it would otherwise
    wait for each poll to run out)."""
    for station in engine.targets.stations.values():
        desk = _desk(station)
        if desk is not None:
            desk.close()


async def _disconnected(request: Request) -> None:
    """Return when the client goes away (a poll's body, if any, is read first)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


@router.get(
    "/stations/{name}/jobs",
    responses={200: {"description": "a card job"}, 204: {"description": "no job yet"}},
)
async def next_job(
    request: Request,
    desk: DeskDep,
    agent: Annotated[
        str, Query(pattern=_AGENT_ID, max_length=64, description="the agent's id for this run")
    ],
    wait: Annotated[float, Query(ge=0, le=60, description="seconds to wait for a job")] = 25,
) -> Response:
    """Long poll for the next card job. A job may hold card keys: never cache or log it.

    A poll from an agent that still holds a job it took resolves that job as lost."""
    poll = asyncio.ensure_future(desk.next_job(agent, wait))
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({poll, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not poll.done():
            poll.cancel()  # the agent hung up before a job came: none is handed out
    job = poll.result() if poll.done() and not poll.cancelled() else None
    if job is None:
        return Response(status_code=204)
    return JSONResponse(job, headers={"Cache-Control": "no-store"})


@router.post("/stations/{name}/jobs/{job_id}")
async def post_result(
    name: Key, job_id: Key, desk: DeskDep, result: Annotated[dict[str, Any], Body()]
) -> dict[str, str]:
    """A job's result: ``{"ok": true, …}`` or ``{"ok": false, "error": {"code", "message"}}``.

    200 ``accepted``; 200 ``duplicate`` when the result was already posted (ignored); 410 when
    the job was withdrawn before the result came; 404 for a job never handed out; 422 for a
    result of the wrong shape (the job stays open)."""
    try:
        outcome = desk.complete(job_id, result)
    except KeyError:
        raise HTTPException(
            status_code=404, detail=f"no job {job_id} at card station {name}"
        ) from None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    if outcome == "gone":
        raise HTTPException(
            status_code=410, detail=f"job {job_id} was withdrawn before its result came"
        )
    return {"result": outcome}


@router.put("/stations/{name}/agent", status_code=204)
async def agent_report(desk: DeskDep, report: AgentReport) -> Response:
    """The agent's reader and whether a card is in it (sent at start and on every change)."""
    desk.report(report.agent, report.model_dump(exclude={"agent"}))
    return Response(status_code=204)
