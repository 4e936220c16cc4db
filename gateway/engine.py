"""The engine owns every effect an order has: it runs plans against the network elements.

For each step it records the intent *before* the command goes out, then the reply; transient
errors are retried with backoff; a permanent error compensates the done steps in reverse
order. A step whose outcome is unknown (the connection dropped after sending, the gateway was
killed) is reconciled by reading the subscriber back from the NE and asking the operation
whether its effect is already there — never by blindly sending it again.

Orders on the same number run one after another in acceptance order; different numbers run
concurrently up to ``max_concurrent_orders``. Orders are leased in the store, so a sweeper (in
this or another process) picks up any order whose lease ran out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from adapters.network_element import CardStation, NetworkElement, NotSupported
from gateway.config import GatewayConfig
from gateway.events import EventHub
from gateway.health import Health
from gateway.lines import Line, lines_after
from gateway.operations import Outcome, Reply, StepOperation
from gateway.orders import OpenAccount, Order, SimSwap, order_msisdns
from gateway.planner import CardKeys, Notices, Plan, PlanRefused, plan_order
from gateway.routing import Router
from gateway.store import OrderRecord, OrderState, Phase, SqliteStore, StepState
from gateway.targets import Targets, UnknownTarget

log = logging.getLogger(__name__)


def default_card_keys(config: GatewayConfig, order: OpenAccount | SimSwap) -> CardKeys:
    """A card's keys when no SIM stock knows it: the order's own, or fresh ones for a blank
    programmable card; its ADM1 from the order, else the station's blank-card default."""
    assert order.card is not None
    station = next((s for s in config.card_stations if s.name == order.card.station), None)
    adm1 = order.card.adm1.get_secret_value() if order.card.adm1 else None
    adm1 = adm1 or (station.adm1() if station else None)
    if adm1 is None:
        raise PlanRefused(f"the ADM1 of the blank cards at {order.card.station} is not known")
    if order.ki is not None and order.opc is not None:
        ki, opc = order.ki.get_secret_value(), order.opc.get_secret_value()
    else:
        ki, opc = secrets.token_hex(16), secrets.token_hex(16)
    return CardKeys.model_validate({"ki": ki, "opc": opc, "adm1": adm1})


class OrderHooks(Protocol):
    """What else an order's end changes (the counter's numbers and cards: `gateway.counter`)."""

    def in_transaction(
        self,
        conn: sqlite3.Connection,
        order: Order,
        state: OrderState,
        before: Mapping[str, Line | None],
        now: float,
    ) -> None:
        """Runs in the transaction that records the terminal state; must not raise."""
        ...

    async def after(
        self,
        order: Order,
        state: OrderState,
        plan: Plan | None,
        steps: Mapping[tuple[Phase, int], StepState],
    ) -> None:
        """Runs once the terminal state is recorded; must not raise."""
        ...


class IntakeRefused(Exception):
    """The order may not be placed (channel, operator, opening hours, customer category …);
    ``reason`` is for the clerk. Nothing was stored."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


IntakeGuard = Callable[[Order], Awaitable[None]]
"""Checks an order before it is accepted; raises `IntakeRefused`. Audits its refusals."""
CardKeysSource = Callable[["OpenAccount | SimSwap"], Awaitable[CardKeys]]
"""Where the keys of a card written at the counter come from (the SIM stock); raises
`PlanRefused` when they cannot be had."""


class Engine:
    def __init__(
        self,
        store: SqliteStore,
        config: GatewayConfig,
        network: Mapping[str, NetworkElement],
        *,
        stations: Mapping[str, CardStation] | None = None,
        events: EventHub | None = None,
        owner: str | None = None,
        sweep_interval_s: float = 5.0,
        guard: IntakeGuard | None = None,
        card_keys: CardKeysSource | None = None,
        notices: Notices | None = None,
        hooks: OrderHooks | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.targets = Targets(network, stations)
        self.health = Health()
        self.events = events or EventHub()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self._route = Router(config)
        self.guard = guard
        self.card_keys = card_keys
        self.notices = notices
        self.hooks = hooks
        self._slots = asyncio.Semaphore(config.max_concurrent_orders)
        self._tails: dict[str, asyncio.Future[None]] = {}
        self._active: dict[str, asyncio.Task[None]] = {}
        # Renew leases well before they run out, whatever the configured lease length.
        self._sweep_interval = min(sweep_interval_s, config.lease_seconds / 3)
        self._background: list[asyncio.Task[None]] = []

    @property
    def network(self) -> Mapping[str, NetworkElement]:
        return self.targets.network

    # -- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Resume every unfinished order, then keep sweeping for expired leases."""
        for owner in await self.store.lease_owners():
            if _dead_local_owner(owner):
                # A gateway on this host that died (SIGKILL, power cut): its orders need not
                # wait for their leases to run out.
                await self.store.release_leases(owner)
        await self.sweep()
        self._background.append(asyncio.create_task(self._sweeper(), name="engine-sweeper"))

    async def stop(self) -> None:
        for task in self._background:
            task.cancel()
        for task in list(self._active.values()):
            task.cancel()
        await asyncio.gather(*self._background, *self._active.values(), return_exceptions=True)
        self._background.clear()
        await self.store.release_leases(self.owner)

    async def drain(self) -> None:
        """Wait until every order this engine has taken on is terminal (tests, benchmarks)."""
        while self._active:
            await asyncio.gather(*list(self._active.values()), return_exceptions=True)

    async def _sweeper(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval)
            try:
                await self.store.renew_leases(self.owner, self.config.lease_seconds)
                await self.sweep()
            except Exception:
                log.exception("sweep failed; retrying at the next interval")

    async def sweep(self) -> int:
        """Take on unfinished orders that nobody holds. Returns how many were scheduled."""
        ids = await self.store.claim(self.owner, self.config.lease_seconds)
        scheduled = 0
        for order_id in ids:
            if order_id in self._active:
                continue
            rec = await self.store.get(order_id)
            if rec is not None and not rec.state.terminal:
                self._schedule(rec)
                scheduled += 1
        return scheduled

    # -- intake --------------------------------------------------------------------------

    async def submit(self, order: Order) -> tuple[OrderRecord, bool]:
        """Accept an order durably and schedule it. Idempotent on the order id.

        The guard (if any) runs first: a refused order raises `IntakeRefused` and is not
        stored."""
        if self.guard is not None:
            await self.guard(order)
        rec, created = await self.store.accept(
            order, lease_owner=self.owner, lease_seconds=self.config.lease_seconds
        )
        if created:
            rec.order = order
            self._publish(rec.id, OrderState.ACCEPTED, kind=order.kind)
            self._schedule(rec)
        return rec, created

    def _schedule(self, rec: OrderRecord) -> None:
        assert rec.order is not None
        keys = sorted(set(order_msisdns(rec.order)))
        before = [self._tails[k] for k in keys if k in self._tails]
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for k in keys:
            self._tails[k] = done

        async def run() -> None:
            try:
                for fut in before:
                    await asyncio.shield(fut)
                async with self._slots:
                    await self._run(rec)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The order stays leased and unfinished; the sweeper retries it after the
                # lease expires. Nothing is lost, but an engineer should look.
                log.exception("order %s: engine error", rec.id)
            finally:
                done.set_result(None)
                for k in keys:
                    if self._tails.get(k) is done:
                        del self._tails[k]
                self._active.pop(rec.id, None)

        self._active[rec.id] = asyncio.create_task(run(), name=f"order-{rec.id}")

    def _publish(self, order_id: str, state: OrderState, **extra: object) -> None:
        self.events.publish({"order_id": order_id, "state": state.value, **extra})

    # -- running one order ---------------------------------------------------------------

    async def _run(self, rec: OrderRecord) -> None:
        order = rec.order
        assert order is not None
        before = await self.store.lines(order_msisdns(order))
        plan = rec.plan
        states: dict[tuple[Phase, int], StepState] = {}
        if plan is None:
            refused = _Run(rec.id, order, before, None, {}, set())
            try:
                keys = await self._card_keys(order)
                plan = plan_order(
                    order, before, self.config, self._route, _now(), keys, self.notices
                )
                self._check_supported(plan)
            except PlanRefused as why:
                await self._finish(refused, OrderState.FAILED, why.reason)
                return
            await self.store.start(rec.id, plan, 0 if plan.steps else None)
            self._publish(rec.id, OrderState.PROVISIONING, steps=len(plan.steps))
        else:
            states = {(s.phase, s.idx): s.state for s in rec.steps}
        # Steps whose intent was recorded by an earlier run but whose outcome never was: they
        # may or may not have reached the NE.
        uncertain = {key for key, state in states.items() if state is StepState.SENT}
        run = _Run(rec.id, order, before, plan, states, uncertain)

        if rec.phase == "forward":
            failure = await self._forward(run)
            if failure is None:
                lines = lines_after(order, before, plan, _now())
                note = "; ".join(f"not done (best effort): {m}" for m in run.missed) or None
                await self._finish(run, OrderState.COMPLETED, note, lines=lines)
                return
        else:
            failure = rec.reason or "a step failed"
        await self._compensate(run, failure)

    async def _card_keys(self, order: Order) -> CardKeys | None:
        """The keys of the card an order writes at the counter, fixed once before planning
        (the plan, sealed in the store, then holds them)."""
        if not isinstance(order, OpenAccount | SimSwap) or order.card is None:
            return None
        if self.card_keys is not None:
            return await self.card_keys(order)
        return default_card_keys(self.config, order)

    def _check_supported(self, plan: Plan) -> None:
        for step in plan.steps:
            for op in (step.op, step.compensation):
                if op is None:
                    continue
                try:
                    self.targets.check(step.ne, op)
                except UnknownTarget as exc:
                    raise PlanRefused(str(exc)) from None
                except NotSupported as exc:
                    raise PlanRefused(
                        f"{self.targets.describe(step.ne)} cannot {step.description}: {exc}"
                    ) from None

    async def _forward(self, run: _Run) -> str | None:
        """Run the forward steps from where the order stands. Returns a failure text or None."""
        assert run.plan is not None
        steps = run.plan.steps
        for step in steps:
            key: tuple[Phase, int] = ("forward", step.index)
            state = run.states.get(key)
            if state is StepState.DONE:
                continue
            if state is StepState.FAILED:
                if step.best_effort:
                    run.missed.append(f"step {step.index + 1} ({step.description}) failed")
                    continue
                return f"step {step.index + 1} ({step.description}) failed"
            if state is None and step.index > 0:
                await self.store.intent(run.order_id, step.index, "forward")
            nxt = step.index + 1 if step.index + 1 < len(steps) else None
            reply = await self._execute(
                run.order_id,
                step.index,
                "forward",
                step.ne,
                step.op,
                uncertain=key in run.uncertain,
                next_intent=(nxt, "forward") if nxt is not None else None,
            )
            if not reply.ok:
                failure = f"step {step.index + 1} ({step.description}): {reply.text or reply.code}"
                run.states[key] = StepState.FAILED
                if step.best_effort:
                    # A notice that could not be sent is reported, and the order goes on.
                    await self.store.outcome(
                        run.order_id,
                        step.index,
                        "forward",
                        step.ne,
                        StepState.FAILED,
                        None,
                        next_intent=(nxt, "forward") if nxt is not None else None,
                    )
                    run.missed.append(failure)
                    if nxt is not None:
                        run.states[("forward", nxt)] = StepState.SENT
                    continue
                await self.store.outcome(
                    run.order_id,
                    step.index,
                    "forward",
                    step.ne,
                    StepState.FAILED,
                    None,
                    order_phase="compensate",
                    reason=failure,  # kept, so an undo resumed after a crash still says why
                )
                return failure
            run.states[key] = StepState.DONE
            if nxt is not None:
                run.states[("forward", nxt)] = StepState.SENT
        return None

    async def _compensate(self, run: _Run, failure: str) -> None:
        assert run.plan is not None
        done = [s for s in run.plan.steps if run.states.get(("forward", s.index)) is StepState.DONE]
        if not done:
            await self._finish(run, OrderState.FAILED, failure)
            return
        for step in reversed(done):
            key: tuple[Phase, int] = ("compensate", step.index)
            state = run.states.get(key)
            if step.compensation is None or state is StepState.DONE:
                continue
            if state is None:
                await self.store.intent(run.order_id, step.index, "compensate")
            reply = await self._execute(
                run.order_id,
                step.index,
                "compensate",
                step.ne,
                step.compensation,
                uncertain=key in run.uncertain,
            )
            if not reply.ok:
                await self.store.outcome(
                    run.order_id, step.index, "compensate", step.ne, StepState.FAILED, None
                )
                await self._finish(
                    run,
                    OrderState.FAILED,
                    f"{failure}; undoing step {step.index + 1} also failed "
                    f"({reply.text or reply.code}): needs manual work",
                    attention=True,
                )
                return
        await self._finish(run, OrderState.COMPENSATED, failure)

    async def _execute(
        self,
        order_id: str,
        idx: int,
        phase: Phase,
        ne_name: str,
        op: StepOperation,
        *,
        uncertain: bool,
        next_intent: tuple[int, Phase] | None = None,
    ) -> Reply:
        """Carry out one step (its intent already recorded) until it is done or definitely
        failed, recording every reply. ``uncertain``: it may have been sent before, so read
        back first."""
        policy = self.config.retry
        attempt = 0
        delay = policy.backoff_initial_s
        while True:
            if uncertain and await self._reconcile(ne_name, op):
                reply = Reply(
                    outcome=Outcome.OK,
                    text="already in place (reconciled by reading back)",
                    command=self.targets.render(ne_name, op),
                )
                await self.store.outcome(
                    order_id, idx, phase, ne_name, StepState.DONE, reply, next_intent=next_intent
                )
                return reply
            reply = await self.targets.execute(ne_name, op)
            self.health.record(ne_name, reply)
            if reply.outcome is Outcome.OK:
                sent = reply.fields.get("message_ids", "")
                await self.store.outcome(
                    order_id,
                    idx,
                    phase,
                    ne_name,
                    StepState.DONE,
                    reply,
                    next_intent=next_intent,
                    messages=[m for m in sent.split(",") if m],
                )
                return reply
            await self.store.outcome(order_id, idx, phase, ne_name, None, reply)
            if reply.outcome is Outcome.PERMANENT:
                return reply
            attempt += 1
            uncertain = reply.outcome is Outcome.UNKNOWN
            if reply.outcome is Outcome.TRANSIENT and attempt >= policy.attempts:
                return reply
            await asyncio.sleep(delay)
            delay = min(policy.backoff_max_s, max(delay * 2, 0.01))

    async def _reconcile(self, target: str, op: StepOperation) -> bool:
        """Ask the NE whether ``op``'s effect is in place, waiting for it as long as it takes:
        an unknown outcome can be neither repeated nor undone before the NE answers."""
        delay = self.config.retry.backoff_initial_s
        while True:
            try:
                return op.applied_in(await self.targets.read(target, op, op.lookup()))
            except (ConnectionError, TimeoutError, OSError) as exc:
                log.warning("%s: cannot read back for reconciliation (%s); retrying", target, exc)
            await asyncio.sleep(delay)
            delay = min(self.config.retry.backoff_max_s, max(delay * 2, 0.01))

    async def _finish(
        self,
        run: _Run,
        state: OrderState,
        reason: str | None,
        *,
        attention: bool = False,
        lines: dict[str, Line | None] | None = None,
    ) -> None:
        hooks = self.hooks
        extra = None
        if hooks is not None:

            def extra(conn: sqlite3.Connection, now: float) -> None:
                hooks.in_transaction(conn, run.order, state, run.before, now)

        await self.store.finish(
            run.order_id, state, reason, attention=attention, lines=lines, extra=extra
        )
        self._publish(run.order_id, state, reason=reason)
        if hooks is not None:
            await hooks.after(run.order, state, run.plan, run.states)


@dataclass
class _Run:
    """What the engine knows of one order while it runs it."""

    order_id: str
    order: Order
    before: Mapping[str, Line | None]
    plan: Plan | None  # None when the order was refused before it had one
    states: dict[tuple[Phase, int], StepState]
    uncertain: set[tuple[Phase, int]]
    missed: list[str] = field(default_factory=list)  # best-effort steps that failed


def _dead_local_owner(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _now() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)
