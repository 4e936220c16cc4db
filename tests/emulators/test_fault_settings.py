"""What every emulator's fault settings share: the delay before an answer."""

from __future__ import annotations

import random

import pytest

from emulators.fault_injection import FaultSettings


class Always(random.Random):
    """A random source whose every draw is ``value``."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.value


def test_a_spike_adds_its_delay_to_the_answers_it_hits() -> None:
    hit = FaultSettings(latency_ms=5, jitter_ms=10, spike_rate=0.02, spike_ms=500, rng=Always(0.01))
    missed = FaultSettings(
        latency_ms=5, jitter_ms=10, spike_rate=0.02, spike_ms=500, rng=Always(0.5)
    )
    assert hit.delay() == pytest.approx((5 + 0.1 + 500) / 1000)
    assert missed.delay() == pytest.approx((5 + 5) / 1000)
    assert FaultSettings().delay() == 0.0


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"spike_rate": 1.5}, "spike_rate"), ({"spike_ms": -1}, "spike_ms")],
)
def test_bad_spike_settings_are_refused_whole(changes: dict[str, float], field: str) -> None:
    faults = FaultSettings()
    with pytest.raises(ValueError, match=field):
        faults.update(**changes)
    assert (faults.spike_rate, faults.spike_ms) == (0.0, 0.0)
