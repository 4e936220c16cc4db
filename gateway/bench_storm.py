"""`provgw bench storm`: mixed orders while the HLR misbehaves, and is killed and restarted.

Real parts only: the gateway's engine and SQLite store in this process, real SSH to the HLR
emulator running as a separate process that writes its state before it answers
(``--state-sync``), so that killing it with SIGKILL loses nothing it acknowledged — as with a
real HLR. Three phases, each with fresh numbers and the same mix of orders (open an account,
change roaming, suspend and resume, call forwarding, pre-cancel and cancel):

1. **clean**: no faults — the goodput every other figure is compared with;
2. **errors**: 10 % of commands answered "busy" (5001, not executed), to be retried;
3. **storm**: those errors, latency spikes (2 % of replies 500 ms late: an MML session is busy
   for as long, so they cost the NE capacity, not the gateway), sessions cut after a command
   took effect (outcome unknown: reconciled by reading back), and the emulator SIGKILLed twice
   mid-run — once for ``outage_s`` (30 s in the full storm), once briefly — and restarted on
   the same port.

Afterwards every order must be terminal, none failed, and the HLR must hold exactly what the
completed orders imply: no Ki without a subscriber, no subscriber without a Ki, no lock left
behind (`compare_with_hlr`). Reported: goodput of phase 2 ÷ phase 1 (target ≥ 0.8), and for each
restart the time from the emulator listening again to the breaker closing (its first answered
probe), and from there to the first order completing (target ≤ 2 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from gateway.bench import bench_order, measure_orders
from gateway.config import BreakerPolicy, RetryPolicy, load_config
from gateway.engine import Engine
from gateway.lines import Line
from gateway.operations import ForwardingKind
from gateway.orders import Order, parse_order
from gateway.resources.demo import seed_demo
from gateway.runtime import (
    DEMO_PASSWORD,
    DEMO_USER,
    EmulatorProcess,
    emulator_ne,
    hlr_emulator_process,
    running_gateway,
)

ERRORS = "SET EMUFAULT:ERRRATE={error_rate};"
STORM = (
    "SET EMUFAULT:SPIKERATE={spike_rate},SPIKE={spike},ERRRATE={error_rate},DROPRATE={drop_rate};"
)
CLEAR = "SET EMUFAULT:SPIKERATE=0,ERRRATE=0,DROPRATE=0;"


@dataclass
class StormSettings:
    orders_per_phase: int = 2000
    outage_s: float = 30.0  # the long outage of phase 3
    short_outage_s: float = 2.0
    error_rate: float = 0.1
    drop_rate: float = 0.01
    latency_ms: float = 5.0  # every reply
    spike_rate: float = 0.02  # a latency spike: this fraction of replies waits spike_ms more
    spike_ms: float = 500.0
    sessions: int = 8
    window: int = 128
    probe_interval_s: float = 0.5


@dataclass
class Phase:
    name: str
    orders: int
    completed: int
    seconds: float
    goodput: float  # completed orders per second
    states: dict[str, int]


@dataclass
class Restart:
    down_s: float  # killed → listening again
    to_breaker_closed_s: float  # listening again → first answered probe
    to_orders_flowing_s: float  # breaker closed → the first order completed after it


@dataclass
class StormResult:
    settings: StormSettings
    phases: list[Phase]
    goodput_ratio: float  # errors ÷ clean
    restarts: list[Restart]
    hlr_agrees: bool
    differences: list[str] = field(default_factory=list)


def mixed_orders(phase: int, count: int) -> list[Order]:
    """``count`` orders on fresh numbers: every number is opened, then (by its position)
    roaming is changed, it is suspended and resumed, forwarded, or pre-cancelled and
    cancelled."""
    orders: list[Order] = []
    n = 0
    while len(orders) < count:
        n += 1
        i = phase * 1_000_000 + n
        opening = bench_order(i, "4g-basic")
        msisdn = opening.msisdn  # type: ignore[union-attr]
        orders.append(opening)
        follow: list[dict[str, Any]]
        match n % 4:
            case 0:
                follow = [{"kind": "change_roaming", "roaming_barring": "BROHPLMN"}]
            case 1:
                follow = [{"kind": "suspend"}, {"kind": "resume"}]
            case 2:
                forward = {"kind": "CFU", "forward_to": "13900000000"}
                follow = [{"kind": "change_supplementary", "forwarding": [forward]}]
            case _:
                follow = [{"kind": "pre_cancel"}, {"kind": "cancel"}]
        for j, fields in enumerate(follow):
            base = {"order_id": f"{opening.order_id}-{j}", "channel": "OUT001"}
            orders.append(parse_order(base | {"operator": "clerk1", "msisdn": msisdn} | fields))
    return orders[:count]


class HlrUnderTest:
    """The HLR emulator as a process that can be killed and started again on the same port,
    with the same state file and host key."""

    def __init__(self, workdir: Path, latency_ms: float) -> None:
        self.workdir = workdir
        self.latency_ms = latency_ms
        self.port = 0
        self.current: EmulatorProcess | None = None
        self._stack = contextlib.AsyncExitStack()

    def _args(self) -> list[str]:
        return [
            "--state-sync",
            "--host-key",
            str(self.workdir / "hlr-host-key"),
            "--latency-ms",
            str(self.latency_ms),
        ]

    async def start(self) -> EmulatorProcess:
        process = hlr_emulator_process(
            *self._args(), state_file=self.workdir / "hlr-state.json", port=self.port
        )
        self.current = await self._stack.enter_async_context(process)
        self.port = self.current.port
        return self.current

    def kill(self) -> None:
        assert self.current is not None
        self.current.process.kill()

    async def close(self) -> None:
        await self._stack.aclose()


async def mml(emulator: EmulatorProcess, command: str) -> str:
    """One MML command as the emulator's engineer (its built-in admin operator)."""
    async with (
        asyncssh.connect(
            emulator.host,
            emulator.port,
            username=DEMO_USER,
            password=DEMO_PASSWORD,
            known_hosts=None,
            client_keys=None,
            agent_path=None,
            config=None,
        ) as conn,
        conn.create_process(term_type=None) as proc,
    ):
        await asyncio.wait_for(proc.stdout.readline(), 10)  # the greeting
        answer = ""
        login = f'LGI:HLRSN=1,OPNAME="{DEMO_USER}",PWD="{DEMO_PASSWORD}";'
        for line in (login, command):
            proc.stdin.write(line + "\n")
            answer = await asyncio.wait_for(proc.stdout.readuntil("---    END"), 10)
        proc.stdin.write("LGO:;\n")
        return answer


def expected_state(lines: Iterable[Line]) -> dict[str, Any]:
    """What the HLR emulator's ``EXP STATE`` must show for ``lines``: exactly these
    subscribers, each with a Ki, with exactly these settings."""
    subscribers: dict[str, dict[str, Any]] = {}
    for line in lines:
        net = line.network
        subscribers[line.imsi] = {
            "imsi": line.imsi,
            "isdn": net.msisdn,
            "ic": net.lock.incoming,
            "oc": net.lock.outgoing,
            "gprslock": net.lock.data,
            "odbic": net.bar_incoming.value,
            "odboc": net.bar_outgoing.value,
            "odbroam": net.bar_roaming.value,
            **{kind.value.lower(): net.forwarding.get(kind) for kind in ForwardingKind},
            "gprs": net.data_enabled,
            "nam": net.network_access.value,
        }
    return {"ki": sorted(subscribers), "subscribers": subscribers}


_COMPARED = (
    "imsi",
    "isdn",
    "ic",
    "oc",
    "gprslock",
    "odbic",
    "odboc",
    "odbroam",
    "cfu",
    "cfb",
    "cfnry",
    "cfnrc",
    "gprs",
    "nam",
)


def actual_state(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The part of an emulator snapshot (``EXP STATE``) that `expected_state` predicts."""
    return {
        "ki": sorted(snapshot["ki"]),
        "subscribers": {
            imsi: {k: sub[k] for k in _COMPARED} for imsi, sub in snapshot["subscribers"].items()
        },
    }


def compare_with_hlr(lines: Sequence[Line], snapshot: dict[str, Any]) -> list[str]:
    """Every disagreement between the gateway's lines and the HLR, one line each."""
    expected, actual = expected_state(lines), actual_state(snapshot)
    ki_wanted, ki_held = set(expected["ki"]), set(actual["ki"])
    out = [f"Ki without a subscriber: {i}" for i in sorted(ki_held - ki_wanted)]
    out += [f"subscriber without a Ki: {i}" for i in sorted(ki_wanted - ki_held)]
    want, have = expected["subscribers"], actual["subscribers"]
    out += [f"on the HLR only: {i}" for i in sorted(set(have) - set(want))]
    out += [f"missing on the HLR: {i}" for i in sorted(set(want) - set(have))]
    for imsi in sorted(set(want) & set(have)):
        for key, value in want[imsi].items():
            if have[imsi][key] != value:
                out.append(f"{imsi} {key}: the HLR has {have[imsi][key]!r}, expected {value!r}")
    return out


def snapshot_from(answer: str) -> dict[str, Any]:
    """The JSON of an ``EXP STATE`` answer (one field, ``STATE = …``)."""
    for line in answer.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() == "STATE":
            parsed: dict[str, Any] = json.loads(value.strip())
            return parsed
    raise ValueError("EXP STATE answered without a STATE field")


async def run_storm(settings: StormSettings, *, show_progress: bool = False) -> StormResult:
    with tempfile.TemporaryDirectory(prefix="provgw-storm-") as tmp:
        hlr = HlrUnderTest(Path(tmp), settings.latency_ms)
        try:
            emulator = await hlr.start()
            config = load_config(None).model_copy(
                update={
                    "database": Path(tmp) / "storm.db",
                    "cancel_hold_days": 0,  # a cancellation needs no pre-cancellation hold
                    "secret_key_file": Path(tmp) / "secret.key",
                    "max_concurrent_orders": settings.window,
                    # Busy answers: 10 % each, so eight in a row (1e-8) is the budget.
                    "retry": RetryPolicy(attempts=8, backoff_initial_s=0.05, backoff_max_s=2.0),
                    "breaker": BreakerPolicy(probe_interval_s=settings.probe_interval_s),
                    "network_elements": [emulator_ne(emulator, sessions=settings.sessions)],
                }
            )
            async with running_gateway(config, create_key=True) as engine:
                await seed_demo(engine.store)
                phases = []
                clean = mixed_orders(1, settings.orders_per_phase)
                phases.append(await _phase("clean", engine, clean, settings, show_progress))
                await mml(emulator, _faults(ERRORS, settings))
                errors = mixed_orders(2, settings.orders_per_phase)
                phases.append(await _phase("errors", engine, errors, settings, show_progress))
                await mml(emulator, _faults(STORM, settings))
                storm = mixed_orders(3, settings.orders_per_phase)
                restarts: list[Restart] = []
                done = asyncio.Event()
                killer = asyncio.create_task(_kill_twice(hlr, engine, settings, restarts, done))
                phases.append(await _phase("storm", engine, storm, settings, show_progress))
                done.set()
                await killer
                assert hlr.current is not None
                await mml(hlr.current, _faults(CLEAR, settings))
                snapshot = snapshot_from(await mml(hlr.current, "EXP STATE:;"))
                differences = compare_with_hlr(await engine.store.all_lines(), snapshot)
        finally:
            await hlr.close()
    clean_phase, errors_phase = phases[0], phases[1]
    return StormResult(
        settings=settings,
        phases=phases,
        goodput_ratio=round(errors_phase.goodput / clean_phase.goodput, 3),
        restarts=restarts,
        hlr_agrees=not differences,
        differences=differences,
    )


def _faults(template: str, s: StormSettings) -> str:
    return template.format(
        spike_rate=s.spike_rate,
        spike=int(s.spike_ms),
        error_rate=s.error_rate,
        drop_rate=s.drop_rate,
    )


async def _phase(
    name: str, engine: Engine, orders: Sequence[Order], s: StormSettings, show_progress: bool
) -> Phase:
    measured = await measure_orders(engine, orders, s.window, progress=show_progress, in_order=True)
    states: dict[str, int] = {}
    for order in orders:
        rec = await engine.store.get(order.order_id, full=False)
        state = rec.state.value if rec is not None else "missing"
        states[state] = states.get(state, 0) + 1
    return Phase(
        name=name,
        orders=len(orders),
        completed=measured.completed,
        seconds=round(measured.seconds, 3),
        goodput=round(measured.completed / measured.seconds, 1),
        states=states,
    )


async def _kill_twice(
    hlr: HlrUnderTest,
    engine: Engine,
    s: StormSettings,
    restarts: list[Restart],
    phase_done: asyncio.Event,
) -> None:
    """A fifth into the phase, kill the emulator for ``outage_s``; after another third of the
    phase, kill it briefly a second time. Each restart is measured up to the first order
    completed after it (unless the phase ends first)."""
    async with engine.events.subscribe() as events:
        for down, share in ((s.outage_s, 0.2), (s.short_outage_s, 0.35)):
            if not await _completions(events, max(1, int(share * s.orders_per_phase)), phase_done):
                return
            hlr.kill()
            killed = time.perf_counter()
            await asyncio.sleep(down)
            await mml(await hlr.start(), _faults(STORM, s))  # it comes back as faulty as it was
            listening = time.perf_counter()
            await engine.breakers["hlr1"].wait_closed()
            closed = time.perf_counter()
            while not events.empty():
                events.get_nowait()  # completions from before the restart
            flowing = await _completions(events, 1, phase_done)
            restarts.append(
                Restart(
                    down_s=round(listening - killed, 3),
                    to_breaker_closed_s=round(closed - listening, 3),
                    to_orders_flowing_s=round(time.perf_counter() - closed, 3) if flowing else -1,
                )
            )


async def _completions(
    events: asyncio.Queue[dict[str, Any]], count: int, phase_done: asyncio.Event
) -> bool:
    """Wait for ``count`` completed orders; False if the phase ended first."""
    seen = 0
    while seen < count:
        getting = asyncio.ensure_future(events.get())
        ending = asyncio.ensure_future(phase_done.wait())
        await asyncio.wait((getting, ending), return_when=asyncio.FIRST_COMPLETED)
        ending.cancel()
        if not getting.done():
            getting.cancel()
            return False
        seen += getting.result().get("state") == "completed"
    return True


def result_dict(result: StormResult) -> dict[str, Any]:
    return asdict(result)
