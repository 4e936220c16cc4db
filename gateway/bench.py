"""`provgw bench orders`: open-account orders end to end, measured.

Real parts only: the durable SQLite store, the engine, real SSH to the HLR emulator running as
a separate process. Reports orders/s, NE commands/s, order latency percentiles (accepted →
terminal) and CPU per order in the gateway process and in the emulator.

The emulator stands in for an NE on a host of its own. Unless told not to (``pin=False``), on a
machine with two or more cores it gets a core of its own and the gateway the others
(`os.sched_setaffinity`): left to the scheduler, the two processes swap cores and each runs on
caches the other has just filled. With 20 ms of NE latency that alone made the difference
between 85 % and 92 % of the sessions ÷ latency bound (`docs/performance.md`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.progress import Progress

from gateway.config import GatewayConfig, HuaweiMmlConfig, RetryPolicy, load_config
from gateway.engine import Engine
from gateway.identifiers import luhn_check_digit
from gateway.orders import Order, parse_order
from gateway.resources.demo import seed_demo
from gateway.runtime import (
    emulator_ne,
    hlr_emulator_process,
    running_gateway,
    settle_garbage_collector,
)
from gateway.store.postgresql import scratch_database

KI = "465b5ce8b199b49faa5f0a2ee238a6bc"
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
_CUSTOMER = {
    "name": "Bench",
    "id_number": "11010519491231002X",
    "address": "Benchmark Road 1",
    "contact": "13900000000",
}
TERMINAL = {"completed", "failed", "compensated"}


@dataclass
class BenchResult:
    orders: int
    completed: int
    seconds: float
    orders_per_s: float
    ne_commands_per_s: float
    latency_p50_ms: float
    latency_p99_ms: float
    gateway_cpu_ms_per_order: float
    emulator_cpu_ms_per_order: float
    sessions: int
    access_control: bool
    ne_latency_ms: float
    bound_orders_per_s: float | None
    pinned: bool
    backend: str = "sqlite"
    database_cpu_ms_per_order: float | None = None  # the PostgreSQL server's, for its session


def bench_order(i: int, product: str) -> Order:
    iccid_body = f"898600{i:012d}"
    return parse_order(
        {
            "kind": "open_account",
            "order_id": f"bench-{i}",
            "channel": "OUT001",
            "operator": "clerk1",
            "msisdn": f"13{i:09d}"[:11] if i < 10**9 else f"1{i:010d}",
            "imsi": f"46000{i:010d}",
            "iccid": iccid_body + str(luhn_check_digit(iccid_body)),
            "ki": KI,
            "opc": OPC,
            "product": product,
            "customer": _CUSTOMER,
        }
    )


def _process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _own_cores(emulator_pid: int, pin: bool) -> Iterator[bool]:
    """The emulator on the last core this process may use, the gateway on the others; the
    gateway's cores are given back afterwards. Yields whether it pinned."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_setaffinity") else []
    if not pin or len(cores) < 2:
        yield False
        return
    os.sched_setaffinity(emulator_pid, {cores[-1]})
    os.sched_setaffinity(0, set(cores[:-1]))
    try:
        yield True
    finally:
        os.sched_setaffinity(0, set(cores))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


@dataclass
class Measured:
    seconds: float
    cpu_s: float  # the gateway process's, all threads
    latencies: list[float]  # per order, submitted → terminal
    completed: int


async def measure_orders(
    engine: Engine,
    orders: Sequence[Order],
    window: int,
    *,
    progress: bool = False,
    in_order: bool = False,
) -> Measured:
    """Submit ``orders`` with at most ``window`` in flight, concurrently as from many API
    clients (accepts that arrive together share one commit); wait for every one to end.
    ``in_order``: each is accepted before the next is sent, as from one upstream system that
    sends a number's orders one after another (orders on one number run in acceptance order,
    and concurrent intake does not keep the list's order)."""
    started: dict[str, float] = {}
    latencies: list[float] = []
    completed = 0
    slots = asyncio.Semaphore(window)
    cpu0, t0 = time.process_time(), time.perf_counter()
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("open-account orders", total=len(orders))
        async with engine.events.subscribe() as queue:

            async def collect() -> None:
                nonlocal completed
                while len(latencies) < len(orders):
                    event = await queue.get()
                    if event["state"] in TERMINAL and event["order_id"] in started:
                        latencies.append(time.perf_counter() - started[event["order_id"]])
                        completed += event["state"] == "completed"
                        slots.release()
                        bar.advance(task)

            collector = asyncio.create_task(collect())
            submissions = []
            for order in orders:
                await slots.acquire()
                started[order.order_id] = time.perf_counter()
                if in_order:
                    await engine.submit(order)
                else:
                    submissions.append(asyncio.create_task(engine.submit(order)))
            await asyncio.gather(*submissions)
            await collector
    return Measured(time.perf_counter() - t0, time.process_time() - cpu0, latencies, completed)


def bench_config(
    directory: Path, ne: HuaweiMmlConfig, window: int, **update: object
) -> GatewayConfig:
    """The benchmarks' gateway: its database and key in ``directory``, one NE, ``window``
    orders at once, quick retries; ``update`` sets the rest."""
    return load_config(None).model_copy(
        update={
            "database": directory / "bench.db",
            "secret_key_file": directory / "secret.key",
            "max_concurrent_orders": window,
            "retry": RetryPolicy(attempts=5, backoff_initial_s=0.01),
            "network_elements": [ne],
        }
        | update
    )


async def run_bench(
    n: int,
    *,
    sessions: int,
    ne_latency_ms: float,
    window: int,
    product: str = "4g-basic",
    show_progress: bool = True,
    access_control: bool = True,
    pin: bool = True,
    database: str | None = None,
) -> BenchResult:
    """The benchmark on a fresh SQLite file, or (``database``, a PostgreSQL URL of an empty
    database) on PostgreSQL."""
    with tempfile.TemporaryDirectory(prefix="provgw-bench-") as tmp:
        latency_args = ("--latency-ms", str(ne_latency_ms)) if ne_latency_ms else ()
        async with hlr_emulator_process(*latency_args) as hlr:
            config = bench_config(
                Path(tmp), emulator_ne(hlr, sessions=sessions), window,
                access_control=access_control, database_url=database,
            )  # fmt: skip
            orders = [bench_order(i + 1, product) for i in range(n)]
            async with running_gateway(config, create_key=True) as engine:
                # Intake as in production: channel, operator and opening hours are checked.
                await seed_demo(engine.store)
                # Warm up: SSH sessions open and log in before the clock starts.
                await engine.submit(bench_order(n + 1, product))
                await engine.drain()
                settle_garbage_collector()  # as `provgw serve` does once it is up
                # Pinned only now: the threads started so far (the store's checkpointer)
                # keep every core.
                server = engine.store.server_pid()
                with _own_cores(hlr.process.pid, pin) as pinned:
                    emu_cpu0 = _process_cpu_s(hlr.process.pid)
                    db_cpu0 = _process_cpu_s(server) if server else 0.0
                    run = await measure_orders(engine, orders, window, progress=show_progress)
                    emu_cpu = _process_cpu_s(hlr.process.pid) - emu_cpu0
                    db_cpu = _process_cpu_s(server) - db_cpu0 if server else None
                rows = await engine.store.counts()
                assert sum(rows.values()) == n + 1
    commands = n * (3 if product != "voice-only" else 2)
    bound = sessions / (ne_latency_ms / 1000) / (commands / n) if ne_latency_ms else None
    return BenchResult(
        orders=n,
        completed=run.completed,
        seconds=round(run.seconds, 3),
        orders_per_s=round(n / run.seconds, 1),
        ne_commands_per_s=round(commands / run.seconds, 1),
        latency_p50_ms=round(_percentile(run.latencies, 0.5) * 1000, 2),
        latency_p99_ms=round(_percentile(run.latencies, 0.99) * 1000, 2),
        gateway_cpu_ms_per_order=round(run.cpu_s / n * 1000, 3),
        emulator_cpu_ms_per_order=round(emu_cpu / n * 1000, 3),
        sessions=sessions,
        access_control=access_control,
        ne_latency_ms=ne_latency_ms,
        bound_orders_per_s=round(bound, 1) if bound else None,
        pinned=pinned,
        backend="postgresql" if database else "sqlite",
        database_cpu_ms_per_order=round(db_cpu / n * 1000, 3) if db_cpu is not None else None,
    )


async def compare_backends(n: int, server_url: str, **settings: Any) -> dict[str, Any]:
    """The same benchmark on SQLite and on PostgreSQL (a scratch database on the server of
    ``server_url``), one after the other in this run; both results and PostgreSQL's ratios."""
    sqlite = await run_bench(n, **settings)
    with scratch_database(server_url, "provgw_bench") as url:
        postgres = await run_bench(n, database=url, **settings)
    pg_cpu = postgres.gateway_cpu_ms_per_order
    return {
        "sqlite": asdict(sqlite),
        "postgresql": asdict(postgres),
        "orders_per_s_ratio": round(postgres.orders_per_s / sqlite.orders_per_s, 3),
        "gateway_cpu_per_order_ratio": round(pg_cpu / sqlite.gateway_cpu_ms_per_order, 3),
    }


def machine_description() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def result_dict(result: BenchResult) -> dict[str, Any]:
    return asdict(result)
