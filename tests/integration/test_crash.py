"""Nothing lost, nothing done twice: gateways are SIGKILLed mid-plan, over and over.

The gateways run as real processes (`provgw serve`) against the HLR emulator in another process
with a little latency, so that kills land between "intent recorded" and "reply recorded"
(`gateway.bench_crash`, also `provgw bench crash`). On SQLite one gateway, restarted after every
kill; on PostgreSQL two, one of them killed each trial while the other carries on and takes its
orders over after their lease. At the end every accepted order must be terminal, no step done
twice, and the HLR must hold exactly what the completed orders imply.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.bench_crash import run_crash_trials

pytestmark = pytest.mark.slow

TRIALS = 20


async def test_sigkill_mid_plan_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    result = await run_crash_trials(TRIALS, tmp_path / "provgw.db")
    assert result.unfinished == [], "every accepted order reached a terminal state"
    assert result.steps_done_twice == 0, "no step succeeded twice"
    assert result.hlr_disagreements == []
    assert result.completed >= TRIALS * 4
    assert result.kills_mid_flight >= TRIALS // 4, "the kills really landed mid-plan"


async def test_two_gateways_on_postgresql_one_killed_at_a_time(postgres_url: str) -> None:
    result = await run_crash_trials(TRIALS, postgres_url, processes=2)
    assert result.backend == "postgresql"
    assert result.unfinished == [], "every accepted order reached a terminal state"
    assert result.steps_done_twice == 0, "no step succeeded twice"
    assert result.hlr_disagreements == []
    assert result.completed >= TRIALS * 4
    assert result.kills_mid_flight >= TRIALS // 4, "the kills really landed mid-plan"
    assert result.takeovers > 0, "some orders were taken over from a killed gateway"
