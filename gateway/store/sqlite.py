"""The embedded back end: orders, plans, step states, transcripts, lines and resources in one
SQLite file.

SQLite in WAL mode by default, one file, no server. Batches (`OrderStore`'s group commit) run
on the event loop's own thread: SQLite work is short (indexed rows, WAL appends), and a worker
thread would cost a wake-up per batch and the GIL hand-off, which on this class of machine
costs more than the SQL. A commit is durable against a crash of the gateway process
(``synchronous=NORMAL`` in WAL mode; set ``FULL`` to survive power loss too). Checkpoints run
on a thread of their own (`gateway.checkpointer`), never inside a commit on the event loop.

Several gateway processes may share one file (a sweeper in another process picks up orders
whose lease ran out), but SQLite serialises every writer: several processes sharing the work
is PostgreSQL's (`gateway.store.postgresql`).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gateway.checkpointer import WalCheckpointer
from gateway.private_files import private_file
from gateway.store.migrations import VERSION_TABLE, Upgrade, pending
from gateway.store.orders import OrderStore
from gateway.store.tx import Tx
from gateway.vault import Vault

T = TypeVar("T")


class SqliteStore(OrderStore):
    """The SQLite store. Use as ``async with SqliteStore(path, vault) as store``."""

    dialect = "sqlite"
    _begin = "BEGIN IMMEDIATE"

    def __init__(self, path: Path, vault: Vault, *, synchronous: str = "NORMAL") -> None:
        super().__init__(vault)
        self.path = path
        self._synchronous = synchronous
        self._conn: sqlite3.Connection | None = None
        self._checkpointer: WalCheckpointer | None = None
        self._flush_scheduled = False

    async def __aenter__(self) -> SqliteStore:
        await self.open()
        return self

    async def open(self) -> None:
        """Open (creating the file if needed) and bring the schema up to date; `SchemaTooNew`
        if another provgw migrated it further."""
        private_file(self.path)  # customers' personal data: 0600, WAL and -shm follow
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's thread does it
            self.upgraded = upgrade(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._checkpointer = WalCheckpointer(self.path, synchronous=self._synchronous)
        self._checkpointer.start()

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self._conn is not None:
            self._flush()
            self._conn.close()  # the last connection: it checkpoints and removes the WAL
            self._conn = None

    # -- group commit on the loop's thread ------------------------------------------------

    def _tx(self) -> Tx:
        assert self._conn is not None, "store is not open"
        return self._conn

    def _rollback(self) -> None:
        if self._conn is not None and self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            results = self._commit_batch(batch)
        except BaseException as exc:
            self._fail(batch, exc)
            raise
        self._settle(batch, results)

    async def run(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn(connection)`` inside the next group-commit transaction; its result once
        committed. ``fn`` must be short and must not await: it runs on the event loop."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._pending.append((fn, fut))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await fut


def upgrade(conn: sqlite3.Connection) -> Upgrade:
    """Apply the pending migrations, each in a transaction of its own (see
    `gateway.store.migrations`); a file made before migrations existed is adopted first."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        legacy = (
            conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='orders'"
            ).fetchone()
            is not None
            and conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'"
            ).fetchone()
            is None
        )
        conn.execute(VERSION_TABLE)
        (before,) = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        todo = pending("sqlite", before)
        if legacy:
            _add_outage_columns(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    for migration in todo:
        try:
            # executescript commits what is pending first: the script opens the transaction.
            conn.executescript(f"BEGIN IMMEDIATE;\n{migration.sql}")
            conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, time.time()),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return Upgrade(before, before + len(todo), tuple(m.name for m in todo))


def _add_outage_columns(conn: sqlite3.Connection) -> None:
    """A file made before outage handling lacks these columns of 0001's orders table; the
    code of that time added them on start-up, and adoption does the same."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(orders)")}
    for column, kind in (
        ("waiting_for", "TEXT"),
        ("waiting_since", "REAL"),
        ("deadline_at", "REAL"),
        ("note", "TEXT"),
    ):
        if column not in have:
            conn.execute(f"ALTER TABLE orders ADD COLUMN {column} {kind}")
