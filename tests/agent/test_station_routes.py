"""The REST desk card agents work at, and the station states front ends show."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.cards.card_agent import AgentStation
from simcard.errors import ReaderError
from tests.agent.doubles import IMSI, STATION, TOKEN, agent_station, desk_app

AUTH = {"Authorization": f"Bearer {TOKEN}"}
JOBS = f"/stations/{STATION}/jobs"


@pytest.fixture
def station() -> AgentStation:
    return agent_station(offer_s=5.0, answer_s=5.0)


@pytest.fixture
async def client(station: AgentStation) -> AsyncIterator[httpx.AsyncClient]:
    app = desk_app({STATION: station, "back-office": object()})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
        yield c


async def test_an_agent_without_the_token_is_refused_and_the_token_is_logged_nowhere(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    missing = await client.get(JOBS, params={"agent": "a1", "wait": 0})
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    wrong_token = "wrong-token-0123456789abcdef"
    wrong = await client.get(
        JOBS, params={"agent": "a1", "wait": 0}, headers={"Authorization": f"Bearer {wrong_token}"}
    )
    assert wrong.status_code == 403
    put = await client.put(
        f"/stations/{STATION}/agent",
        json={"agent": "a1", "card_present": True},
        headers={"Authorization": f"Bearer {wrong_token}"},
    )
    assert put.status_code == 403
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 3, "every refusal is logged"
    assert all(STATION in line for line in refusals)
    assert wrong_token not in caplog.text and TOKEN not in caplog.text
    assert wrong_token not in wrong.text


async def test_only_agent_stations_have_a_desk(client: httpx.AsyncClient) -> None:
    unknown = await client.get("/stations/nowhere/jobs", params={"agent": "a1"}, headers=AUTH)
    assert unknown.status_code == 404
    local = await client.get("/stations/back-office/jobs", params={"agent": "a1"}, headers=AUTH)
    assert local.status_code == 404
    assert "gateway's machine" in local.json()["detail"]


async def test_a_job_goes_out_and_its_result_comes_back_once(
    client: httpx.AsyncClient, station: AgentStation
) -> None:
    assert (
        await client.get(JOBS, params={"agent": "a1", "wait": 0}, headers=AUTH)
    ).status_code == 204
    read = asyncio.create_task(station.desk.imsi())
    polled = await client.get(JOBS, params={"agent": "a1", "wait": 5}, headers=AUTH)
    assert polled.status_code == 200
    assert polled.headers["Cache-Control"] == "no-store"
    job = polled.json()
    assert job["kind"] == "imsi"
    url = f"{JOBS}/{job['id']}"
    malformed = await client.post(url, json={"ok": "yes"}, headers=AUTH)
    assert malformed.status_code == 422
    first = await client.post(url, json={"ok": True, "imsi": IMSI}, headers=AUTH)
    assert first.json() == {"result": "accepted"}
    again = await client.post(url, json={"ok": True, "imsi": IMSI}, headers=AUTH)
    assert again.status_code == 200 and again.json() == {"result": "duplicate"}
    assert await read == IMSI
    never = await client.post(f"{JOBS}/0000", json={"ok": True}, headers=AUTH)
    assert never.status_code == 404


async def test_a_result_after_the_job_was_withdrawn_is_gone() -> None:
    station = agent_station(answer_s=0.05)
    app = desk_app({STATION: station})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
        read = asyncio.create_task(station.desk.imsi())
        job = (await c.get(JOBS, params={"agent": "a1", "wait": 5}, headers=AUTH)).json()
        with pytest.raises(ReaderError, match="took the imsi job and lost it"):
            await read
        late = await c.post(f"{JOBS}/{job['id']}", json={"ok": True, "imsi": None}, headers=AUTH)
    assert late.status_code == 410


async def test_stations_show_kind_reader_online_and_card(client: httpx.AsyncClient) -> None:
    before = {s["name"]: s for s in (await client.get("/stations")).json()}
    assert before["back-office"]["kind"] == "local"
    assert before["back-office"]["reader"] == "Local Reader 00"
    assert before[STATION]["kind"] == "agent" and before[STATION]["online"] is False
    report = {"agent": "a1", "host": "pc-7", "reader": "ACS ACR39U", "card_present": False}
    assert (
        await client.put(f"/stations/{STATION}/agent", json=report, headers=AUTH)
    ).status_code == 204
    after = (await client.get(f"/stations/{STATION}")).json()
    assert after == {
        "name": STATION,
        "kind": "agent",
        "reader": "ACS ACR39U",
        "online": True,
        "card_present": False,
        "busy": None,
        "waiting_jobs": 0,
        "host": "pc-7",
        "reader_error": None,
    }
    assert (await client.get("/stations/nowhere")).status_code == 404
