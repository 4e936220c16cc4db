"""`WalCheckpointer`: the WAL is copied back and started over by its thread, not by commits."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from gateway.checkpointer import WalCheckpointer

PAGE = 4096


def _writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # as the store's connection
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)")
    return conn


def _write(conn: sqlite3.Connection, rows: int) -> None:
    for i in range(rows):
        conn.execute("INSERT INTO t (data) VALUES (?)", (bytes(2000) + i.to_bytes(4, "big"),))


def test_without_it_the_wal_only_grows(tmp_path: Path) -> None:
    conn = _writer(tmp_path / "db")
    _write(conn, 600)
    assert (tmp_path / "db-wal").stat().st_size > 300 * PAGE  # nothing copied it back


def test_it_keeps_the_wal_short_while_commits_go_on(tmp_path: Path) -> None:
    conn = _writer(tmp_path / "db")
    checkpointer = WalCheckpointer(
        tmp_path / "db", synchronous="NORMAL", interval=0.005, restart_frames=64
    )
    checkpointer.start()
    try:
        for _ in range(30):
            _write(conn, 20)
            time.sleep(0.01)  # the thread gets its turns, as between an event loop's commits
        wal_pages = (tmp_path / "db-wal").stat().st_size / PAGE
    finally:
        checkpointer.close()
    # 600 rows of 2 KB were written; the WAL was started over instead of holding them all.
    assert wal_pages < 300
    assert (tmp_path / "db").stat().st_size > 250 * PAGE  # they were copied into the file
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (600,)
