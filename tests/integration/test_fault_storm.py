"""The fault storm, smaller: mixed orders while the HLR emulator (a real process over real SSH)
answers busy, spikes, drops sessions, and is SIGKILLed and restarted twice.

Every order must end completed — an outage makes orders wait, it never fails them — and the
HLR must then hold exactly what the completed orders imply: no Ki without a subscriber, no
subscriber without a Ki, no lock left behind. The full storm (500 orders a phase, a 30 s
outage) is `provgw bench storm`; its figures are in docs/performance.md.
"""

from __future__ import annotations

import pytest

from gateway.bench_storm import StormSettings, run_storm

pytestmark = pytest.mark.slow


async def test_every_order_completes_and_the_hlr_agrees_after_two_kills() -> None:
    result = await run_storm(
        StormSettings(orders_per_phase=60, outage_s=3.0, short_outage_s=1.0, window=32)
    )
    for phase in result.phases:
        assert phase.states == {"completed": phase.orders}, phase
    assert result.differences == []
    assert result.hlr_agrees
    assert len(result.restarts) == 2, "both kills landed while orders were in flight"
    for restart in result.restarts:
        assert restart.down_s >= 1.0
        assert restart.to_orders_flowing_s >= 0, "orders completed after the restart"
