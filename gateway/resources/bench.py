"""`provgw bench numbers` and `provgw bench sims`: bulk stock-in, measured; `provgw bench
access`: what the access policy costs a request.

Both run against a fresh SQLite store in a temporary directory, as the gateway does (WAL, the
store's group commit, the vault sealing card secrets). Besides the seconds per import they
report the longest time the event loop was not serving other work (``loop_stall_ms``), since
an import runs inside a live gateway.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from gateway.identifiers import luhn_check_digit
from gateway.resources.number_pool import NumberPool
from gateway.resources.numbers import BlockIn
from gateway.resources.sim_stock import SimStock
from gateway.resources.transport_keys import TransportKeys
from gateway.store import SqliteStore, channels, operators
from gateway.vault import Vault

T = TypeVar("T")


def make_vendor_file(count: int, keys: TransportKeys, *, key_index: int = 1) -> str:
    """A vendor file of ``count`` cards in the extended form, each with a random Ki (encrypted
    under transport key ``key_index``) and OPc — what a vendor would deliver."""
    kis = keys.encrypt(key_index, [secrets.token_bytes(16) for _ in range(count)])
    lines = [f"BENCH{count} 20261121T120000 {count} usim-4g 1 {key_index} 0"]
    for i, ki in enumerate(kis):
        body = f"898602{i:012d}"
        lines.append(
            f"46002{i:010d} {body}{luhn_check_digit(body)} 1234 12345678 5678 87654321"
            f" {1 << (i % 10):04x} {ki.hex()} {secrets.token_hex(16)} {10000000 + i}"
        )
    return "\n".join(lines) + "\n"


@asynccontextmanager
async def _store() -> AsyncIterator[SqliteStore]:
    with tempfile.TemporaryDirectory(prefix="provgw-bench-") as tmp:
        async with SqliteStore(Path(tmp) / "bench.db", Vault(secrets.token_bytes(32))) as store:
            yield store


async def _timed(work: Callable[[], Awaitable[T]]) -> tuple[T, float, float]:
    """``work``'s result, its seconds, and the longest gap between event-loop turns meanwhile."""
    stall = 0.0
    done = False

    async def ticker() -> None:
        nonlocal stall
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0)
            now = time.perf_counter()
            stall = max(stall, now - last)
            last = now

    tick = asyncio.create_task(ticker())
    start = time.perf_counter()
    try:
        result = await work()
    finally:
        elapsed = time.perf_counter() - start
        done = True
        await tick
    return result, elapsed, stall


async def bench_numbers(count: int) -> dict[str, Any]:
    async with _store() as store:
        pool = NumberPool(store)
        first = 13900000000
        block = BlockIn(first=str(first), last=str(first + count - 1))
        imported, seconds, stall = await _timed(lambda: pool.import_block(block, by="bench"))
        start = time.perf_counter()
        found = await pool.search(pattern="139****8888", available=True, limit=1000)
        search_ms = (time.perf_counter() - start) * 1000
        await pool.change_settings({"max_holds_per_operator": 1000}, by="bench")
        wanted = [str(first + i) for i in range(0, min(count, 100_000), max(1, count // 1000))]
        start = time.perf_counter()
        await asyncio.gather(*(pool.hold(m, "bench", "BENCH") for m in wanted))
        holds_s = time.perf_counter() - start
    return {
        "numbers": imported,
        "import_s": round(seconds, 2),
        "numbers_per_s": round(imported / seconds),
        "loop_stall_ms": round(stall * 1000),
        "mask_search_ms": round(search_ms, 1),
        "mask_matches": len(found),
        "concurrent_holds": len(wanted),
        "holds_per_s": round(len(wanted) / holds_s),
    }


async def bench_sims(count: int) -> dict[str, Any]:
    keys = TransportKeys({1: secrets.token_bytes(16)})
    text = make_vendor_file(count, keys)
    async with _store() as store:
        stock = SimStock(store)
        result, seconds, stall = await _timed(
            lambda: stock.import_vendor_file(text, by="bench", keys=keys)
        )
    return {
        "cards": result.cards,
        "file_mib": round(len(text) / 2**20, 1),
        "import_s": round(seconds, 2),
        "cards_per_s": round(result.cards / seconds),
        "loop_stall_ms": round(stall * 1000),
    }


async def bench_access(count: int) -> dict[str, Any]:
    """The policy alone (`policy.check`, operator and channel in hand) and as each request
    pays it (`policy.decide`: operator's area and channel read in one store job)."""
    from gateway.resources.demo import DEMO_CHANNEL, seed_demo
    from gateway.resources.passwords import ScryptCost
    from gateway.resources.policy import READ, check, decide

    async with _store() as store:
        await seed_demo(store, cost=ScryptCost(n=2**8, r=8, p=1))  # logins are not measured
        now = time.time()
        clerk, channel = await store.run(
            lambda tx: (operators.find(tx, "clerk1"), channels.find(tx, DEMO_CHANNEL))
        )
        assert clerk is not None and channel is not None
        start = time.perf_counter()
        for _ in range(count * 20):
            check(clerk, READ, channel, now)
        check_s = (time.perf_counter() - start) / (count * 20)
        start = time.perf_counter()
        for _ in range(count):
            assert (await decide(store, clerk, DEMO_CHANNEL, READ, now)).allowed
        decide_s = (time.perf_counter() - start) / count
    return {
        "check_us": round(check_s * 1e6, 2),
        "decide_us": round(decide_s * 1e6, 1),
        "decisions": count,
    }


def _report(result: dict[str, Any], as_json: bool) -> None:
    import json

    from gateway.bench import machine_description

    out = result | {"machine": machine_description(), "date": time.strftime("%Y-%m-%d")}
    if as_json:
        click.echo(json.dumps(out))
        return
    for key, value in out.items():
        click.echo(f"{key:20} {value}")


@click.command("numbers")
@click.option("-n", "count", default=100_000, show_default=True, help="Numbers in the block.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def numbers_bench(count: int, as_json: bool) -> None:
    """Import one block of numbers into a fresh store; then a mask search and concurrent
    holds on it."""
    _report(asyncio.run(bench_numbers(count)), as_json)


@click.command("sims")
@click.option("-n", "count", default=100_000, show_default=True, help="Cards in the vendor file.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def sims_bench(count: int, as_json: bool) -> None:
    """Import a vendor file (Ki under a transport key, OPc, PIN/PUK/ADM1) into a fresh store."""
    _report(asyncio.run(bench_sims(count)), as_json)


@click.command("access")
@click.option("-n", "count", default=5_000, show_default=True, help="Requests decided.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def access_bench(count: int, as_json: bool) -> None:
    """The access check per request: the policy alone, and with its store lookup."""
    _report(asyncio.run(bench_access(count)), as_json)


BENCH_COMMANDS: list[click.Command] = [numbers_bench, sims_bench, access_bench]
