"""NEs without SNMP are probed on an interval: a silent NE makes the gateway degraded at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.breaker import BreakerState
from gateway.config import BreakerPolicy, GatewayConfig
from gateway.engine import Engine
from gateway.monitor import ProbeMonitor
from gateway.store import OrderStore
from tests.gateway.fake_ne import FakeNe
from tests.gateway.manual_clock import ManualClock, settle


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """SQLite only: on a manual clock, `settle` turns the event loop, and SQLite's group commit
    runs there; PostgreSQL's runs on a thread. test_engine and test_store cover both."""
    return tmp_path / "provgw.db"


async def test_a_failed_probe_opens_the_breaker_and_a_good_one_reports_up(
    store: OrderStore, config: GatewayConfig
) -> None:
    clock = ManualClock()
    hlr, other = FakeNe(name="hlr1"), FakeNe(name="snmp1")
    config = config.model_copy(update={"breaker": BreakerPolicy(probe_interval_s=1.0)})
    engine = Engine(store, config, {"hlr1": hlr, "snmp1": other}, clock=clock)
    async with ProbeMonitor(engine, 10.0, skip={"snmp1"}, clock=clock):
        await settle()
        assert (hlr.probes, other.probes) == (1, 0), "an NE with SNMP is not probed"
        assert engine.health.readings["hlr1"].health == "up" and engine.troubles() == []
        hlr.down = True
        clock.advance(10.0)
        await settle()
        assert engine.breakers["hlr1"].state is BreakerState.OPEN
        assert engine.troubles()[0].startswith("hlr1 unreachable since")
        assert "no answer to a probe" in engine.breakers["hlr1"].reason
        probes = hlr.probes
        hlr.down = False
        clock.advance(1.0)  # the breaker's own probe, one interval later
        await settle()
        assert hlr.probes == probes + 1 and engine.breakers["hlr1"].closed
        assert engine.troubles() == [], "the answered probe is the NE's health now"
    await engine.stop()
