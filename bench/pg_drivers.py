"""psycopg 3 (synchronous, as the store uses it; and async) against asyncpg, on the store's own
kind of work: short transactions of a few indexed single-row statements, one after another.

    .venv/bin/pip install asyncpg   # not a dependency of provgw: only this comparison uses it
    .venv/bin/python bench/pg_drivers.py [--url postgresql://postgres@127.0.0.1/postgres]
                                         [--jobs 2000] [--json]

Each driver runs ``--jobs`` transactions of (INSERT a row, UPDATE it, SELECT it by key) in a
scratch table of a scratch database, timed by the wall clock and by this process's CPU. The
statements are the same text; each driver prepares them on the server (psycopg after the
fifth use, asyncpg at once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

from gateway.store.postgresql import scratch_database

TABLE = "CREATE TABLE t (id BIGINT PRIMARY KEY, state TEXT NOT NULL, at DOUBLE PRECISION)"


def run_psycopg(url: str, jobs: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(jobs):
            conn.execute("BEGIN")
            conn.execute("INSERT INTO t VALUES (%s, 'sent', %s)", (i, time.time()))
            conn.execute("UPDATE t SET state='done' WHERE id=%s", (i,))
            conn.execute("SELECT state FROM t WHERE id=%s", (i,)).fetchone()
            conn.execute("COMMIT")


async def run_psycopg_async(url: str, jobs: int) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for i in range(jobs):
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO t VALUES (%s, 'sent', %s)", (i, time.time()))
            await conn.execute("UPDATE t SET state='done' WHERE id=%s", (i,))
            await (await conn.execute("SELECT state FROM t WHERE id=%s", (i,))).fetchone()
            await conn.execute("COMMIT")


async def run_asyncpg(url: str, jobs: int) -> None:
    import asyncpg  # type: ignore[import-not-found, import-untyped, unused-ignore]

    conn = await asyncpg.connect(url)
    try:
        for i in range(jobs):
            async with conn.transaction():
                await conn.execute("INSERT INTO t VALUES ($1, 'sent', $2)", i, time.time())
                await conn.execute("UPDATE t SET state='done' WHERE id=$1", i)
                await conn.fetchrow("SELECT state FROM t WHERE id=$1", i)
    finally:
        await conn.close()


def measure(
    url: str, jobs: int, work: Callable[[str, int], Awaitable[None] | None]
) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS t")
        conn.execute(TABLE)
    cpu0, t0 = time.process_time(), time.perf_counter()
    done = work(url, jobs)
    if done is not None:
        asyncio.run(done)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {
        "transactions_per_s": round(jobs / wall),
        "client_cpu_us_per_transaction": round(cpu / jobs * 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out = {}
    with scratch_database(args.url, "provgw_drivers") as url:
        out["psycopg (sync, as the store)"] = measure(url, args.jobs, run_psycopg)
        out["psycopg (async)"] = measure(url, args.jobs, run_psycopg_async)
        try:
            out["asyncpg"] = measure(url, args.jobs, run_asyncpg)
        except ImportError:
            out["asyncpg"] = {"error": "not installed (pip install asyncpg)"}
    if args.json:
        print(json.dumps(out))
    else:
        for name, figures in out.items():
            print(f"{name:30} {figures}")


if __name__ == "__main__":
    main()
