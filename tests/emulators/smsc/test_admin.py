"""The emulator's admin HTTP API: authentication, barring, messages, faults, status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from emulators.smsc import SmscEmulator
from emulators.smsc.store import Part
from emulators.smsc.text import Concatenation


@pytest.fixture
async def smsc() -> AsyncIterator[SmscEmulator]:
    async with SmscEmulator(port=0, admin_port=0, admin_user="eng", admin_password="pw") as emu:
        yield emu


@pytest.fixture
async def api(smsc: SmscEmulator) -> AsyncIterator[httpx.AsyncClient]:
    url = f"http://127.0.0.1:{smsc.admin_port}"
    async with httpx.AsyncClient(base_url=url, auth=("eng", "pw")) as client:
        yield client


@pytest.mark.parametrize("auth", [None, ("eng", "wrong"), ("other", "pw")])
async def test_every_request_needs_the_admin_account(
    smsc: SmscEmulator, auth: tuple[str, str] | None
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{smsc.admin_port}") as client:
        response = await client.put("/barring/8613800138000", auth=auth)  # type: ignore[arg-type]
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert not smsc.store.barred


async def test_bar_query_unbar(api: httpx.AsyncClient, smsc: SmscEmulator) -> None:
    assert (await api.get("/barring/8613800138000")).json() == {
        "msisdn": "8613800138000",
        "barred": False,
    }
    for _ in range(2):  # idempotent
        response = await api.put("/barring/8613800138000")
        assert response.status_code == 200 and response.json()["barred"] is True
    assert smsc.store.is_barred("8613800138000")
    assert (await api.get("/barring")).json() == {"barred": ["8613800138000"]}
    assert (await api.delete("/barring/8613800138000")).json()["barred"] is False
    assert (await api.get("/barring")).json() == {"barred": []}


async def test_bad_requests_name_the_field_and_change_nothing(
    api: httpx.AsyncClient, smsc: SmscEmulator
) -> None:
    response = await api.put("/barring/+8613800138000")
    assert (response.status_code, response.json()["error"][:7]) == (400, "msisdn:")
    response = await api.patch("/faults", json={"refuse_rate": 0.5, "drop_rate": 7})
    assert (response.status_code, response.json()["error"][:10]) == (400, "drop_rate:")
    assert smsc.faults.refuse_rate == 0.0
    response = await api.patch("/faults", content=b"[1]")
    assert response.status_code == 400
    assert (await api.get("/nothing")).status_code == 404
    response = await api.post("/barring/8613800138000")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, PUT, DELETE")
    assert not smsc.store.barred


async def test_faults_read_and_changed_at_run_time(
    api: httpx.AsyncClient, smsc: SmscEmulator
) -> None:
    response = await api.patch("/faults", json={"refuse_rate": 1, "refuse_status": 20})
    assert response.json()["refuse_rate"] == 1 and smsc.faults.refuse_status == 20
    assert (await api.get("/faults")).json() == smsc.faults.settings()


async def test_messages_reassembled_filtered_and_cleared(
    api: httpx.AsyncClient, smsc: SmscEmulator
) -> None:
    for seq, text in ((2, "world"), (1, "hello ")):
        smsc.store.add(
            Part(
                message_id=f"m{seq}",
                system_id="provgw",
                source="provgw",
                destination="8613800138000",
                data_coding=0,
                text=text,
                concatenation=Concatenation(9, 2, seq),
                submitted=datetime(2026, 1, 1),
            )
        )
    (message,) = (await api.get("/messages", params={"destination": "8613800138000"})).json()[
        "messages"
    ]
    assert message["text"] == "hello world" and message["complete"] is True
    assert message["message_ids"] == ["m1", "m2"]
    assert (await api.get("/messages", params={"destination": "8613900139000"})).json() == {
        "messages": []
    }
    assert (await api.delete("/messages")).json() == {"cleared": 2}
    assert smsc.messages() == []


async def test_status_counts(api: httpx.AsyncClient) -> None:
    status = (await api.get("/status")).json()
    assert status["binds"] == 0 and status["bound_now"] == 0 and "receipts_pending" in status
