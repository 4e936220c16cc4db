"""`provgw bench osmo`: open-account orders into a real osmo-hlr, through the gateway and direct.

    .venv/bin/provgw bench osmo [-n 2000] [--rounds 3] [--window 64] [--json]

Benchmark code, not product code: it starts a private osmo-hlr (`osmo_hlr_process`, beside
this file) and speaks CTRL by hand, so it lives in the source checkout's bench/ directory and
`provgw bench osmo` loads it from there.

Three measurements against the same osmo-hlr:

* **direct** — osmo-hlr's own single-client CTRL rate: the very CTRL commands the gateway
  sends for one open account (the adapter's scripts, keys revealed), written on one blocking
  socket one at a time, each waiting for its answer. The thinnest client there is: no
  framework, no store, no retries.
* **pipelined** — osmo-hlr's ceiling, for reference: the same commands, ``window``
  subscribers' worth per write, so that osmo-hlr never waits for the client.
* **gateway** — the same kind of orders through the whole gateway: engine, durable SQLite
  store, planner, the osmo-hlr-ctrl adapter pipelining on one CTRL connection, ``window``
  orders in flight.

Each round runs the three in turn, so that load from elsewhere on the machine (other
engineers' work on its two cores) falls on all of them alike; each uses fresh IMSIs and
numbers. Reported per round: subscribers (orders) per second, the gateway/direct ratio, order
latency, and CPU per order in the gateway process and in osmo-hlr.
"""

from __future__ import annotations

import os
import socket
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from osmo_hlr_process import OsmoHlrProcess

from adapters.osmo_hlr import ipa
from adapters.osmo_hlr.ctrl import parse_reply
from adapters.osmo_hlr.mapping import script_for
from gateway.bench import bench_order, measure_orders
from gateway.config import GatewayConfig, OsmoHlrCtrlConfig, RetryPolicy, load_config
from gateway.engine import Engine
from gateway.events import EventHub
from gateway.network import build_targets, close_targets
from gateway.operations import CARD_OPERATIONS
from gateway.orders import OpenAccount
from gateway.planner import plan_order
from gateway.routing import Router
from gateway.store import SqliteStore
from gateway.vault import Vault

PRODUCT = "4g-basic"
_ROUND_SPAN = 10_000_000  # subscribers numbered apart per round and side (up to 30 rounds)


@dataclass
class RoundResult:
    direct_subscribers_per_s: float
    direct_commands_per_s: float
    pipelined_subscribers_per_s: float
    gateway_orders_per_s: float
    ratio: float
    gateway_latency_p50_ms: float
    gateway_latency_p99_ms: float
    gateway_cpu_ms_per_order: float
    osmo_cpu_ms_per_subscriber_direct: float
    osmo_cpu_ms_per_order_gateway: float
    direct_errors: int
    gateway_completed: int


@dataclass
class OsmoBenchResult:
    orders: int
    window: int
    commands_per_order: int
    rounds: list[RoundResult] = field(default_factory=list)

    @property
    def median_ratio(self) -> float:
        return round(statistics.median(r.ratio for r in self.rounds), 3)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _orders(first: int, n: int) -> list[OpenAccount]:
    orders = []
    for i in range(first, first + n):
        order = bench_order(i, PRODUCT)
        assert isinstance(order, OpenAccount)
        orders.append(order)
    return orders


def open_account_wire(order: OpenAccount, config: GatewayConfig) -> list[bytes]:
    """The CTRL frames the gateway sends for ``order``: the planner's own plan, request id 1 —
    a one-at-a-time client may reuse it."""
    plan = plan_order(order, {order.msisdn: None}, config, Router(config), datetime.now(UTC))
    frames = []
    for step in plan.steps:
        assert not isinstance(step.op, CARD_OPERATIONS), "the bench orders write no card"
        frames += [a.command.wire(1) for stage in script_for(step.op) for a in stage.actions]
    return frames


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("osmo-hlr closed the CTRL connection")
        data += chunk
    return bytes(data)


def _answer_failed(sock: socket.socket) -> bool:
    header = _recv_exactly(sock, ipa.HEADER_LEN)
    body = _recv_exactly(sock, int.from_bytes(header[:2], "big"))
    reply = parse_reply(body[1:].decode("ascii", "replace"))
    return reply is None or reply.kind == "ERROR"


def run_direct(
    hlr: OsmoHlrProcess, frames: list[list[bytes]], *, batch: int = 1
) -> tuple[float, int]:
    """Send the subscribers' frames, ``batch`` subscribers' worth in one write, and read all
    their answers before the next write; (seconds, errors). ``batch=1`` with one frame per
    write is the single client that waits for every answer."""
    errors = 0
    with socket.create_connection((hlr.address, hlr.ctrl_port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.perf_counter()
        if batch == 1:
            for frame in (f for subscriber in frames for f in subscriber):
                sock.sendall(frame)
                errors += _answer_failed(sock)
        else:
            for at in range(0, len(frames), batch):
                burst = [f for subscriber in frames[at : at + batch] for f in subscriber]
                sock.sendall(b"".join(burst))
                errors += sum(_answer_failed(sock) for _ in burst)
        return time.perf_counter() - started, errors


async def run_osmo_bench(n: int, *, window: int, rounds: int) -> OsmoBenchResult:
    with (
        tempfile.TemporaryDirectory(prefix="provgw-bench-osmo-") as tmp,
        OsmoHlrProcess(Path(tmp) / "osmo-hlr") as hlr,
    ):
        ne = OsmoHlrCtrlConfig(
            name="osmo1",
            host=hlr.address,
            port=hlr.ctrl_port,
            gsup_port=hlr.gsup_port,
        )
        config: GatewayConfig = load_config(None).model_copy(
            update={
                "database": Path(tmp) / "bench.db",
                "max_concurrent_orders": window,
                "retry": RetryPolicy(attempts=5, backoff_initial_s=0.01),
                "network_elements": [ne],
            }
        )
        targets = build_targets(config)
        try:
            async with SqliteStore(config.database, Vault(os.urandom(32))) as store:
                engine = Engine(store, config, targets.network, events=EventHub(100_000))
                await engine.start()
                try:
                    return await _rounds(engine, hlr, config, n, window, rounds)
                finally:
                    await engine.stop()
        finally:
            await close_targets(targets)


async def _rounds(
    engine: Engine,
    hlr: OsmoHlrProcess,
    config: GatewayConfig,
    n: int,
    window: int,
    rounds: int,
) -> OsmoBenchResult:
    # Warm up: the CTRL connection opens and the code paths run once before any clock starts.
    await measure_orders(engine, _orders(1, 10), window)
    sample = open_account_wire(_orders(1, 1)[0], config)
    result = OsmoBenchResult(orders=n, window=window, commands_per_order=len(sample))
    for r in range(rounds):
        base = (3 * r + 1) * _ROUND_SPAN
        frames = [open_account_wire(o, config) for o in _orders(base, n)]
        cpu0 = _cpu_seconds(hlr.pid)
        direct_s, errors = run_direct(hlr, frames)
        direct_cpu = _cpu_seconds(hlr.pid) - cpu0
        frames = [open_account_wire(o, config) for o in _orders(base + _ROUND_SPAN, n)]
        pipelined_s, pipelined_errors = run_direct(hlr, frames, batch=window)

        orders = _orders(base + 2 * _ROUND_SPAN, n)
        cpu0, gw0 = _cpu_seconds(hlr.pid), time.process_time()
        run = await measure_orders(engine, orders, window)
        gateway_s, latencies, completed = run.seconds, run.latencies, run.completed
        gateway_cpu = time.process_time() - gw0
        osmo_cpu = _cpu_seconds(hlr.pid) - cpu0

        direct_rate, gateway_rate = n / direct_s, n / gateway_s
        result.rounds.append(
            RoundResult(
                direct_subscribers_per_s=round(direct_rate, 1),
                direct_commands_per_s=round(direct_rate * len(sample), 1),
                pipelined_subscribers_per_s=round(n / pipelined_s, 1),
                gateway_orders_per_s=round(gateway_rate, 1),
                ratio=round(gateway_rate / direct_rate, 3),
                gateway_latency_p50_ms=round(_percentile(latencies, 0.5) * 1000, 2),
                gateway_latency_p99_ms=round(_percentile(latencies, 0.99) * 1000, 2),
                gateway_cpu_ms_per_order=round(gateway_cpu / n * 1000, 3),
                osmo_cpu_ms_per_subscriber_direct=round(direct_cpu / n * 1000, 3),
                osmo_cpu_ms_per_order_gateway=round(osmo_cpu / n * 1000, 3),
                direct_errors=errors + pipelined_errors,
                gateway_completed=completed,
            )
        )
    return result


def result_dict(result: OsmoBenchResult) -> dict[str, Any]:
    return asdict(result) | {"median_ratio": result.median_ratio}
