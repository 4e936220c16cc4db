"""The token bucket with a hand-driven clock: delays are computed, never measured."""

from __future__ import annotations

import pytest

from adapters.rate_limit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_spaces_commands_at_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=20, clock=clock)
    delays = [bucket.reserve() for _ in range(4)]
    assert delays == pytest.approx([0.0, 0.05, 0.10, 0.15])


def test_idle_time_does_not_build_up_beyond_the_burst() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.1)
    clock.now += 60.0  # a quiet minute earns no more than the burst
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.reserve() == pytest.approx(0.1)


def test_a_late_caller_is_not_punished_for_the_past() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2, clock=clock)
    bucket.reserve()
    clock.now += 0.7
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(0.5)


async def test_acquire_sleeps_only_when_it_must(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr("adapters.rate_limit.asyncio.sleep", sleep)
    bucket = TokenBucket(rate=20, clock=Clock())
    await bucket.acquire()
    await bucket.acquire()
    assert slept == [pytest.approx(0.05)]


@pytest.mark.parametrize(("rate", "burst", "field"), [(0, 1, "rate"), (5, 0, "burst")])
def test_nonsense_settings_are_refused(rate: float, burst: int, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        TokenBucket(rate, burst)
