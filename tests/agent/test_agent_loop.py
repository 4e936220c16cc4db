"""The agent process's loop (`simcard.agent.CardAgent`) against the gateway's station routes,
in one process: jobs carried out, reader reported, reconnection, refusals and exit codes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from adapters.cards.card_agent import AgentStation
from gateway.operations import Outcome
from simcard.agent import EXIT_NO_STATION, EXIT_REFUSED, EXIT_STOPPED, AgentSettings, CardAgent
from simcard.cli import card
from tests.agent.doubles import (
    IMSI,
    KI,
    STATION,
    TOKEN,
    ScriptedReader,
    agent_station,
    desk_app,
    report,
    write_op,
)


def answer(job: Mapping[str, Any]) -> dict[str, Any]:
    return report() if job["kind"] == "write" else {"ok": True, "imsi": IMSI}


class FlakyTransport(httpx.AsyncBaseTransport):
    """The gateway unreachable for the first ``failures`` requests, then reachable."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.failures > 0:
            self.failures -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


def agent_for(
    app: Any, *, token: str = TOKEN, station: str = STATION, failures: int = 0, poll: float = 5
) -> CardAgent:
    settings = AgentSettings(
        gateway="http://gw", station=station, token=token, poll_wait_s=poll, backoff_first_s=0.01
    )
    transport = FlakyTransport(httpx.ASGITransport(app=app), failures)
    return CardAgent(settings, reader=ScriptedReader(answer), transport=transport)


async def test_the_agent_carries_out_card_jobs_and_reports_its_reader(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    station = agent_station()
    agent = agent_for(desk_app({STATION: station}), failures=3)
    running = asyncio.create_task(agent.run())
    reply = await station.execute(write_op())
    assert reply.outcome is Outcome.OK, reply.text
    await reported(station)  # the report may come after the job
    assert station.desk.status()["reader"] == "Scripted 00"
    assert station.desk.status()["card_present"] is True
    assert isinstance(agent.reader, ScriptedReader)
    assert [job["kind"] for job in agent.reader.jobs] == ["write"]
    agent.stop()
    assert await running == EXIT_STOPPED
    messages = [r.getMessage() for r in caplog.records if r.name == "simcard.agent"]
    assert sum("unreachable" in m for m in messages) == 1, "said once, not per retry"
    assert any(m.startswith("connected to http://gw") for m in messages)
    assert any("(write) done" in m for m in messages)
    assert KI not in caplog.text and TOKEN not in caplog.text


async def test_a_refused_token_stops_the_agent_for_good() -> None:
    agent = agent_for(desk_app({STATION: agent_station()}), token="not-the-token-0123456789")
    assert await asyncio.wait_for(agent.run(), 10) == EXIT_REFUSED


async def test_an_unknown_station_stops_the_agent_for_good() -> None:
    agent = agent_for(desk_app({STATION: agent_station()}), station="counter-9")
    assert await asyncio.wait_for(agent.run(), 10) == EXIT_NO_STATION


def test_the_command_needs_the_token_in_the_environment() -> None:
    runner = CliRunner()
    args = ["agent", "--station", STATION, "--token-env", "AGENT_TOKEN_X"]
    missing = runner.invoke(card, [*args, "--gateway", "http://gw"], env={"AGENT_TOKEN_X": ""})
    assert missing.exit_code == 2
    assert "$AGENT_TOKEN_X is not set" in missing.output
    bad_url = runner.invoke(card, [*args, "--gateway", "gw:8080"], env={"AGENT_TOKEN_X": TOKEN})
    assert bad_url.exit_code == 2
    assert "--gateway" in bad_url.output


async def reported(station: AgentStation) -> None:
    async with asyncio.timeout(10):
        while station.desk.status()["reader"] is None:
            await station.desk.changed()


async def test_a_restarted_gateway_learns_the_reader_again() -> None:
    first = agent_station()
    agent = agent_for(desk_app({STATION: first}), poll=0.2)
    transport = agent._client._transport
    assert isinstance(transport, FlakyTransport)
    running = asyncio.create_task(agent.run())
    await reported(first)
    restarted = agent_station()
    transport.inner = httpx.ASGITransport(app=desk_app({STATION: restarted}))
    transport.failures = 2  # the agent sees the gateway go away, then come back
    await reported(restarted)
    assert restarted.desk.status()["card_present"] is True
    agent.stop()
    assert await running == EXIT_STOPPED
