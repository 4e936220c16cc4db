"""The reading logic on a clock the test sets: health from alarms, restarts, silence."""

from __future__ import annotations

from adapters.network_element import HealthReading, NeHealth
from adapters.snmp.health import WRAP, ActiveAlarm, HealthTracker

CRITICAL, MAJOR, MINOR = 3, 4, 5
AT = 1_750_000_000.0  # the wall clock, stamped on readings


def test_never_answered_is_unknown_and_a_silence_after_answers_is_down() -> None:
    tracker = HealthTracker("hlr")
    assert tracker.unanswered("requestTimedOut", at=AT) == HealthReading(
        "hlr", NeHealth.UNKNOWN, "never answered SNMP: requestTimedOut", AT, "snmp-poll"
    )
    assert tracker.polled(100, [], now=10.0, at=AT).health is NeHealth.UP
    assert tracker.unanswered("requestTimedOut", at=AT + 10) == HealthReading(
        "hlr", NeHealth.DOWN, "no SNMP answer: requestTimedOut", AT + 10, "snmp-poll"
    )


def test_alarms_decide_between_up_degraded_and_down() -> None:
    tracker = HealthTracker("hlr")
    minor = ActiveAlarm(2, MINOR, "20% of provisioning commands refused (5001)")
    major = ActiveAlarm(3, MAJOR, "replies slow")
    critical = ActiveAlarm(4, CRITICAL, "service down: injected outage")
    up = tracker.polled(100, [], now=10.0, at=AT)
    assert (up.health, up.reason, up.source) == (NeHealth.UP, "answering, no alarm", "snmp-poll")
    degraded = tracker.polled(200, [minor, major], now=11.0, at=AT)
    assert (degraded.health, degraded.reason) == (
        NeHealth.DEGRADED,
        "alarm 3 major: replies slow (+1 more)",
    )
    down = tracker.polled(300, [minor, critical], now=12.0, at=AT)
    assert (down.health, down.reason) == (
        NeHealth.DOWN,
        "alarm 4 critical: service down: injected outage (+1 more)",
    )


def test_traps_add_and_remove_alarms_between_polls() -> None:
    tracker = HealthTracker("smsc")
    tracker.polled(100, [ActiveAlarm(1, MINOR, "slow")], now=10.0, at=AT)
    raised = tracker.alarm_raised(ActiveAlarm(2, CRITICAL, "down"), at=AT + 1)
    assert (raised.health, raised.source) == (NeHealth.DOWN, "snmp-trap")
    assert tracker.alarm_cleared(2, at=AT + 2).health is NeHealth.DEGRADED
    assert tracker.alarm_cleared(1, at=AT + 3).health is NeHealth.UP
    assert tracker.alarm_cleared(99, at=AT + 4).health is NeHealth.UP  # unknown id: harmless


def test_uptime_going_back_is_a_restart_and_latency_is_not() -> None:
    tracker = HealthTracker("hlr")
    assert tracker.polled(100_000, [], now=1000.0, at=AT).restarted is False  # booted at 0
    # 10 s later the agent says 10.5 s more: half a second of request latency, no restart
    assert tracker.polled(101_050, [], now=1010.0, at=AT).restarted is False
    back = tracker.polled(500, [], now=1020.0, at=AT)  # 5 s of uptime: it restarted
    assert (back.restarted, back.health, back.reason) == (
        True,
        NeHealth.UP,
        "restarted; answering, no alarm",
    )
    assert tracker.polled(1500, [], now=1030.0, at=AT).restarted is False


def test_a_restart_whose_new_uptime_passed_the_old_one_is_still_seen() -> None:
    tracker = HealthTracker("hlr")
    tracker.polled(1_000, [], now=100.0, at=AT)  # up 10 s: booted at 90
    # polled again 60 s later: up 30 s, more than before, but it booted at 130, not 90
    assert tracker.polled(3_000, [], now=160.0, at=AT).restarted is True


def test_sysuptime_wrapping_after_497_days_is_not_a_restart() -> None:
    tracker = HealthTracker("hlr")
    before = 2**32 - 500  # 5 s before the wrap
    tracker.polled(before, [], now=WRAP, at=AT)
    assert tracker.polled(500, [], now=WRAP + 10.0, at=AT).restarted is False


def test_a_cold_start_trap_is_a_restart_that_forgets_the_old_alarms() -> None:
    tracker = HealthTracker("hlr")
    tracker.polled(100, [ActiveAlarm(1, CRITICAL, "down")], now=10.0, at=AT)
    reading = tracker.agent_started(now=20.0, at=AT + 1)
    assert (reading.health, reading.restarted, reading.source) == (NeHealth.UP, True, "snmp-trap")
    # the next poll, 1 s after the cold start, sees uptime 1 s: the same boot, no new restart
    assert tracker.polled(100, [], now=21.0, at=AT + 2).restarted is False
