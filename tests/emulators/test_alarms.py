"""Alarms follow the fault settings: which fault raises what, numbering, raise and clear."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from emulators.alarms import Alarm, AlarmTable, Condition, Severity
from emulators.hlr.faults import Faults as HlrFaults
from emulators.smsc.faults import Faults as SmscFaults


def test_sync_raises_new_conditions_clears_gone_ones_and_never_reuses_a_number() -> None:
    heard: list[tuple[int, str, bool]] = []
    table = AlarmTable(clock=lambda: 1000.0)
    table.listen(lambda alarm, raised: heard.append((alarm.id, alarm.key, raised)))
    down = Condition(Severity.CRITICAL, "service down")
    slow = Condition(Severity.MINOR, "slow")
    table.sync({"outage": down, "latency": slow})
    table.sync({"outage": down, "latency": slow})  # nothing changed: nothing heard
    table.sync({"latency": slow})
    table.sync({"latency": Condition(Severity.MAJOR, "slower"), "outage": down})
    assert heard == [
        (1, "outage", True),
        (2, "latency", True),
        (1, "outage", False),
        (2, "latency", False),  # a changed condition is a new alarm
        (3, "latency", True),
        (4, "outage", True),
    ]
    assert table.active() == [
        Alarm(3, "latency", Severity.MAJOR, "slower", 1000.0),
        Alarm(4, "outage", Severity.CRITICAL, "service down", 1000.0),
    ]
    assert table.version == 6


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        (lambda: HlrFaults(error_rate=0.09, latency_ms=999), {}),
        (
            lambda: HlrFaults(error_rate=0.1, error_code=5002),
            {"error-rate": (Severity.MINOR, "10% of provisioning commands refused (5002)")},
        ),
        (
            lambda: HlrFaults(drop_rate=0.5, latency_ms=1000),
            {
                "latency": (Severity.MINOR, "replies delayed by 1000 ms or more"),
                "drop-rate": (
                    Severity.MAJOR,
                    "50% of provisioning commands answered by a cut connection",
                ),
            },
        ),
        (
            lambda: SmscFaults(refuse_rate=1.0, outage=True),
            {
                "outage": (Severity.CRITICAL, "service down: injected outage"),
                "refuse-rate": (Severity.MAJOR, "100% of submit_sm refused with 0x00000058"),
            },
        ),
    ],
)
def test_which_fault_raises_what(
    faults: Callable[[], HlrFaults | SmscFaults], expected: dict[str, tuple[Severity, str]]
) -> None:
    conditions = faults().conditions()
    assert {key: (c.severity, c.text) for key, c in conditions.items()} == expected


def test_outage_settings_are_checked() -> None:
    faults = HlrFaults()
    for changes, field in (({"outage": 1}, "outage"), ({"outage_s": -1}, "outage_s")):
        with pytest.raises(ValueError, match=field):
            faults.update(**changes)
    assert (faults.outage, faults.outage_s) == (False, 0)
