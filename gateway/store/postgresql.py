"""The shared back end: the same jobs as SQLite's, on PostgreSQL, for several gateway processes.

Jobs are synchronous functions over `Tx` (see `gateway.store.tx`), so the driver is psycopg 3
in its synchronous form, on one worker thread per store: the event loop queues jobs, and
whatever queued up while the previous batch was at the database runs as the next batch, in one
transaction (group commit, as on SQLite). One connection, one transaction in flight: the
database sees one writer per gateway process, and the process's round trips overlap its own
work on the loop. `docs/operations.md` says why psycopg and not asyncpg (measured:
`bench/pg_drivers.py`).

`PgTx` takes the SQL the jobs speak — ``?`` and ``:name`` parameters, as SQLite's — and
hands psycopg ``%s`` and ``%(name)s``, translated once per statement text. Statements are
prepared on the server after their fifth use (psycopg's default), so the hot ones are parsed
once per connection.

A lost connection fails the batch it was in (its jobs' callers see the error, nothing was
committed) and the next batch connects again. Connections carry TCP keep-alives and a user
timeout, so that a database cut off behind a dead network is noticed in seconds, not after
the kernel's retransmissions give up.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import pq, sql

from gateway.store.migrations import VERSION_TABLE, Upgrade, pending
from gateway.store.orders import Job, OrderStore
from gateway.store.tx import Parameters, Tx
from gateway.vault import Vault

T = TypeVar("T")

MIGRATION_LOCK = 0x70726F76  # "prov": one process migrates at a time (advisory lock key)

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|::|:([A-Za-z_]\w*)|\?|%")


class DatabaseUnavailable(ConnectionError):
    """The database cannot be reached, or refused the connection; the message says which."""


def translate(sql: str) -> str:
    """SQLite-style parameters to psycopg's: ``?`` → ``%s``, ``:name`` → ``%(name)s``, a
    literal ``%`` doubled; quoted text and ``::`` casts are left alone."""

    def token(m: re.Match[str]) -> str:
        text = m.group(0)
        if text == "?":
            return "%s"
        if text == "%":
            return "%%"
        if m.group(1) is not None:
            return f"%({m.group(1)})s"
        return text

    return _TOKENS.sub(token, sql)


class PgCursor:
    """psycopg's cursor as a `Cursor`: the same rows and row counts."""

    __slots__ = ("_cur",)

    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self._cur = cur

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    @property
    def lastrowid(self) -> int | None:
        raise NotImplementedError("PostgreSQL has no lastrowid: use INSERT … RETURNING")

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cur)


class PgTx:
    """A psycopg connection as a `Tx`."""

    __slots__ = ("_conn", "_sql")

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn
        self._sql: dict[str, str] = {}

    def _translated(self, sql: str) -> str:
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = translate(sql)
        return text

    def execute(self, sql: str, parameters: Parameters = (), /) -> PgCursor:
        cur = self._conn.cursor()
        cur.execute(self._translated(sql), parameters or None)
        return PgCursor(cur)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> PgCursor:
        cur = self._conn.cursor()
        rows = list(parameters)
        if rows:
            cur.executemany(self._translated(sql), rows)
        return PgCursor(cur)


def connect(url: str, *, timeout_s: float = 5.0) -> psycopg.Connection[Any]:
    """An autocommit connection (the store sends BEGIN and COMMIT itself); a one-line
    `DatabaseUnavailable` when it cannot be had."""
    try:
        return psycopg.connect(
            url,
            autocommit=True,
            connect_timeout=max(1, round(timeout_s)),
            keepalives=1,
            keepalives_idle=max(1, round(timeout_s)),
            keepalives_interval=1,
            keepalives_count=3,
            tcp_user_timeout=round(timeout_s * 1000),
            application_name="provgw",
        )
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to the database: {reason}") from None


class PostgresStore(OrderStore):
    """The PostgreSQL store. Use as ``async with PostgresStore(url, vault) as store``."""

    dialect = "postgresql"
    _fence_sql = "SELECT lease_owner, lease_epoch FROM orders WHERE id=? FOR UPDATE"
    _fenced_intent = OrderStore._fenced_intent.replace(
        "AND lease_epoch=?)", "AND lease_epoch=? FOR UPDATE)"
    )
    _skip_locked = " FOR UPDATE SKIP LOCKED"
    shared = True

    def __init__(self, url: str, vault: Vault, *, timeout_s: float = 5.0) -> None:
        super().__init__(vault)
        self.url = url
        self._timeout_s = timeout_s
        self._conn: psycopg.Connection[Any] | None = None
        self._txw: PgTx | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="provgw-pg")
        self._busy = False
        self._idle: asyncio.Event | None = None

    async def __aenter__(self) -> PostgresStore:
        await self.open()
        return self

    async def open(self) -> None:
        """Connect and bring the schema up to date; `DatabaseUnavailable` or `SchemaTooNew`."""
        self._idle = asyncio.Event()
        self._idle.set()
        loop = asyncio.get_running_loop()
        self.upgraded = await loop.run_in_executor(self._worker, self._open)

    def _open(self) -> Upgrade:
        self._connection()
        assert self._conn is not None
        return upgrade(self._conn)

    def _connection(self) -> PgTx:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = connect(self.url, timeout_s=self._timeout_s)
            self._txw = PgTx(self._conn)
        assert self._txw is not None
        return self._txw

    async def close(self) -> None:
        if self._idle is not None and self._busy:
            await self._idle.wait()  # the batches queued before close are committed
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._worker, self._disconnect)
        self._worker.shutdown(wait=True)

    def server_pid(self) -> int | None:
        if self._conn is None or self._conn.closed:
            return None
        host = self._conn.info.host
        local = host.startswith("/") or host in ("localhost", "127.0.0.1", "::1")
        return self._conn.info.backend_pid if local else None

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- group commit on the worker thread ------------------------------------------------

    def _tx(self) -> Tx:
        return self._connection()

    def _aborted(self) -> bool:
        conn = self._conn
        return conn is not None and conn.info.transaction_status == pq.TransactionStatus.INERROR

    def _rollback(self) -> None:
        conn = self._conn
        if conn is None or conn.broken or conn.closed:
            return
        if conn.info.transaction_status != pq.TransactionStatus.IDLE:
            try:
                conn.execute("ROLLBACK")
            except psycopg.Error:
                conn.close()

    def _work(self, batch: list[Job]) -> list[tuple[Any, Exception | None]]:
        try:
            return self._commit_batch(batch)
        except psycopg.OperationalError as exc:
            if self._conn is not None and (self._conn.broken or self._conn.closed):
                self._conn.close()
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise DatabaseUnavailable(f"the database connection failed: {reason}") from exc

    def _dispatch(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            self._busy = False
            if self._idle is not None:
                self._idle.set()
            return
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._worker, self._work, batch)
        work.add_done_callback(lambda done: self._done(batch, done))

    def _done(
        self, batch: list[Job], done: asyncio.Future[list[tuple[Any, Exception | None]]]
    ) -> None:
        exc = done.exception()
        if exc is not None:
            self._fail(batch, exc)
        else:
            self._settle(batch, done.result())
        self._dispatch()  # what queued up meanwhile is the next batch

    async def run(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn(tx)`` inside the next group-commit transaction, on the store's worker
        thread; its result once committed. ``fn`` must be short and must not await."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._pending.append((fn, fut))
        if not self._busy:
            self._busy = True
            if self._idle is not None:
                self._idle.clear()
            loop.call_soon(self._dispatch)
        return await fut


def upgrade(conn: psycopg.Connection[Any]) -> Upgrade:
    """Apply the pending migrations in one transaction, holding an advisory lock so that
    gateway processes starting together migrate once (see `gateway.store.migrations`)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(VERSION_TABLE)
        row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        before = int(row[0]) if row else 0
        todo = pending("postgresql", before)
        for migration in todo:
            conn.execute(migration.sql)
            conn.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (%s, %s, %s)",
                (migration.version, migration.name, time.time()),
            )
    return Upgrade(before, before + len(todo), tuple(m.name for m in todo))


@contextlib.contextmanager
def scratch_database(server_url: str, prefix: str = "provgw_scratch") -> Iterator[str]:
    """A fresh, empty database on the server of ``server_url`` (a URL of any database there,
    whose user may create databases), dropped afterwards — even while a gateway process that
    was killed still holds a connection to it. For tests and benchmarks."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with connect(server_url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        with connect(server_url) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
