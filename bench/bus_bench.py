"""`provgw bench bus`: orders over the MQTT order bus against the same gateway's direct intake.

One gateway (engine, SQLite store, real SSH to the HLR emulator in a process of its own, the
bus worker connected to a private Mosquitto with persistence) takes ``n`` open-account orders
directly (`Engine.submit`, as the REST API does) and then ``n`` others over the bus: an
upstream client publishes them (QoS 1, at most ``window`` in flight) to
``provgw/orders/OUT001`` and counts an order done when its terminal status arrives on
``provgw/status/{order_id}``. Both runs report orders/s and latency (direct: submitted →
terminal event; bus: published → terminal status received); the bus adds its latency on top.

The upstream client is a process of its own (`upstream`, this module run as a script), as an
upstream system is: its CPU is not the gateway's. It shares the machine's cores with the
gateway, the broker and the HLR emulator, so it still weighs on the figure.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mosquitto_process import MosquittoMissing, mosquitto
from rich.progress import Progress

from gateway.bench import _percentile, bench_config, bench_order, measure_orders
from gateway.bus.client import TERMINAL, BusClient
from gateway.bus.connection import Endpoint
from gateway.bus.topics import STATUS_ALL
from gateway.config import BusConfig, RetryPolicy
from gateway.orders import ORDER_ADAPTER
from gateway.resources.demo import seed_demo
from gateway.runtime import (
    emulator_ne,
    hlr_emulator_process,
    running_gateway,
    settle_garbage_collector,
)

SINGLE = 200
"""Orders sent one at a time each way, for the latency the bus adds to an unloaded gateway."""
ROUNDS = 5
"""Direct and bus runs alternate this many times (each a fifth of the orders)."""


@dataclass
class BusBenchResult:
    orders: int
    window: int
    direct_orders_per_s: float
    bus_orders_per_s: float
    bus_vs_direct: float  # target ≥ 0.8
    loaded_direct_p50_ms: float  # with ``window`` in flight: mostly time queued
    loaded_bus_p50_ms: float
    loaded_bus_p99_ms: float
    single_direct_p50_ms: float  # one order at a time
    single_direct_p99_ms: float
    single_bus_p50_ms: float
    single_bus_p99_ms: float
    added_p50_ms: float  # the bus's share of one order's latency
    added_p99_ms: float
    gateway_cpu_ms_per_order_direct: float  # the gateway process's CPU (all its threads)
    gateway_cpu_ms_per_order_bus: float
    bus_completed: int


async def measure_bus(
    client: BusClient, bodies: list[dict[str, Any]], window: int, *, progress: bool
) -> tuple[float, list[float], int]:
    """Publish ``bodies`` with at most ``window`` unfinished; (seconds, latencies, completed)."""
    started: dict[str, float] = {}
    latencies: list[float] = []
    completed = 0
    slots = asyncio.Semaphore(window)
    all_done = asyncio.Event()

    def status(_topic: str, body: dict[str, Any]) -> None:
        nonlocal completed
        order_id = body.get("order_id")
        if body.get("state") not in TERMINAL or order_id not in started:
            return
        latencies.append(time.perf_counter() - started.pop(order_id))
        completed += body["state"] == "completed"
        slots.release()
        if len(latencies) == len(bodies):
            all_done.set()

    client.on_status = status
    t0 = time.perf_counter()
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("orders over the bus", total=len(bodies))
        for body in bodies:
            await slots.acquire()
            started[body["order_id"]] = time.perf_counter()
            client.publish(body)
            bar.update(task, completed=len(latencies))
        await all_done.wait()
    return time.perf_counter() - t0, latencies, completed


def order_body(i: int) -> dict[str, Any]:
    """`bench_order` as the JSON an upstream system publishes (its keys in the clear)."""
    return dict(
        ORDER_ADAPTER.dump_python(bench_order(i, "4g-basic"), mode="json", context={"seal": str})
    )


Phase = tuple[float, list[float], int]
"""(seconds, latencies, completed) of one measured run."""


async def _upstream_process(port: int, phases: list[tuple[int, int, int]]) -> list[Phase]:
    """Run `upstream` in a process of its own for ``phases`` (first order, count, window)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, json.dumps({"port": port, "phases": phases}),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"the upstream process failed ({proc.returncode})")
    return [(r[0], r[1], r[2]) for r in json.loads(out)]


async def upstream(port: int, phases: list[tuple[int, int, int]]) -> list[Phase]:
    """The child process's work: each phase's orders over the bus, measured."""
    endpoint = Endpoint("127.0.0.1", port, "bench-upstream", clean_start=True)
    results = []
    async with BusClient(endpoint) as client:
        await client.follow(STATUS_ALL)
        for first, count, window in phases:
            bodies = [order_body(first + i) for i in range(count)]
            results.append(await measure_bus(client, bodies, window, progress=False))
    return results


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


async def run_bus_bench(n: int, *, window: int = 256, progress: bool = True) -> BusBenchResult:
    with tempfile.TemporaryDirectory(prefix="provgw-bench-bus-") as tmp:
        async with (
            mosquitto(Path(tmp) / "broker") as broker,
            hlr_emulator_process() as hlr,
        ):
            bus = BusConfig(
                url=broker.url,
                client_id="provgw-bench",
                receive_maximum=window,
                reconnect=RetryPolicy(backoff_initial_s=0.05, backoff_max_s=1.0),
            )
            config = bench_config(Path(tmp), emulator_ne(hlr, sessions=8), window, bus=bus)
            m = min(SINGLE, n)
            endpoint = Endpoint("127.0.0.1", broker.port, "bench-warm-up", clean_start=True)
            async with running_gateway(config, create_key=True) as engine:
                await seed_demo(engine.store)
                # Warm up both paths: SSH sessions logged in, the bus worker subscribed.
                await engine.submit(bench_order(2 * n + 2 * m + 1, "4g-basic"))
                async with BusClient(endpoint) as client:
                    await client.submit([order_body(2 * n + 2 * m + 2)])
                    await client.wait([f"bench-{2 * n + 2 * m + 2}"])
                settle_garbage_collector()
                # Direct and bus alternate in rounds, so that a change in the shared machine's
                # load weighs on both alike.
                direct_s, bus_s, direct_cpu, bus_cpu, completed = 0.0, 0.0, 0.0, 0.0, 0
                direct_lat: list[float] = []
                latencies: list[float] = []
                chunk = -(-n // ROUNDS)
                for first in range(0, n, chunk):
                    count = min(chunk, n - first)
                    run = await measure_orders(
                        engine, [bench_order(1 + first + i, "4g-basic") for i in range(count)],
                        window, progress=progress,
                    )  # fmt: skip
                    direct_s += run.seconds
                    direct_cpu += run.cpu_s
                    cpu0 = time.process_time()
                    direct_lat += run.latencies
                    ((seconds, lat, done),) = await _upstream_process(
                        broker.port, [(n + 1 + first, count, window)]
                    )
                    bus_cpu += time.process_time() - cpu0
                    bus_s += seconds
                    latencies += lat
                    completed += done
                single = await measure_orders(
                    engine, [bench_order(2 * n + 1 + i, "4g-basic") for i in range(m)], 1
                )
                ((_, single_bus, _),) = await _upstream_process(
                    broker.port, [(2 * n + m + 1, m, 1)]
                )
    bus_rate = n / bus_s
    direct_rate = n / direct_s
    s50, s99 = _percentile(single.latencies, 0.5), _percentile(single.latencies, 0.99)
    b50, b99 = _percentile(single_bus, 0.5), _percentile(single_bus, 0.99)
    return BusBenchResult(
        orders=n,
        window=window,
        direct_orders_per_s=round(direct_rate, 1),
        bus_orders_per_s=round(bus_rate, 1),
        bus_vs_direct=round(bus_rate / direct_rate, 3),
        loaded_direct_p50_ms=_ms(_percentile(direct_lat, 0.5)),
        loaded_bus_p50_ms=_ms(_percentile(latencies, 0.5)),
        loaded_bus_p99_ms=_ms(_percentile(latencies, 0.99)),
        single_direct_p50_ms=_ms(s50),
        single_direct_p99_ms=_ms(s99),
        single_bus_p50_ms=_ms(b50),
        single_bus_p99_ms=_ms(b99),
        added_p50_ms=_ms(b50 - s50),
        added_p99_ms=_ms(b99 - s99),
        gateway_cpu_ms_per_order_direct=round(direct_cpu / n * 1000, 3),
        gateway_cpu_ms_per_order_bus=round(bus_cpu / n * 1000, 3),
        bus_completed=completed,
    )


__all__ = ["MosquittoMissing", "result_dict", "run_bus_bench"]


def result_dict(result: BusBenchResult) -> dict[str, Any]:
    return asdict(result)


if __name__ == "__main__":
    args = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(upstream(args["port"], args["phases"]))))
