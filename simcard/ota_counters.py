"""The sender's OTA counters: one per card and key set, persisted before use, never reused.

A card refuses a counter it has seen (PoR "counter low") and a used counter cannot be taken
back, so the counter for the next command packet is reserved — incremented and committed to
disk — before the packet is built. Whatever happens to that packet afterwards (lost, refused,
never sent), the value is gone; the next packet gets the next one. Counters never wrap: at
2^40 − 1 the key set is exhausted and `CounterExhaustedError` says so (the card would answer
"counter blocked"). Lessons from pySim's users: keep counters in a database, never in memory.

`Counters` is the protocol the OTA layer needs; `SqliteCounters` keeps them in one SQLite file
(safe across processes: each reservation is its own IMMEDIATE transaction). The gateway keeps
its own in its database, next to the SIM stock's key sets.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Protocol

from simcard.secured_packet import COUNTER_MAX


class CounterExhaustedError(RuntimeError):
    """The key set's counter reached 2^40 − 1: the card accepts no further counted packets."""


class Counters(Protocol):
    def reserve(self, card: str, key_version: int) -> int:
        """The next counter for `card` (its ICCID) and key set, persisted before returning."""
        ...

    def last(self, card: str, key_version: int) -> int:
        """The last counter reserved (0 if none)."""
        ...


class SqliteCounters:
    """Counters in one SQLite file (created on first use, mode 600 is the caller's choice)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS ota_counter ("
                " card TEXT NOT NULL, key_version INTEGER NOT NULL, value INTEGER NOT NULL,"
                " PRIMARY KEY (card, key_version))"
            )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        db.execute("PRAGMA synchronous = FULL")  # a reserved counter survives a power cut
        return db

    def reserve(self, card: str, key_version: int) -> int:
        _check(card, key_version)
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            value = self._read(db, card, key_version) + 1
            if value > COUNTER_MAX:
                db.execute("ROLLBACK")
                raise CounterExhaustedError(
                    f"card {card}, key set {key_version}: the OTA counter is exhausted "
                    "(2^40 - 1 used); the card accepts no more counted packets with this key set"
                )
            self._write(db, card, key_version, value)
            db.execute("COMMIT")
            return value
        finally:
            db.close()

    def last(self, card: str, key_version: int) -> int:
        _check(card, key_version)
        db = self._connect()
        try:
            return self._read(db, card, key_version)
        finally:
            db.close()

    def raise_to(self, card: str, key_version: int, value: int) -> None:
        """Never go below `value` again (a counter learnt from the card, e.g. after a PoR
        "counter low"); a lower value than the stored one changes nothing."""
        _check(card, key_version)
        if not 0 <= value <= COUNTER_MAX:
            raise ValueError(f"counter must be 0..{COUNTER_MAX}")
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            if value > self._read(db, card, key_version):
                self._write(db, card, key_version, value)
            db.execute("COMMIT")
        finally:
            db.close()

    @staticmethod
    def _read(db: sqlite3.Connection, card: str, key_version: int) -> int:
        row = db.execute(
            "SELECT value FROM ota_counter WHERE card = ? AND key_version = ?", (card, key_version)
        ).fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _write(db: sqlite3.Connection, card: str, key_version: int, value: int) -> None:
        db.execute(
            "INSERT INTO ota_counter (card, key_version, value) VALUES (?, ?, ?) "
            "ON CONFLICT (card, key_version) DO UPDATE SET value = excluded.value",
            (card, key_version, value),
        )


def _check(card: str, key_version: int) -> None:
    if not card:
        raise ValueError("card: the ICCID the counter belongs to is needed")
    if not 1 <= key_version <= 15:
        raise ValueError(f"key set version must be 1-15, got {key_version}")
