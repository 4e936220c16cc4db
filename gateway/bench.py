"""`provgw bench orders`: open-account orders end to end, measured.

Real parts only: the durable SQLite store, the engine, real SSH to the HLR emulator running as
a separate process. Reports orders/s, NE commands/s, order latency percentiles (accepted →
terminal) and CPU per order in the gateway process and in the emulator.
"""

from __future__ import annotations

import asyncio
import os
import resource
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.progress import Progress

from gateway.config import GatewayConfig, RetryPolicy, load_config
from gateway.events import EventHub
from gateway.identifiers import luhn_check_digit
from gateway.orders import Order, parse_order
from gateway.resources.demo import seed_demo
from gateway.runtime import (
    emulator_ne,
    hlr_emulator_process,
    running_gateway,
    settle_garbage_collector,
)

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


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def run_bench(
    n: int,
    *,
    sessions: int,
    ne_latency_ms: float,
    window: int,
    product: str = "4g-basic",
    show_progress: bool = True,
    access_control: bool = True,
) -> BenchResult:
    with tempfile.TemporaryDirectory(prefix="provgw-bench-") as tmp:
        latency_args = ("--latency-ms", str(ne_latency_ms)) if ne_latency_ms else ()
        async with hlr_emulator_process(*latency_args) as hlr:
            base = load_config(None)
            config: GatewayConfig = base.model_copy(
                update={
                    "database": Path(tmp) / "bench.db",
                    "secret_key_file": Path(tmp) / "secret.key",
                    "max_concurrent_orders": window,
                    "retry": RetryPolicy(attempts=5, backoff_initial_s=0.01),
                    "network_elements": [emulator_ne(hlr, sessions=sessions)],
                    "access_control": access_control,
                }
            )
            orders = [bench_order(i + 1, product) for i in range(n)]
            async with running_gateway(config, create_key=True) as engine:
                # Intake as in production: channel, operator and opening hours are checked.
                await seed_demo(engine.store)
                # Warm up: SSH sessions open and log in before the clock starts.
                warm = bench_order(n + 1, product)
                await engine.submit(warm)
                await engine.drain()
                settle_garbage_collector()  # as `provgw serve` does once it is up
                events: EventHub = engine.events
                started: dict[str, float] = {}
                latencies: list[float] = []
                completed = 0
                cpu0 = time.process_time()
                emu_cpu0 = _process_cpu_s(hlr.process.pid)
                t0 = time.perf_counter()
                slots = asyncio.Semaphore(window)
                finished = asyncio.Event()

                async with events.subscribe() as queue:

                    async def collect() -> None:
                        nonlocal completed
                        while len(latencies) < n:
                            event = await queue.get()
                            if event["state"] in TERMINAL and event["order_id"] in started:
                                latencies.append(time.perf_counter() - started[event["order_id"]])
                                completed += event["state"] == "completed"
                                slots.release()
                                progress.advance(task)
                        finished.set()

                    with Progress(disable=not show_progress, transient=True) as progress:
                        task = progress.add_task("open-account orders", total=n)
                        collector = asyncio.create_task(collect())
                        # Intake is concurrent, as from many API clients: accepts that
                        # arrive together share one commit.
                        submissions = []
                        for order in orders:
                            await slots.acquire()
                            started[order.order_id] = time.perf_counter()
                            submissions.append(asyncio.create_task(engine.submit(order)))
                        await asyncio.gather(*submissions)
                        await finished.wait()
                        await collector
                elapsed = time.perf_counter() - t0
                cpu = time.process_time() - cpu0
                emu_cpu = _process_cpu_s(hlr.process.pid) - emu_cpu0
                rows = await engine.store.counts()
                assert sum(rows.values()) == n + 1
    commands = n * (3 if product != "voice-only" else 2)
    bound = sessions / (ne_latency_ms / 1000) / (commands / n) if ne_latency_ms else None
    return BenchResult(
        orders=n,
        completed=completed,
        seconds=round(elapsed, 3),
        orders_per_s=round(n / elapsed, 1),
        ne_commands_per_s=round(commands / elapsed, 1),
        latency_p50_ms=round(_percentile(latencies, 0.5) * 1000, 2),
        latency_p99_ms=round(_percentile(latencies, 0.99) * 1000, 2),
        gateway_cpu_ms_per_order=round(cpu / n * 1000, 3),
        emulator_cpu_ms_per_order=round(emu_cpu / n * 1000, 3),
        sessions=sessions,
        access_control=access_control,
        ne_latency_ms=ne_latency_ms,
        bound_orders_per_s=round(bound, 1) if bound else None,
    )


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
