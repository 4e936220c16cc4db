"""An HLR outage as engineers and clerks see it, over real SSH: the order waits (API, CLI),
`/health` says degraded with the reason, `/network` shows the breaker open since when — and
all of it reflects the HLR's return within one probe interval, with the order completed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from emulators.hlr.server import HlrEmulator
from gateway.cli import main
from gateway.config import BreakerPolicy, Deadlines, GatewayConfig
from gateway.engine import Engine
from gateway.network import build_targets, close_targets
from gateway.orders import parse_order
from gateway.store import SqliteStore
from gateway.vault import Vault
from tests.integration.conftest import served
from tests.integration.test_api import open_body

PROBE_S = 0.2


@pytest.fixture
async def engine(ssh_config: GatewayConfig) -> AsyncIterator[Engine]:
    config = ssh_config.model_copy(
        update={"breaker": BreakerPolicy(failures_to_open=2, probe_interval_s=PROBE_S)}
    )
    targets = build_targets(config)
    async with SqliteStore(config.database, Vault(bytes(32))) as store:
        eng = Engine(store, config, targets.network, stations=targets.stations)
        await eng.start()
        yield eng
        await eng.stop()
    await close_targets(targets)


@pytest.fixture
async def url(engine: Engine) -> AsyncIterator[str]:
    async with served(engine) as base:
        yield base


async def cli(url: str, *args: str) -> tuple[int, Any]:
    """``provgw … --json`` against the running API (in a thread: the CLI is synchronous)."""
    result = await asyncio.to_thread(
        CliRunner().invoke, main, [*args, "--url", url, "--json"], catch_exceptions=False
    )
    return result.exit_code, json.loads(result.output) if result.output.strip() else None


async def eventually(check: Any, seconds: float = 10.0) -> Any:
    for _ in range(int(seconds / 0.02)):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError("not within the time")


async def test_an_outage_is_seen_everywhere_and_its_end_within_a_probe_interval(
    hlr: HlrEmulator, engine: Engine, url: str
) -> None:
    await hlr.stop()
    async with httpx.AsyncClient(base_url=url, timeout=10) as api:
        assert (await api.post("/orders", json=open_body("w1"))).status_code == 202

        async def waiting() -> dict[str, Any] | None:
            body: dict[str, Any] = (await api.get("/orders/w1")).json()
            return body if body["state"] == "waiting_for_ne" else None

        order = await eventually(waiting)
        assert order["waiting_for"] == "hlr1" and order["waiting_since"] > 0
        assert "unreachable" in order["note"]

        health = (await api.get("/health")).json()
        assert health["status"] == "degraded"
        assert health["reasons"][0].startswith("hlr1 unreachable since ")
        (ne,) = [n for n in (await api.get("/network")).json() if n["name"] == "hlr1"]
        assert ne["breaker"] in ("open", "half_open") and ne["reachable"] is False
        assert ne["unreachable_since"] is not None

        code, listed = await cli(url, "order", "list", "--state", "waiting_for_ne")
        assert code == 0 and [o["order_id"] for o in listed] == ["w1"]
        code, status = await cli(url, "ne", "status")
        assert code == 5, "the NE is unreachable: exit 5"
        assert status[0]["breaker"] in ("open", "half_open")

        await hlr.start()  # back on the same port

        async def recovered() -> bool:
            rows = (await api.get("/network")).json()
            return any(n["name"] == "hlr1" and n["breaker"] == "closed" for n in rows)

        # How soon is pinned on a clock that stands still (tests/gateway/test_breaker.py).
        await eventually(recovered)

        async def completed() -> dict[str, Any] | None:
            body: dict[str, Any] = (await api.get("/orders/w1")).json()
            return body if body["state"] == "completed" else None

        order = await eventually(completed)
        assert order["waiting_for"] is None and order["note"] is None
        assert (await api.get("/health")).json() == {
            "status": "ok",
            "reasons": [],
            "orders": {"completed": 1},
        }
        code, status = await cli(url, "ne", "status")
        assert code == 0 and status[0]["reachable"] is True
        code, listed = await cli(url, "order", "list", "--attention")
        assert code == 0 and listed == [], "only orders an engineer must see"
    assert hlr.state.snapshot()["subscribers"].keys() == {"460000000000001"}


async def test_an_undo_held_up_by_an_outage_completes_when_the_hlr_returns(
    hlr: HlrEmulator, ssh_config: GatewayConfig
) -> None:
    """The HLR goes away after the Ki is loaded and stays away past the order's deadline: the
    order is undone, and the undo waits for the HLR (as does settling the step that was on its
    way when the HLR went) instead of giving up with a Ki left behind."""
    config = ssh_config.model_copy(
        update={
            "breaker": BreakerPolicy(failures_to_open=2, probe_interval_s=PROBE_S),
            "deadlines": Deadlines(default_s=1.0),
        }
    )
    targets = build_targets(config)
    async with SqliteStore(config.database, Vault(bytes(32))) as store:
        engine = Engine(store, config, targets.network, stations=targets.stations)
        await engine.start()
        try:
            hlr.faults.update(latency_ms=300)  # time to cut the HLR off after step 1
            await engine.submit(parse_order(open_body("u1")))

            async def step_one_done() -> bool:
                rec = await store.get("u1")
                return rec is not None and any(
                    s.phase == "forward" and s.idx == 0 and s.state.value == "done"
                    for s in rec.steps
                )

            await eventually(step_one_done)
            await hlr.stop()
            assert list(hlr.state.snapshot()["ki"]) == ["460000000000001"]

            async def waiting_past_its_deadline() -> bool:
                rec = await store.get("u1", full=False)
                return (
                    rec is not None
                    and rec.waiting_for == "hlr1"
                    and engine.clock.time() > (rec.deadline_at or 0)
                )

            await eventually(waiting_past_its_deadline)
            hlr.faults.update(latency_ms=0)
            await hlr.start()
            await engine.drain()
            rec = await store.get("u1", full=False)
            assert rec is not None and rec.state.value == "compensated", rec.reason
            assert not rec.attention and "deadline" in (rec.reason or "")
            assert hlr.state.snapshot()["ki"] == {} and hlr.state.snapshot()["subscribers"] == {}
        finally:
            await engine.stop()
    await close_targets(targets)
