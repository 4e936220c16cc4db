"""The sender's OTA counters: persisted per card and key set, never handed out twice."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from simcard.ota_counters import CounterExhaustedError, SqliteCounters
from simcard.secured_packet import COUNTER_MAX

CARD, OTHER = "8988211000000467343", "8988211000000467350"


def test_counters_count_per_card_and_key_set_and_survive_a_restart(tmp_path: Path) -> None:
    store = SqliteCounters(tmp_path / "ota.sqlite")
    assert [store.reserve(CARD, 1) for _ in range(3)] == [1, 2, 3]
    assert store.reserve(CARD, 2) == 1
    assert store.reserve(OTHER, 1) == 1
    reopened = SqliteCounters(tmp_path / "ota.sqlite")  # a new process, same file
    assert reopened.last(CARD, 1) == 3
    assert reopened.reserve(CARD, 1) == 4


def test_concurrent_senders_never_get_the_same_counter(tmp_path: Path) -> None:
    path = tmp_path / "ota.sqlite"
    SqliteCounters(path)
    got: list[int] = []
    lock = threading.Lock()

    def sender() -> None:
        store = SqliteCounters(path)
        for _ in range(25):
            value = store.reserve(CARD, 1)
            with lock:
                got.append(value)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1, 101))


def test_counters_never_wrap(tmp_path: Path) -> None:
    store = SqliteCounters(tmp_path / "ota.sqlite")
    store.raise_to(CARD, 1, COUNTER_MAX - 1)
    assert store.reserve(CARD, 1) == COUNTER_MAX
    with pytest.raises(CounterExhaustedError, match="exhausted"):
        store.reserve(CARD, 1)
    assert store.last(CARD, 1) == COUNTER_MAX  # still at the top, not back at 0


def test_raise_to_never_lowers(tmp_path: Path) -> None:
    store = SqliteCounters(tmp_path / "ota.sqlite")
    store.raise_to(CARD, 3, 100)
    store.raise_to(CARD, 3, 50)
    assert store.reserve(CARD, 3) == 101


@pytest.mark.parametrize(("card", "version"), [("", 1), (CARD, 0), (CARD, 16)])
def test_bad_arguments_are_refused(tmp_path: Path, card: str, version: int) -> None:
    with pytest.raises(ValueError):
        SqliteCounters(tmp_path / "ota.sqlite").reserve(card, version)
