"""The engine owns every effect an order has: it runs plans against the network elements.

For each step it records the intent *before* the command goes out, then the reply; transient
errors are retried with backoff; a permanent error compensates the done steps in reverse
order. A step whose outcome is unknown (the connection dropped after sending, the gateway was
killed) is reconciled by reading the subscriber back from the NE and asking the operation
whether its effect is already there — never by blindly sending it again.

An NE that cannot be reached is not an order failure. Each NE has a circuit breaker
(`gateway.breaker`): while it is open, orders needing that NE wait (``waiting_for_ne``) without
spending their retry budgets, and carry on when a probe finds the NE back. Only the NE's refusal,
its "busy" answers past the retry budget, or the order's deadline end an order as failed, and
an undo is retried until it succeeds: after an outage no NE keeps half of an order.

Orders on the same number run one after another in acceptance order; different numbers run
concurrently up to ``max_concurrent_orders``. Orders are leased in the store, so a sweeper (in
this or another process) picks up any order whose lease ran out. Each order runs under the
`Lease` it was taken with: every write about it is fenced by that lease's epoch (the store
refuses it once another process took the order over), and no command goes out for it unless
this engine renewed the lease recently enough — else it renews that one lease first, fenced.
An engine that lost an order (paused, cut off from the database) so sends nothing more for it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from adapters.network_element import (
    CardStation,
    HealthReading,
    NeHealth,
    NetworkElement,
    NotSupported,
)
from gateway.backoff import Backoff
from gateway.breaker import Breaker, BreakerChange, Breakers, BreakerState
from gateway.clock import SYSTEM_CLOCK, Clock, first_of
from gateway.config import GatewayConfig
from gateway.events import EventHub
from gateway.health import Health
from gateway.lines import Line, lines_after
from gateway.operations import Outcome, Reply, StepOperation
from gateway.orders import CardUpdate, OpenAccount, Order, SimSwap, StkActivation, order_msisdns
from gateway.planner import CardKeys, Notices, OtaProfile, Plan, PlanRefused, plan_order
from gateway.resources import audit
from gateway.routing import Router
from gateway.store import (
    Lease,
    LeaseLost,
    OrderRecord,
    OrderState,
    OrderStore,
    Phase,
    StepState,
    Tx,
)
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
        conn: Tx,
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
OtaCardSource = Callable[[Line], Awaitable[OtaProfile]]
"""Where the OTA keys and profile of a line's card come from (`gateway.ota_cards`); raises
`PlanRefused` when the card cannot be reached over the air."""


class Engine:
    def __init__(
        self,
        store: OrderStore,
        config: GatewayConfig,
        network: Mapping[str, NetworkElement],
        *,
        stations: Mapping[str, CardStation] | None = None,
        events: EventHub | None = None,
        owner: str | None = None,
        sweep_interval_s: float = 5.0,
        guard: IntakeGuard | None = None,
        card_keys: CardKeysSource | None = None,
        ota_cards: OtaCardSource | None = None,
        notices: Notices | None = None,
        hooks: OrderHooks | None = None,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.targets = Targets(network, stations)
        self.clock = clock
        self._rng = rng or random.Random()
        self.breakers = Breakers(
            {
                name: Breaker(name, config.breaker, ne.probe, clock, self._breaker_changed)
                for name, ne in network.items()
            }
        )
        self.health = Health()
        self.events = events or EventHub()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self._route = Router(config)
        self.guard = guard
        self.card_keys = card_keys
        self.ota_cards = ota_cards
        self.notices = notices
        self.hooks = hooks
        self._slots = asyncio.Semaphore(config.max_concurrent_orders)
        self._tails: dict[str, asyncio.Future[None]] = {}
        self._active: dict[str, asyncio.Task[None]] = {}
        self._leases: dict[str, _Held] = {}  # the leases of the orders running here
        # Renew leases well before they run out, whatever the configured lease length.
        self._sweep_interval = min(sweep_interval_s, config.lease_seconds / 3)
        self._background: list[asyncio.Task[None]] = []

    @property
    def network(self) -> Mapping[str, NetworkElement]:
        return self.targets.network

    def health_reading(self, reading: HealthReading) -> None:
        """What an NE's management interface says (an SNMP poll or trap, a probe): shown, and
        handed to its breaker."""
        self.health.reading(reading)
        breaker = self.breakers.get(reading.ne)
        if breaker is not None:
            breaker.reading(reading)

    def network_status(self) -> list[dict[str, Any]]:
        """Each NE and card station as engineers see it: whether orders are sent to it (its
        breaker), what its management interface says, and its recent replies."""
        rows: list[dict[str, Any]] = []
        for name, ne in self.targets.network.items():
            breaker = self.breakers[name]
            replies = self.health.report(name)
            reading = self.health.reading_report(name)
            known = replies["replies"] or breaker.opened_at or reading["health_at"]
            rows.append(
                {"name": name, "kind": "network_element", "dialect": ne.dialect}
                | replies
                | reading
                | {
                    "reachable": breaker.closed if known else None,
                    "breaker": breaker.state.value,
                    "breaker_since": breaker.since,
                    "breaker_reason": breaker.reason or None,
                    "unreachable_since": None if breaker.closed else breaker.opened_at,
                }
            )
        for name, station in self.targets.stations.items():
            rows.append(
                {"name": name, "kind": "card_station", "dialect": station.dialect}
                | self.health.report(name)
            )
        return rows

    def troubles(self) -> list[str]:
        """Why the gateway is degraded, one line per NE in trouble (empty: all well)."""
        out = []
        for name, breaker in self.breakers.items():
            reading = self.health.readings.get(name)
            if not breaker.closed:
                since = datetime.fromtimestamp(breaker.opened_at or breaker.since, UTC)
                out.append(
                    f"{name} unreachable since {since:%Y-%m-%d %H:%M:%S} UTC: {breaker.reason}"
                )
            elif reading is not None and reading.health in (NeHealth.DOWN, NeHealth.DEGRADED):
                out.append(f"{name} reports itself {reading.health.value}: {reading.reason}")
        return out

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
        await self.breakers.close()
        await self.store.release_leases(self.owner)

    async def drain(self) -> None:
        """Wait until every order this engine has taken on is terminal (tests, benchmarks)."""
        while self._active:
            await asyncio.gather(*list(self._active.values()), return_exceptions=True)

    async def _sweeper(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval)
            try:
                await self._renew()
                await self.sweep()
            except Exception:
                log.exception("sweep failed; retrying at the next interval")

    async def _renew(self) -> None:
        """Renew every lease this engine holds; an order it no longer holds (taken over while
        this engine could not renew) must be checked before its next command goes out."""
        since = self.clock.time()
        held = await self.store.renew_leases(self.owner, self.config.lease_seconds)
        for order_id, lease in self._leases.items():
            lease.valid_until = since + self.config.lease_seconds if order_id in held else 0.0

    async def sweep(self) -> int:
        """Take on unfinished orders that nobody holds. Returns how many were scheduled."""
        since = self.clock.time()
        ids = await self.store.claim(self.owner, self.config.lease_seconds)
        scheduled = 0
        for order_id in ids:
            if order_id in self._active:
                continue
            rec = await self.store.get(order_id)
            if rec is not None and not rec.state.terminal and rec.lease_owner == self.owner:
                self._schedule(rec, since)
                scheduled += 1
        return scheduled

    # -- intake --------------------------------------------------------------------------

    async def submit(self, order: Order) -> tuple[OrderRecord, bool]:
        """Accept an order durably and schedule it. Idempotent on the order id.

        The guard (if any) runs first: a refused order raises `IntakeRefused` and is not
        stored."""
        if self.guard is not None:
            await self.guard(order)
        since = self.clock.time()
        at_counter = isinstance(order, OpenAccount | SimSwap) and order.card is not None
        deadline = self.config.deadlines.for_order(order.kind, at_counter=at_counter)
        rec, created = await self.store.accept(
            order,
            lease_owner=self.owner,
            lease_seconds=self.config.lease_seconds,
            deadline_at=self.clock.time() + deadline,
        )
        if created:
            rec.order = order
            self._publish(rec.id, OrderState.ACCEPTED, kind=order.kind)
            if rec.lease_owner == self.owner:  # else the process running its number's takes it
                self._schedule(rec, since)
        return rec, created

    def _schedule(self, rec: OrderRecord, since: float) -> None:
        """Run ``rec`` under the lease it was taken with at ``since`` (this engine's clock)."""
        assert rec.order is not None
        lease = Lease(rec.lease_owner or self.owner, rec.lease_epoch)
        self._leases[rec.id] = _Held(lease, since + self.config.lease_seconds)
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
                    await self._run(rec, lease)
            except asyncio.CancelledError:
                raise
            except LeaseLost as why:
                # Another process took the order over: it carries on, this one sends nothing.
                log.warning("order %s: no longer ours, left to its new holder (%s)", rec.id, why)
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
                self._leases.pop(rec.id, None)

        self._active[rec.id] = asyncio.create_task(run(), name=f"order-{rec.id}")

    def _publish(self, order_id: str, state: OrderState, **extra: object) -> None:
        self.events.publish({"order_id": order_id, "state": state.value, **extra})

    def _breaker_changed(self, change: BreakerChange) -> None:
        """Opening and closing are audited (an outage and its end, for the NOC's record)."""
        if change.new is BreakerState.HALF_OPEN:
            return
        reading = self.health.readings.get(change.ne)
        if change.new is BreakerState.CLOSED and reading is not None and reading.source == "probe":
            # The breaker's answered probe is as good a probe as the monitor's own.
            self.health.reading(HealthReading(change.ne, NeHealth.UP, "", change.at, "probe"))
        action = "ne.unreachable" if change.new is BreakerState.OPEN else "ne.reachable"

        def job(conn: Tx) -> None:
            audit.record(
                conn,
                at=change.at,
                operator="gateway",
                action=action,
                outcome=change.new.value,
                reason=change.reason,
                detail={"ne": change.ne, "was": change.old.value},
            )

        task = asyncio.create_task(self.store.run(job), name=f"audit-breaker-{change.ne}")
        self._background.append(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[None]) -> None:
        if task in self._background:
            self._background.remove(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())

    # -- running one order ---------------------------------------------------------------

    async def _run(self, rec: OrderRecord, lease: Lease) -> None:
        order = rec.order
        assert order is not None
        if rec.state is OrderState.WAITING:
            # An earlier run waited; this one asks afresh.
            await self.store.resumed(rec.id, lease=lease)
        before = await self.store.lines(order_msisdns(order))
        plan = rec.plan
        states: dict[tuple[Phase, int], StepState] = {}
        if plan is None:
            refused = _Run(rec.id, order, before, None, {}, set(), rec.deadline_at, lease)
            try:
                keys = await self._card_keys(order)
                ota = await self._ota_profile(order, before)
                plan = plan_order(
                    order, before, self.config, self._route, self._now(), keys, self.notices, ota
                )
                self._check_supported(plan)
            except PlanRefused as why:
                await self._finish(refused, OrderState.FAILED, why.reason)
                return
            await self.store.start(rec.id, plan, 0 if plan.steps else None, lease=lease)
            self._publish(rec.id, OrderState.PROVISIONING, steps=len(plan.steps))
        else:
            states = {(s.phase, s.idx): s.state for s in rec.steps}
        # Steps whose intent was recorded by an earlier run but whose outcome never was: they
        # may or may not have reached the NE.
        uncertain = {key for key, state in states.items() if state is StepState.SENT}
        run = _Run(rec.id, order, before, plan, states, uncertain, rec.deadline_at, lease)

        if rec.phase == "forward":
            failure = await self._forward(run)
            if failure is None:
                lines = lines_after(order, before, plan, self._now())
                note = "; ".join(f"not done (best effort): {m}" for m in run.missed) or None
                await self._finish(run, OrderState.COMPLETED, note, lines=lines)
                return
        else:
            failure = rec.reason or "a step failed"
        await self._compensate(run, failure)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), UTC)

    async def _card_keys(self, order: Order) -> CardKeys | None:
        """The keys of the card an order writes at the counter, fixed once before planning
        (the plan, sealed in the store, then holds them)."""
        if not isinstance(order, OpenAccount | SimSwap) or order.card is None:
            return None
        if self.card_keys is not None:
            return await self.card_keys(order)
        return default_card_keys(self.config, order)

    async def _ota_profile(
        self, order: Order, before: Mapping[str, Line | None]
    ) -> OtaProfile | None:
        """The card an order works on over the air, fixed once before planning."""
        if not isinstance(order, CardUpdate | StkActivation):
            return None
        line = before.get(order.msisdn)
        if line is None:
            return None  # the planner refuses: no such line
        if self.ota_cards is None:
            raise PlanRefused("the SIM stock is not connected: the card's OTA keys are not known")
        return await self.ota_cards(line)

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
                await self.store.intent(run.order_id, step.index, "forward", lease=run.lease)
            nxt = step.index + 1 if step.index + 1 < len(steps) else None
            reply = await self._execute(
                run,
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
                        lease=run.lease,
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
                    lease=run.lease,
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
                await self.store.intent(run.order_id, step.index, "compensate", lease=run.lease)
            reply = await self._execute(
                run,
                step.index,
                "compensate",
                step.ne,
                step.compensation,
                uncertain=key in run.uncertain,
            )
            if not reply.ok:
                # Only the NE's refusal gets here: transient trouble is retried until it passes.
                await self.store.outcome(
                    run.order_id,
                    step.index,
                    "compensate",
                    step.ne,
                    StepState.FAILED,
                    None,
                    lease=run.lease,
                )
                await self._finish(
                    run,
                    OrderState.FAILED,
                    f"{failure}; undoing step {step.index + 1} was refused by "
                    f"{self.targets.describe(step.ne)} ({reply.text or reply.code}): "
                    "needs manual work",
                    attention=True,
                )
                return
        await self._finish(run, OrderState.COMPENSATED, failure)

    async def _execute(
        self,
        run: _Run,
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
        back first.

        An unreachable NE never fails the step: the step waits for it (its breaker) and tries
        again on the backoff schedule, spending nothing. "Busy" answers spend the forward
        step's budget. A forward step is not sent once the order's deadline has passed; an
        undo is tried until it succeeds or the NE refuses it (and the NE then does not already
        show it done)."""
        policy = self.config.retry
        schedule = Backoff(policy, self._rng)
        order_id = run.order_id
        busy = 0
        while True:
            if await self._wait_for_ne(run, ne_name, deadline=phase == "forward"):
                schedule.reset()  # the NE was found back: start the schedule again
            if uncertain and await self._reconcile(run, ne_name, op):
                return await self._reconciled(run, idx, phase, ne_name, op, next_intent)
            if phase == "forward" and self._past_deadline(run):
                return Reply(
                    outcome=Outcome.PERMANENT,
                    code="deadline",
                    text=f"the order's deadline passed before {ne_name} could carry it out",
                )
            await self._still_ours(run)
            reply = await self.targets.execute(ne_name, op)
            self.health.record(ne_name, reply)
            breaker = self.breakers.get(ne_name)
            if breaker is not None:
                breaker.record(reply)
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
                    clear_note=run.noted,
                    lease=run.lease,
                )
                run.noted = False
                return reply
            await self.store.outcome(order_id, idx, phase, ne_name, None, reply, lease=run.lease)
            if reply.outcome is Outcome.PERMANENT:
                if phase == "compensate" and await self._reconcile(run, ne_name, op):
                    # Refused because it is already so (e.g. the record it removes is gone).
                    return await self._reconciled(run, idx, phase, ne_name, op, next_intent)
                return reply
            uncertain = reply.outcome is Outcome.UNKNOWN
            if reply.unreachable:
                if breaker is not None and not breaker.closed:
                    continue  # wait for the breaker, not on the schedule
                why = f"{ne_name} did not answer ({reply.code})"
            else:
                busy += 1
                if phase == "forward" and busy >= policy.attempts:
                    return reply
                why = f"{ne_name} is busy ({reply.code} {reply.text})".rstrip()
            await self._pause(run, idx, why, schedule.next())

    async def _still_ours(self, run: _Run) -> None:
        """Before a command goes out: the order's lease must have at least half its length
        left by this engine's last renewal, else that one lease is renewed first, fenced
        (`LeaseLost` if the order was taken over meanwhile: nothing is sent)."""
        held = self._leases.get(run.order_id)
        now = self.clock.time()
        if held is None or now < held.valid_until - self.config.lease_seconds / 2:
            return
        await self.store.renew_lease(run.order_id, run.lease, self.config.lease_seconds)
        held.valid_until = now + self.config.lease_seconds

    async def _pause(self, run: _Run, idx: int, why: str, delay: float) -> None:
        """Wait ``delay`` before the next attempt, saying so on the order (what it says is
        what happens: the attempt goes out ``delay`` seconds after the note is written)."""
        where = f"step {idx + 1}: " if idx >= 0 else ""
        note = f"{where}{why}; next attempt in {delay:.1f} s"
        await self.store.set_note(run.order_id, note, lease=run.lease)
        run.noted = True
        await self.clock.sleep(delay)

    async def _wait_for_ne(self, run: _Run, ne_name: str, *, deadline: bool) -> bool:
        """While the NE's breaker is open, the order waits (``waiting_for_ne``) — until the
        order's deadline if ``deadline`` (a forward step that may still be given up), else as
        long as it takes (an undo; a step whose outcome must be settled first). True when it
        waited."""
        breaker = self.breakers.get(ne_name)
        if breaker is None or breaker.closed:
            return False
        since = breaker.opened_at or self.clock.time()
        note = (
            f"waiting for {ne_name}, unreachable ({breaker.reason}); it is probed every "
            f"{self.config.breaker.probe_interval_s:g} s"
        )
        await self.store.waiting(run.order_id, ne_name, since, note, lease=run.lease)
        self._publish(run.order_id, OrderState.WAITING, ne=ne_name, since=since)
        if deadline and run.deadline_at is not None:
            remaining = run.deadline_at - self.clock.time()
            await first_of(breaker.wait_closed(), self.clock.sleep(max(remaining, 0.0)))
        else:
            await breaker.wait_closed()
        await self.store.resumed(run.order_id, lease=run.lease)
        self._publish(run.order_id, OrderState.PROVISIONING)
        return True

    def _past_deadline(self, run: _Run) -> bool:
        return run.deadline_at is not None and self.clock.time() >= run.deadline_at

    async def _reconciled(
        self,
        run: _Run,
        idx: int,
        phase: Phase,
        ne_name: str,
        op: StepOperation,
        next_intent: tuple[int, Phase] | None,
    ) -> Reply:
        reply = Reply(
            outcome=Outcome.OK,
            text="already in place (reconciled by reading back)",
            command=self.targets.render(ne_name, op),
        )
        await self.store.outcome(
            run.order_id,
            idx,
            phase,
            ne_name,
            StepState.DONE,
            reply,
            next_intent=next_intent,
            clear_note=run.noted,
            lease=run.lease,
        )
        run.noted = False
        return reply

    async def _reconcile(self, run: _Run, target: str, op: StepOperation) -> bool:
        """Ask the NE whether ``op``'s effect is in place, waiting for it as long as it takes
        (past the order's deadline too): an unknown outcome can be neither repeated nor undone
        before the NE answers."""
        schedule = Backoff(self.config.retry, self._rng)
        while True:
            if await self._wait_for_ne(run, target, deadline=False):
                schedule.reset()
            try:
                view = await self.targets.read(target, op, op.lookup())
            except (ConnectionError, TimeoutError, OSError) as exc:
                log.warning("%s: cannot read back for reconciliation (%s); retrying", target, exc)
                breaker = self.breakers.get(target)
                if breaker is not None:
                    breaker.failure(str(exc))
                    if not breaker.closed:
                        continue
                why = f"{target} cannot be read back ({exc})"
                await self._pause(run, -1, why, schedule.next())
                continue
            breaker = self.breakers.get(target)
            if breaker is not None:
                breaker.answered()
            return op.applied_in(view)

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
        if hooks is not None or attention:

            def extra(conn: Tx, now: float) -> None:
                if attention:
                    # The seed's manual work order (M10): on record, and listed for engineers.
                    audit.record(
                        conn,
                        at=now,
                        operator=run.order.operator,
                        channel=run.order.channel,
                        action="order.attention",
                        outcome="attention",
                        reason=reason or "",
                        detail={"order_id": run.order_id, "kind": run.order.kind},
                    )
                if hooks is not None:
                    hooks.in_transaction(conn, run.order, state, run.before, now)

        await self.store.finish(
            run.order_id,
            state,
            reason,
            attention=attention,
            lines=lines,
            extra=extra,
            lease=run.lease,
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
    deadline_at: float | None
    lease: Lease
    missed: list[str] = field(default_factory=list)  # best-effort steps that failed
    noted: bool = False  # the order carries a note of a pending retry


@dataclass
class _Held:
    """A lease this engine runs an order under, and until when (its clock) it is sure of it."""

    lease: Lease
    valid_until: float


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
