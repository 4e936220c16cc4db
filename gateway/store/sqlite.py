"""The embedded back end: orders, plans, step states, transcripts and lines in one SQLite file.

SQLite in WAL mode by default, one file, no server. Database work is batched: whatever jobs
are queued in one turn of the event loop run in one transaction (group commit), so a thousand
orders a second each waiting for "intent recorded" share a handful of commits instead of
paying one each. A job's future resolves only after its transaction
committed, so "recorded" always means durable against a crash of the gateway process
(``synchronous=NORMAL`` in WAL mode; set ``FULL`` to survive power loss too). Checkpoints run
on a thread of their own (`gateway.checkpointer`), never inside a commit on the event loop.

Secrets in order bodies and plans are sealed field by field with the `Vault`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from gateway.checkpointer import WalCheckpointer
from gateway.lines import Line
from gateway.operations import Reply
from gateway.orders import ORDER_ADAPTER, Order, order_msisdns
from gateway.planner import Plan
from gateway.private_files import private_file
from gateway.resources.schema import SCHEMA as RESOURCES_SCHEMA
from gateway.store.records import (
    Conflict,
    OrderRecord,
    OrderState,
    Phase,
    StepRecord,
    StepState,
    TranscriptLine,
)
from gateway.store.tx import Tx
from gateway.vault import Vault

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    msisdn       TEXT,
    channel      TEXT NOT NULL,
    operator     TEXT NOT NULL,
    body         TEXT NOT NULL,
    digest       TEXT NOT NULL,
    state        TEXT NOT NULL,
    phase        TEXT NOT NULL DEFAULT 'forward',
    reason       TEXT,
    attention    INTEGER NOT NULL DEFAULT 0,
    plan         TEXT,
    lease_owner  TEXT,
    lease_until  REAL,
    waiting_for  TEXT,
    waiting_since REAL,
    deadline_at  REAL,
    note         TEXT,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL,
    finished_at  REAL
);
CREATE INDEX IF NOT EXISTS orders_unfinished ON orders(state)
    WHERE state IN ('accepted','provisioning','waiting_for_ne');
CREATE INDEX IF NOT EXISTS orders_attention ON orders(attention) WHERE attention = 1;
CREATE INDEX IF NOT EXISTS orders_msisdn ON orders(msisdn);
CREATE TABLE IF NOT EXISTS steps (
    order_id     TEXT NOT NULL,
    idx          INTEGER NOT NULL,
    phase        TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    started_at   REAL,
    finished_at  REAL,
    PRIMARY KEY (order_id, phase, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS transcript (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id     TEXT NOT NULL,
    idx          INTEGER NOT NULL,
    phase        TEXT NOT NULL,
    ne           TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    code         TEXT NOT NULL,
    text         TEXT NOT NULL,
    command      TEXT NOT NULL,
    response     TEXT NOT NULL,
    elapsed_ms   REAL NOT NULL,
    at           REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS transcript_order ON transcript(order_id);
CREATE TABLE IF NOT EXISTS sms_messages (
    message_id   TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL,
    idx          INTEGER NOT NULL,
    status       TEXT NOT NULL,
    updated_at   REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sms_messages_order ON sms_messages(order_id);
CREATE TABLE IF NOT EXISTS lines (
    msisdn       TEXT PRIMARY KEY,
    data         TEXT NOT NULL
) WITHOUT ROWID;
"""


class _JobFailed(Exception):
    """A job raised inside an unisolated batch; the batch is rolled back and run again."""


_ORDER_COLUMNS = (
    "id, seq, kind, msisdn, channel, operator, state, phase, reason, attention, "
    "created_at, updated_at, finished_at, waiting_for, waiting_since, deadline_at, note"
)
_UNFINISHED = "('accepted','provisioning','waiting_for_ne')"
"""The states an engine still has work in (SQL, for the lease queries)."""


def _record(row: Sequence[Any]) -> OrderRecord:
    return OrderRecord(
        id=row[0],
        seq=row[1],
        kind=row[2],
        msisdn=row[3],
        channel=row[4],
        operator=row[5],
        state=OrderState(row[6]),
        phase=row[7],
        reason=row[8],
        attention=bool(row[9]),
        created_at=row[10],
        updated_at=row[11],
        finished_at=row[12],
        waiting_for=row[13],
        waiting_since=row[14],
        deadline_at=row[15],
        note=row[16],
    )


class SqliteStore:
    """The SQLite store. Use as ``async with SqliteStore(path, vault) as store``."""

    def __init__(self, path: Path, vault: Vault, *, synchronous: str = "NORMAL") -> None:
        self.path = path
        self.vault = vault
        self._synchronous = synchronous
        self._conn: sqlite3.Connection | None = None
        self._checkpointer: WalCheckpointer | None = None
        self._pending: list[tuple[Callable[[Tx], Any], asyncio.Future[Any]]] = []
        self._flush_scheduled = False

    async def __aenter__(self) -> SqliteStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        private_file(self.path)  # customers' personal data: 0600, WAL and -shm follow
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's thread does it
        conn.executescript(SCHEMA)
        _add_outage_columns(conn)
        conn.executescript(RESOURCES_SCHEMA)
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

    # -- group commit --------------------------------------------------------------------
    #
    # Jobs queue up while the event loop runs its ready callbacks; one flush, scheduled behind
    # them, runs every queued job in a single transaction and resolves their futures after
    # COMMIT. SQLite work is short (indexed rows, WAL appends), so it runs on the loop thread
    # itself: a worker thread would cost a wake-up per batch and the GIL hand-off, which on
    # this class of machine costs more than the SQL.

    def _flush(self) -> None:
        self._flush_scheduled = False
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            results = self._run_batch(batch, isolated=False)
        except _JobFailed:
            # A job raised (a conflict on intake, say): run the batch again with a savepoint
            # around each job, so that one job's failure is its own. Rare, so the common path
            # pays no savepoints.
            results = self._run_batch(batch, isolated=True)
        except BaseException as exc:
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc if isinstance(exc, Exception) else RuntimeError(exc))
            raise
        for (_, fut), (res, err) in zip(batch, results, strict=True):
            if fut.done():
                continue
            if err is not None:
                fut.set_exception(err)
            else:
                fut.set_result(res)

    def _run_batch(
        self, batch: list[tuple[Callable[[Tx], Any], Any]], *, isolated: bool
    ) -> list[tuple[Any, Exception | None]]:
        conn = self._conn
        assert conn is not None, "store is not open"
        results: list[tuple[Any, Exception | None]] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for fn, _ in batch:
                if not isolated:
                    try:
                        results.append((fn(conn), None))
                    except Exception as exc:
                        raise _JobFailed from exc
                    continue
                conn.execute("SAVEPOINT job")
                try:
                    results.append((fn(conn), None))
                except Exception as exc:
                    conn.execute("ROLLBACK TO job")
                    results.append((None, exc))
                conn.execute("RELEASE job")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return results

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

    # -- serialisation -------------------------------------------------------------------

    def digest(self, order: Order) -> str:
        """A keyed digest of the order body (secrets included) for idempotent intake."""
        return self.vault.digest(ORDER_ADAPTER.dump_json(order, context={"seal": str}))

    def _seal_order(self, order: Order) -> str:
        return ORDER_ADAPTER.dump_json(order, context=self.vault.context).decode()

    def _open_order(self, body: str) -> Order:
        return ORDER_ADAPTER.validate_json(body, context=self.vault.context)

    def _seal_plan(self, plan: Plan) -> str:
        return plan.model_dump_json(context=self.vault.context)

    def _open_plan(self, text: str) -> Plan:
        return Plan.model_validate_json(text, context=self.vault.context)

    # -- intake --------------------------------------------------------------------------

    async def accept(
        self,
        order: Order,
        *,
        lease_owner: str | None = None,
        lease_seconds: float = 60,
        deadline_at: float | None = None,
    ) -> tuple[OrderRecord, bool]:
        """Record a new order (state accepted), leased to ``lease_owner``; (record, created).

        The same id with the same body returns the existing record (created=False); the same
        id with a different body raises `Conflict`.
        """
        digest = self.digest(order)
        body = self._seal_order(order)
        msisdns = order_msisdns(order)
        msisdn = msisdns[0] if msisdns else None
        now = time.time()

        def job(conn: Tx) -> tuple[OrderRecord, bool]:
            cur = conn.execute(
                "INSERT INTO orders (id, kind, msisdn, channel, operator, body, digest, state,"
                " lease_owner, lease_until, deadline_at, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING",
                (
                    order.order_id,
                    order.kind,
                    msisdn,
                    order.channel,
                    order.operator,
                    body,
                    digest,
                    OrderState.ACCEPTED.value,
                    lease_owner,
                    now + lease_seconds if lease_owner else None,
                    deadline_at,
                    now,
                    now,
                ),
            )
            if cur.rowcount == 0:
                (known,) = conn.execute(
                    "SELECT digest FROM orders WHERE id=?", (order.order_id,)
                ).fetchone()
                if known != digest:
                    raise Conflict(f"order {order.order_id} was already sent with another body")
                return self._get(conn, order.order_id), False
            record = OrderRecord(
                id=order.order_id,
                seq=int(cur.lastrowid or 0),
                kind=order.kind,
                msisdn=msisdn,
                channel=order.channel,
                operator=order.operator,
                state=OrderState.ACCEPTED,
                phase="forward",
                reason=None,
                attention=False,
                created_at=now,
                updated_at=now,
                finished_at=None,
                deadline_at=deadline_at,
            )
            return record, True

        return await self.run(job)

    # -- reading -------------------------------------------------------------------------

    def _get(self, conn: Tx, order_id: str) -> OrderRecord:
        sql = f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id=?"  # noqa: S608 - fixed columns
        row = conn.execute(sql, (order_id,)).fetchone()
        if row is None:
            raise KeyError(order_id)
        return _record(row)

    async def get(self, order_id: str, *, full: bool = True) -> OrderRecord | None:
        """One order; with ``full`` also its body, plan and step states."""

        def job(conn: Tx) -> tuple[OrderRecord, str, str | None, list[Any]] | None:
            try:
                rec = self._get(conn, order_id)
            except KeyError:
                return None
            body, plan = conn.execute(
                "SELECT body, plan FROM orders WHERE id=?", (order_id,)
            ).fetchone()
            steps = conn.execute(
                "SELECT idx, phase, state, attempts, started_at, finished_at FROM steps"
                " WHERE order_id=? ORDER BY phase DESC, idx",
                (order_id,),
            ).fetchall()
            return rec, body, plan, steps

        found = await self.run(job)
        if found is None:
            return None
        rec, body, plan, steps = found
        if full:
            rec.order = self._open_order(body)
            rec.plan = self._open_plan(plan) if plan else None
            rec.steps = [StepRecord(r[0], r[1], StepState(r[2]), r[3], r[4], r[5]) for r in steps]
        return rec

    async def transcript(self, order_id: str) -> list[TranscriptLine]:
        def job(conn: Tx) -> list[Any]:
            return conn.execute(
                "SELECT idx, phase, ne, outcome, code, text, command, response, elapsed_ms, at"
                " FROM transcript WHERE order_id=? ORDER BY id",
                (order_id,),
            ).fetchall()

        return [TranscriptLine(*row) for row in await self.run(job)]

    async def list_orders(
        self,
        *,
        state: str | None = None,
        kind: str | None = None,
        msisdn: str | None = None,
        limit: int = 100,
        before_seq: int | None = None,
        attention: bool | None = None,
    ) -> list[OrderRecord]:
        """Newest first. ``attention``: only the orders left for an engineer (an undo the NE
        refused), or only the others."""
        clauses: list[str] = []
        args: list[str | int] = []
        for column, value in (("state", state), ("kind", kind), ("msisdn", msisdn)):
            if value is not None:
                clauses.append(f"{column}=?")
                args.append(value)
        if attention is not None:
            clauses.append("attention=?")
            args.append(int(attention))
        if before_seq is not None:
            clauses.append("seq<?")
            args.append(before_seq)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        # Only fixed column names are interpolated; every value is a bound parameter.
        sql = f"SELECT {_ORDER_COLUMNS} FROM orders {where} ORDER BY seq DESC LIMIT ?"  # noqa: S608

        def job(conn: Tx) -> list[Any]:
            return conn.execute(sql, (*args, limit)).fetchall()

        return [_record(r) for r in await self.run(job)]

    async def counts(self) -> dict[str, int]:
        def job(conn: Tx) -> list[Any]:
            return conn.execute("SELECT state, count(*) FROM orders GROUP BY state").fetchall()

        return {state: n for state, n in await self.run(job)}

    # -- the engine's writes -------------------------------------------------------------

    async def claim(self, owner: str, lease_seconds: float, limit: int = 1000) -> list[str]:
        """Lease unfinished orders nobody holds (or whose lease ran out), oldest first."""
        now = time.time()

        def job(conn: Tx) -> list[str]:
            rows = conn.execute(
                f"SELECT id FROM orders WHERE state IN {_UNFINISHED}"  # noqa: S608 - constant
                " AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?)"
                " ORDER BY seq LIMIT ?",
                (now, owner, limit),
            ).fetchall()
            ids = [r[0] for r in rows]
            conn.executemany(
                "UPDATE orders SET lease_owner=?, lease_until=? WHERE id=?",
                [(owner, now + lease_seconds, i) for i in ids],
            )
            return ids

        return await self.run(job)

    async def renew_leases(self, owner: str, lease_seconds: float) -> None:
        until = time.time() + lease_seconds

        def job(conn: Tx) -> None:
            conn.execute(
                "UPDATE orders SET lease_until=? WHERE lease_owner=?"  # noqa: S608 - constant
                f" AND state IN {_UNFINISHED}",
                (until, owner),
            )

        await self.run(job)

    async def lease_owners(self) -> list[str]:
        """Owners holding leases on unfinished orders."""

        def job(conn: Tx) -> list[str]:
            rows = conn.execute(
                "SELECT DISTINCT lease_owner FROM orders WHERE lease_owner IS NOT NULL"  # noqa: S608
                f" AND state IN {_UNFINISHED}"
            ).fetchall()
            return [r[0] for r in rows]

        return await self.run(job)

    async def release_leases(self, owner: str) -> None:
        def job(conn: Tx) -> None:
            conn.execute(
                "UPDATE orders SET lease_owner=NULL, lease_until=NULL WHERE lease_owner=?",
                (owner,),
            )

        await self.run(job)

    async def start(self, order_id: str, plan: Plan, first_intent: int | None) -> None:
        """Store the plan, move to provisioning and (if any) record the first step's intent."""
        sealed = self._seal_plan(plan)
        now = time.time()

        def job(conn: Tx) -> None:
            conn.execute(
                "UPDATE orders SET plan=?, state='provisioning', updated_at=? WHERE id=?",
                (sealed, now, order_id),
            )
            if first_intent is not None:
                _intent(conn, order_id, first_intent, "forward", now)

        await self.run(job)

    async def waiting(self, order_id: str, ne: str, since: float, note: str) -> None:
        """The order waits for ``ne`` (unreachable since ``since``): state waiting_for_ne."""
        now = time.time()

        def job(conn: Tx) -> None:
            conn.execute(
                "UPDATE orders SET state=?, waiting_for=?, waiting_since=?, note=?, updated_at=?"
                " WHERE id=?",
                (OrderState.WAITING.value, ne, since, note, now, order_id),
            )

        await self.run(job)

    async def resumed(self, order_id: str) -> None:
        """The NE the order waited for answers again: back to provisioning."""
        now = time.time()

        def job(conn: Tx) -> None:
            conn.execute(
                "UPDATE orders SET state=?, waiting_for=NULL, waiting_since=NULL, note=NULL,"
                " updated_at=? WHERE id=?",
                (OrderState.PROVISIONING.value, now, order_id),
            )

        await self.run(job)

    async def set_note(self, order_id: str, note: str | None) -> None:
        """What the engine is doing with the order now (the next attempt and when)."""
        now = time.time()

        def job(conn: Tx) -> None:
            conn.execute("UPDATE orders SET note=?, updated_at=? WHERE id=?", (note, now, order_id))

        await self.run(job)

    async def intent(self, order_id: str, idx: int, phase: Phase) -> None:
        """Record that step ``idx`` is about to be sent (before the command goes out)."""
        now = time.time()
        await self.run(lambda conn: _intent(conn, order_id, idx, phase, now))

    async def outcome(
        self,
        order_id: str,
        idx: int,
        phase: Phase,
        ne: str,
        state: StepState | None,
        reply: Reply | None,
        *,
        next_intent: tuple[int, Phase] | None = None,
        order_phase: Phase | None = None,
        reason: str | None = None,
        messages: Sequence[str] = (),
        clear_note: bool = False,
    ) -> None:
        """Record a reply (transcript) and/or a step's new state, and optionally the intent of
        the next step, in one transaction (so a step costs one commit, not two).
        ``clear_note``: the order's note of a pending retry is over."""
        now = time.time()

        def job(conn: Tx) -> None:
            if reply is not None:
                conn.execute(
                    "INSERT INTO transcript (order_id, idx, phase, ne, outcome, code, text,"
                    " command, response, elapsed_ms, at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        order_id,
                        idx,
                        phase,
                        ne,
                        reply.outcome.value,
                        reply.code,
                        reply.text,
                        reply.command,
                        reply.response,
                        reply.elapsed_ms,
                        now,
                    ),
                )
            if state is not None:
                conn.execute(
                    "UPDATE steps SET state=?, finished_at=? WHERE order_id=? AND phase=?"
                    " AND idx=?",
                    (state.value, now, order_id, phase, idx),
                )
            if order_phase is not None:
                conn.execute(
                    "UPDATE orders SET phase=?, reason=coalesce(?, reason), updated_at=?"
                    " WHERE id=?",
                    (order_phase, reason, now, order_id),
                )
            if next_intent is not None:
                _intent(conn, order_id, next_intent[0], next_intent[1], now)
            if clear_note:
                conn.execute("UPDATE orders SET note=NULL WHERE id=?", (order_id,))
            if not messages:
                return
            # SMS the step handed to the SMS centre, awaiting their delivery receipts.
            conn.executemany(
                "INSERT INTO sms_messages (message_id, order_id, idx, status, updated_at)"
                " VALUES (?,?,?,'submitted',?) ON CONFLICT(message_id) DO NOTHING",
                [(m, order_id, idx, now) for m in messages],
            )

        await self.run(job)

    async def finish(
        self,
        order_id: str,
        state: OrderState,
        reason: str | None,
        *,
        attention: bool = False,
        lines: dict[str, Line | None] | None = None,
        extra: Callable[[Tx, float], None] | None = None,
    ) -> None:
        """Move an order to a terminal state and, atomically with it, update its lines (and
        whatever ``extra`` writes: the resources the order consumed)."""
        assert state.terminal
        now = time.time()
        updates = [
            (m, line.model_dump_json() if line is not None else None)
            for m, line in (lines or {}).items()
        ]

        def job(conn: Tx) -> None:
            conn.execute(
                "UPDATE orders SET state=?, reason=?, attention=?, updated_at=?, finished_at=?,"
                " lease_owner=NULL, lease_until=NULL, waiting_for=NULL, waiting_since=NULL,"
                " note=NULL WHERE id=?",
                (state.value, reason, int(attention), now, now, order_id),
            )
            for msisdn, data in updates:
                if data is None:
                    conn.execute("DELETE FROM lines WHERE msisdn=?", (msisdn,))
                else:
                    conn.execute(
                        "INSERT INTO lines (msisdn, data) VALUES (?,?)"
                        " ON CONFLICT(msisdn) DO UPDATE SET data=excluded.data",
                        (msisdn, data),
                    )
            if extra is not None:
                extra(conn, now)

        await self.run(job)

    # -- SMS delivery receipts ---------------------------------------------------------------

    async def record_receipt(self, message_id: str, status: str) -> bool:
        """A delivery receipt for one SMS part; False if the message is not one of ours."""
        now = time.time()

        def job(conn: Tx) -> bool:
            cur = conn.execute(
                "UPDATE sms_messages SET status=?, updated_at=? WHERE message_id=?",
                (status, now, message_id),
            )
            return cur.rowcount > 0

        return await self.run(job)

    async def sms_messages(self, order_id: str) -> list[tuple[int, str, str]]:
        """(step, message id, status) of every SMS part an order sent."""

        def job(conn: Tx) -> list[tuple[int, str, str]]:
            rows = conn.execute(
                "SELECT idx, message_id, status FROM sms_messages WHERE order_id=?"
                " ORDER BY idx, message_id",
                (order_id,),
            ).fetchall()
            return [(r[0], r[1], r[2]) for r in rows]

        return await self.run(job)

    # -- lines ---------------------------------------------------------------------------

    async def lines(self, msisdns: Iterable[str]) -> dict[str, Line | None]:
        wanted = list(msisdns)

        def job(conn: Tx) -> dict[str, str | None]:
            found: dict[str, str | None] = dict.fromkeys(wanted)
            for m in wanted:
                row = conn.execute("SELECT data FROM lines WHERE msisdn=?", (m,)).fetchone()
                if row is not None:
                    found[m] = row[0]
            return found

        raw = await self.run(job)
        return {m: Line.model_validate_json(d) if d else None for m, d in raw.items()}

    async def all_lines(self) -> list[Line]:
        def job(conn: Tx) -> list[Any]:
            return conn.execute("SELECT data FROM lines ORDER BY msisdn").fetchall()

        return [Line.model_validate_json(r[0]) for r in await self.run(job)]


def _add_outage_columns(conn: Tx) -> None:
    """Bring an orders table made before outage handling up to date (until the store has
    versioned migrations, issue 12)."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(orders)")}
    for column, kind in (
        ("waiting_for", "TEXT"),
        ("waiting_since", "REAL"),
        ("deadline_at", "REAL"),
        ("note", "TEXT"),
    ):
        if column not in have:
            conn.execute(f"ALTER TABLE orders ADD COLUMN {column} {kind}")


def _intent(conn: Tx, order_id: str, idx: int, phase: str, now: float) -> None:
    conn.execute(
        "INSERT INTO steps (order_id, idx, phase, state, attempts, started_at)"
        " VALUES (?,?,?,'sent',1,?) ON CONFLICT(order_id, phase, idx)"
        " DO UPDATE SET state='sent', attempts=attempts+1",
        (order_id, idx, phase, now),
    )
