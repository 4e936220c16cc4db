"""`provgw bench bus`: orders over the MQTT order bus against the same gateway's direct intake.

One gateway (engine, SQLite store, real SSH to the HLR emulator in a process of its own, the
bus worker connected to a private Mosquitto with persistence) takes ``n`` open-account orders
directly (`Engine.submit`, as the REST API does) and then ``n`` others over the bus: an
upstream client publishes them (QoS 1, at most ``window`` in flight) to
``provgw/orders/OUT001`` and counts an order done when its terminal status arrives on
``provgw/status/{order_id}``. Both runs report orders/s and latency (direct: submitted →
terminal event; bus: published → terminal status received); the bus adds its latency on top.

The upstream client runs in the benchmark's process, so its CPU counts against the bus — a
conservative figure for a gateway whose senders are elsewhere.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mosquitto_process import MosquittoMissing, mosquitto
from rich.progress import Progress

from gateway.bench import _percentile, bench_order, measure_orders
from gateway.bus.client import TERMINAL, BusClient
from gateway.bus.connection import Endpoint
from gateway.bus.topics import STATUS_ALL
from gateway.config import BusConfig, RetryPolicy, load_config
from gateway.orders import ORDER_ADAPTER
from gateway.resources.demo import seed_demo
from gateway.runtime import (
    emulator_ne,
    hlr_emulator_process,
    running_gateway,
    settle_garbage_collector,
)


@dataclass
class BusBenchResult:
    orders: int
    window: int
    direct_orders_per_s: float
    bus_orders_per_s: float
    bus_vs_direct: float  # target ≥ 0.8
    direct_p50_ms: float
    direct_p99_ms: float
    bus_p50_ms: float
    bus_p99_ms: float
    added_p50_ms: float
    added_p99_ms: float
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
            config = load_config(None).model_copy(
                update={
                    "database": Path(tmp) / "bench.db",
                    "secret_key_file": Path(tmp) / "secret.key",
                    "max_concurrent_orders": window,
                    "retry": RetryPolicy(attempts=5, backoff_initial_s=0.01),
                    "network_elements": [emulator_ne(hlr, sessions=8)],
                    "bus": bus,
                }
            )
            direct_orders = [bench_order(i + 1, "4g-basic") for i in range(n)]
            bus_bodies = [
                ORDER_ADAPTER.dump_python(bench_order(n + i + 1, "4g-basic"), mode="json",
                                          context={"seal": str})
                for i in range(n)
            ]  # fmt: skip
            endpoint = Endpoint("127.0.0.1", broker.port, "bench-upstream", clean_start=True)
            async with (
                running_gateway(config, create_key=True) as engine,
                BusClient(endpoint) as client,
            ):
                await seed_demo(engine.store)
                await client.follow(STATUS_ALL)
                # Warm up both paths: SSH sessions logged in, the bus worker subscribed.
                await engine.submit(bench_order(2 * n + 1, "4g-basic"))
                warm = ORDER_ADAPTER.dump_python(
                    bench_order(2 * n + 2, "4g-basic"), mode="json", context={"seal": str}
                )
                await client.submit([warm], each=False)
                await client.wait([warm["order_id"]])
                settle_garbage_collector()
                direct = await measure_orders(engine, direct_orders, window, progress=progress)
                seconds, latencies, completed = await measure_bus(
                    client, bus_bodies, window, progress=progress
                )
    direct_rate = n / direct.seconds
    bus_rate = n / seconds
    d50, d99 = _percentile(direct.latencies, 0.5), _percentile(direct.latencies, 0.99)
    b50, b99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
    return BusBenchResult(
        orders=n,
        window=window,
        direct_orders_per_s=round(direct_rate, 1),
        bus_orders_per_s=round(bus_rate, 1),
        bus_vs_direct=round(bus_rate / direct_rate, 3),
        direct_p50_ms=_ms(d50),
        direct_p99_ms=_ms(d99),
        bus_p50_ms=_ms(b50),
        bus_p99_ms=_ms(b99),
        added_p50_ms=_ms(b50 - d50),
        added_p99_ms=_ms(b99 - d99),
        bus_completed=completed,
    )


__all__ = ["MosquittoMissing", "result_dict", "run_bus_bench"]


def result_dict(result: BusBenchResult) -> dict[str, Any]:
    return asdict(result)
