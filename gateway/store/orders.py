"""The orders' side of the store, the same on every back end: intake, plans, step states,
transcripts, leases, lines and SMS receipts, written as jobs over `Tx`.

A back end (`gateway.store.sqlite`, `gateway.store.postgresql`) supplies the connection and
the transaction control; this class runs the jobs in batches — whatever jobs are queued in one
turn of the event loop run in one transaction (group commit), so a thousand orders a second
each waiting for "intent recorded" share a handful of commits instead of paying one each. A
job's future resolves only after its transaction committed, so "recorded" always means durable.

Leases and fencing. An unfinished order is leased to one engine (``lease_owner``, until
``lease_until``); taking it over from another owner, or after the lease ran out, moves the
order's ``lease_epoch`` on. The engine's writes about an order carry the `Lease` it ran the order
under, and each such job first checks that the order is still leased to that owner at that
epoch (``FOR UPDATE`` where the database has row locks), raising `LeaseLost` otherwise: so an
engine that was paused or cut off from the database while another took its order over records
no intent — and so sends no command — for it again.

Secrets in order bodies and plans are sealed field by field with the `Vault`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, TypeVar

from gateway.lines import Line
from gateway.operations import Reply
from gateway.orders import ORDER_ADAPTER, Order, order_msisdns
from gateway.planner import Plan
from gateway.store.migrations import Dialect, Upgrade
from gateway.store.records import (
    Conflict,
    Lease,
    LeaseLost,
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
Job = tuple[Callable[[Tx], Any], "asyncio.Future[Any]"]


class _JobFailed(Exception):
    """A job raised inside an unisolated batch; the batch is rolled back and run again."""


_ORDER_COLUMNS = (
    "id, seq, kind, msisdn, channel, operator, state, phase, reason, attention, "
    "created_at, updated_at, finished_at, waiting_for, waiting_since, deadline_at, note, "
    "lease_owner, lease_epoch"
)
_UNFINISHED = "('accepted','provisioning','waiting_for_ne')"
"""The states an engine still has work in (SQL, for the lease queries)."""
_EARLIER_ELSEWHERE = (
    "earlier.msisdn = orders.msisdn AND earlier.seq < orders.seq"
    f" AND earlier.state IN {_UNFINISHED} AND earlier.lease_owner <> ?"
    " AND earlier.lease_until >= ?"
)
"""An earlier unfinished order on the same number, leased to another owner (SQL; parameters:
the claiming owner, now)."""


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
        lease_owner=row[17],
        lease_epoch=row[18],
    )


class OrderStore:
    """What every back end offers. Use as ``async with store``; see `open_store`."""

    dialect: ClassVar[Dialect]
    _begin: ClassVar[str] = "BEGIN"
    _fence_sql: ClassVar[str] = "SELECT lease_owner, lease_epoch FROM orders WHERE id=?"
    _fenced_intent: ClassVar[str] = (
        "INSERT INTO steps (order_id, idx, phase, state, attempts, started_at)"
        " SELECT ?, ?, ?, 'sent', 1, ? WHERE EXISTS (SELECT 1 FROM orders"
        " WHERE id=? AND lease_owner=? AND lease_epoch=?)"
        " ON CONFLICT(order_id, phase, idx) DO UPDATE SET state='sent', attempts=steps.attempts+1"
    )
    """An intent recorded only under the order's lease: the fence and the write in one
    statement (the hot path: one statement per step, not two)."""
    _skip_locked: ClassVar[str] = ""
    """Appended to the claim's SELECT: skip rows other processes lock, where there are locks."""
    shared: ClassVar[bool] = False
    """Whether several gateway processes share the work on this back end: then a number's
    orders are kept to the process running its earliest one (on SQLite one process does all
    the work, and its engine keeps a number's orders in order by itself)."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._pending: list[Job] = []
        self.upgraded: Upgrade | None = None  # what opening it migrated

    async def __aenter__(self) -> OrderStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def run(self, fn: Callable[[Tx], T]) -> T:
        """Run ``fn(tx)`` inside the next group-commit transaction; its result once
        committed. ``fn`` must be short and must not await."""
        raise NotImplementedError

    def server_pid(self) -> int | None:
        """The database server process serving this store, when it runs on this machine and
        has one (benchmarks count its CPU); None for an embedded database."""
        return None

    # -- group commit --------------------------------------------------------------------

    def _tx(self) -> Tx:
        raise NotImplementedError

    def _aborted(self) -> bool:
        """Whether the transaction can no longer commit (a statement failed in it)."""
        return False

    def _rollback(self) -> None:
        raise NotImplementedError

    def _run_batch(self, batch: list[Job], *, isolated: bool) -> list[tuple[Any, Exception | None]]:
        """One transaction for the whole batch. A job that raises sinks the unisolated run
        (`_JobFailed`): the caller runs the batch again isolated, a savepoint around each job,
        so that one job's failure is its own. Rare, so the common path pays no savepoints."""
        tx = self._tx()
        results: list[tuple[Any, Exception | None]] = []
        tx.execute(self._begin)
        try:
            for fn, _ in batch:
                if not isolated:
                    try:
                        results.append((fn(tx), None))
                    except Exception as exc:
                        raise _JobFailed from exc
                    if self._aborted():  # it swallowed a failed statement
                        raise _JobFailed
                    continue
                tx.execute("SAVEPOINT job")
                try:
                    value = fn(tx)
                    if self._aborted():
                        raise RuntimeError("a statement of this job failed inside it")
                    results.append((value, None))
                except Exception as exc:
                    tx.execute("ROLLBACK TO SAVEPOINT job")
                    results.append((None, exc))
                tx.execute("RELEASE SAVEPOINT job")
            tx.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        return results

    def _commit_batch(self, batch: list[Job]) -> list[tuple[Any, Exception | None]]:
        try:
            return self._run_batch(batch, isolated=False)
        except _JobFailed:
            return self._run_batch(batch, isolated=True)

    @staticmethod
    def _settle(batch: list[Job], results: list[tuple[Any, Exception | None]]) -> None:
        for (_, fut), (res, err) in zip(batch, results, strict=True):
            if fut.done():
                continue
            if err is not None:
                fut.set_exception(err)
            else:
                fut.set_result(res)

    @staticmethod
    def _fail(batch: list[Job], exc: BaseException) -> None:
        for _, fut in batch:
            if not fut.done():
                fut.set_exception(exc if isinstance(exc, Exception) else RuntimeError(exc))

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

        Orders on one number run one after another, in one process: when an earlier order on
        the number is still running in another process, the new one is stored unleased (its
        record says whose it is: nobody's yet), and that process's sweeper takes it up.

        The same id with the same body returns the existing record (created=False); the same
        id with a different body raises `Conflict`.
        """
        digest = self.digest(order)
        body = self._seal_order(order)
        msisdns = order_msisdns(order)
        msisdn = msisdns[0] if msisdns else None
        now = time.time()

        def job(conn: Tx) -> tuple[OrderRecord, bool]:
            owner = lease_owner
            if self.shared and owner and msisdn and _held_elsewhere(conn, msisdn, owner, now):
                owner = None  # its number's earlier order runs elsewhere: it follows there
            epoch = 1 if owner else 0
            cur = conn.execute(
                "INSERT INTO orders (id, kind, msisdn, channel, operator, body, digest, state,"
                " lease_owner, lease_until, lease_epoch, deadline_at, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING RETURNING seq",
                (
                    order.order_id,
                    order.kind,
                    msisdn,
                    order.channel,
                    order.operator,
                    body,
                    digest,
                    OrderState.ACCEPTED.value,
                    owner,
                    now + lease_seconds if owner else None,
                    epoch,
                    deadline_at,
                    now,
                    now,
                ),
            )
            inserted = cur.fetchone()
            if inserted is None:
                (known,) = conn.execute(
                    "SELECT digest FROM orders WHERE id=?", (order.order_id,)
                ).fetchone()
                if known != digest:
                    raise Conflict(f"order {order.order_id} was already sent with another body")
                return self._get(conn, order.order_id), False
            record = OrderRecord(
                id=order.order_id,
                seq=int(inserted[0]),
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
                lease_owner=owner,
                lease_epoch=epoch,
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
        """Lease unfinished orders nobody holds (or whose lease ran out), oldest first, and
        those ``owner`` holds already — but not an order whose number has an earlier order
        running in another process (orders on one number run in order, in one process). An
        order taken over — from another owner, or from
        ``owner`` itself after its lease ran out — moves to the next epoch. Rows another
        process is claiming or fencing at this moment are skipped, not waited for."""
        now = time.time()

        def job(conn: Tx) -> list[str]:
            rows = conn.execute(
                "SELECT id, lease_owner, lease_until FROM orders"  # noqa: S608 - constant
                f" WHERE state IN {_UNFINISHED}"
                " AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?)"
                f" AND NOT EXISTS (SELECT 1 FROM orders AS earlier WHERE {_EARLIER_ELSEWHERE})"
                f" ORDER BY seq LIMIT ?{self._skip_locked}",
                (now, owner, owner, now, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE orders SET lease_owner=?, lease_until=?, lease_epoch=lease_epoch+?"
                " WHERE id=?",
                [
                    (owner, now + lease_seconds, int(held != owner or until < now), i)
                    for i, held, until in rows
                ],
            )
            return [r[0] for r in rows]

        return await self.run(job)

    async def renew_leases(self, owner: str, lease_seconds: float) -> set[str]:
        """Extend every lease ``owner`` holds; the orders it still holds (the others were
        taken over)."""
        until = time.time() + lease_seconds

        def job(conn: Tx) -> set[str]:
            rows = conn.execute(
                "UPDATE orders SET lease_until=? WHERE lease_owner=?"  # noqa: S608 - constant
                f" AND state IN {_UNFINISHED} RETURNING id",
                (until, owner),
            ).fetchall()
            return {r[0] for r in rows}

        return await self.run(job)

    async def renew_lease(self, order_id: str, lease: Lease, lease_seconds: float) -> None:
        """Extend one order's lease, fenced: `LeaseLost` if it moved on meanwhile."""
        until = time.time() + lease_seconds

        def job(conn: Tx) -> None:
            self._fence(conn, order_id, lease)
            conn.execute("UPDATE orders SET lease_until=? WHERE id=?", (until, order_id))

        await self.run(job)

    def _fence(self, conn: Tx, order_id: str, lease: Lease | None) -> None:
        """Refuse (`LeaseLost`) a write under a lease the order no longer has. The row stays
        locked until the job's transaction ends, so no claim can slip in between."""
        if lease is None:
            return
        row = conn.execute(self._fence_sql, (order_id,)).fetchone()
        if row is None or row[0] != lease.owner or row[1] != lease.epoch:
            raise _lost(order_id, lease, row)

    def _intent(
        self, conn: Tx, order_id: str, idx: int, phase: str, now: float, lease: Lease | None
    ) -> None:
        """Record a step's intent; under ``lease`` only while the order has that lease."""
        if lease is None:
            _intent(conn, order_id, idx, phase, now)
            return
        cur = conn.execute(
            self._fenced_intent,
            (order_id, idx, phase, now, order_id, lease.owner, lease.epoch),
        )
        if cur.rowcount == 0:
            raise _lost(order_id, lease, conn.execute(self._fence_sql, (order_id,)).fetchone())

    @staticmethod
    def _updated_under(conn: Tx, order_id: str, lease: Lease | None, rowcount: int) -> None:
        """After an UPDATE of the order's row with `_LEASED` conditions: `LeaseLost` if it
        changed nothing because the lease moved on."""
        if lease is not None and rowcount == 0:
            row = conn.execute(
                "SELECT lease_owner, lease_epoch FROM orders WHERE id=?", (order_id,)
            ).fetchone()
            raise _lost(order_id, lease, row)

    async def held_by(self, owner: str) -> int:
        """How many unfinished orders ``owner`` holds (benchmarks: a killed process's)."""

        def job(conn: Tx) -> int:
            row = conn.execute(
                f"SELECT count(*) FROM orders WHERE lease_owner=? AND state IN {_UNFINISHED}",  # noqa: S608
                (owner,),
            ).fetchone()
            return int(row[0])

        return await self.run(job)

    async def taken_over(self, owner: str | None = None) -> int:
        """How many orders were taken over at least once (by ``owner``, if given)."""

        def job(conn: Tx) -> int:
            sql = "SELECT count(*) FROM orders WHERE lease_epoch > 1"
            row = conn.execute(sql + " AND lease_owner=?", (owner,)) if owner else conn.execute(sql)
            return int(row.fetchone()[0])

        return await self.run(job)

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

    async def start(
        self, order_id: str, plan: Plan, first_intent: int | None, *, lease: Lease | None = None
    ) -> None:
        """Store the plan, move to provisioning and (if any) record the first step's intent."""
        sealed = self._seal_plan(plan)
        now = time.time()

        def job(conn: Tx) -> None:
            sql = "UPDATE orders SET plan=?, state='provisioning', updated_at=? WHERE id=?"
            cur = conn.execute(
                sql + _LEASED if lease else sql, (sealed, now, order_id, *_of(lease))
            )
            self._updated_under(conn, order_id, lease, cur.rowcount)
            if first_intent is not None:
                _intent(conn, order_id, first_intent, "forward", now)

        await self.run(job)

    async def waiting(
        self, order_id: str, ne: str, since: float, note: str, *, lease: Lease | None = None
    ) -> None:
        """The order waits for ``ne`` (unreachable since ``since``): state waiting_for_ne."""
        now = time.time()

        def job(conn: Tx) -> None:
            self._fence(conn, order_id, lease)
            conn.execute(
                "UPDATE orders SET state=?, waiting_for=?, waiting_since=?, note=?, updated_at=?"
                " WHERE id=?",
                (OrderState.WAITING.value, ne, since, note, now, order_id),
            )

        await self.run(job)

    async def resumed(self, order_id: str, *, lease: Lease | None = None) -> None:
        """The NE the order waited for answers again: back to provisioning."""
        now = time.time()

        def job(conn: Tx) -> None:
            self._fence(conn, order_id, lease)
            conn.execute(
                "UPDATE orders SET state=?, waiting_for=NULL, waiting_since=NULL, note=NULL,"
                " updated_at=? WHERE id=?",
                (OrderState.PROVISIONING.value, now, order_id),
            )

        await self.run(job)

    async def set_note(
        self, order_id: str, note: str | None, *, lease: Lease | None = None
    ) -> None:
        """What the engine is doing with the order now (the next attempt and when)."""
        now = time.time()

        def job(conn: Tx) -> None:
            self._fence(conn, order_id, lease)
            conn.execute("UPDATE orders SET note=?, updated_at=? WHERE id=?", (note, now, order_id))

        await self.run(job)

    async def intent(
        self, order_id: str, idx: int, phase: Phase, *, lease: Lease | None = None
    ) -> None:
        """Record that step ``idx`` is about to be sent (before the command goes out)."""
        now = time.time()

        def job(conn: Tx) -> None:
            self._intent(conn, order_id, idx, phase, now, lease)

        await self.run(job)

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
        lease: Lease | None = None,
    ) -> None:
        """Record a reply (transcript) and/or a step's new state, and optionally the intent of
        the next step, in one transaction (so a step costs one commit, not two).
        ``clear_note``: the order's note of a pending retry is over. Fenced by ``lease`` when
        it records the next step's intent or turns the order to its undo; a reply, or a last
        step's outcome, is what was sent, recorded whoever holds the order now."""
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
                sql = (
                    "UPDATE orders SET phase=?, reason=coalesce(?, reason), updated_at=? WHERE id=?"
                )
                cur = conn.execute(
                    sql + _LEASED if lease else sql,
                    (order_phase, reason, now, order_id, *_of(lease)),
                )
                self._updated_under(conn, order_id, lease, cur.rowcount)
            if next_intent is not None:
                self._intent(conn, order_id, next_intent[0], next_intent[1], now, lease)
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
        lease: Lease | None = None,
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
            sql = (
                "UPDATE orders SET state=?, reason=?, attention=?, updated_at=?, finished_at=?,"
                " lease_owner=NULL, lease_until=NULL, waiting_for=NULL, waiting_since=NULL,"
                " note=NULL WHERE id=?"
            )
            cur = conn.execute(
                sql + _LEASED if lease else sql,
                (state.value, reason, int(attention), now, now, order_id, *_of(lease)),
            )
            self._updated_under(conn, order_id, lease, cur.rowcount)
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


_LEASED = " AND lease_owner=? AND lease_epoch=?"
"""Appended to an UPDATE of one order: it changes the row only under the writer's lease (the
row lock it takes makes check and write one step against a concurrent claim)."""


def _of(lease: Lease | None) -> tuple[str, int] | tuple[()]:
    """The parameters of `_LEASED`."""
    return (lease.owner, lease.epoch) if lease is not None else ()


def _lost(order_id: str, lease: Lease, row: Sequence[Any] | None) -> LeaseLost:
    held = "nobody" if row is None or row[0] is None else f"{row[0]} (epoch {row[1]})"
    return LeaseLost(
        f"order {order_id}: leased to {held}, not to {lease.owner} (epoch {lease.epoch})"
    )


def _intent(conn: Tx, order_id: str, idx: int, phase: str, now: float) -> None:
    conn.execute(
        "INSERT INTO steps (order_id, idx, phase, state, attempts, started_at)"
        " VALUES (?,?,?,'sent',1,?) ON CONFLICT(order_id, phase, idx)"
        " DO UPDATE SET state='sent', attempts=steps.attempts+1",
        (order_id, idx, phase, now),
    )


def _held_elsewhere(conn: Tx, msisdn: str, owner: str, now: float) -> bool:
    """Whether an unfinished order on ``msisdn`` is leased to another owner now."""
    row = conn.execute(
        f"SELECT 1 FROM orders WHERE msisdn=? AND state IN {_UNFINISHED}"  # noqa: S608 - constant
        " AND lease_owner <> ? AND lease_until >= ? LIMIT 1",
        (msisdn, owner, now),
    ).fetchone()
    return row is not None
