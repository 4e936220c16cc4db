"""A temporary store, an injected clock and the resource registers over them."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from fastapi import FastAPI

from gateway.resources.demo import seed_demo
from gateway.resources.passwords import ScryptCost
from gateway.resources.service import Resources
from gateway.store import SqliteStore
from gateway.vault import Vault

KEY = bytes(range(32))
# Real scrypt at a test-sized cost: the OWASP cost (half a second a hash) is the default
# everywhere else, and test_passwords checks that default.
FAST = ScryptCost(n=2**8, r=8, p=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(text: str) -> float:
    """``"2026-11-23 10:00"`` in Beijing time, as a Unix time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI).timestamp()


class Clock:
    """The time the code under test sees; tests move it instead of sleeping."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock(shanghai("2026-11-23 10:00"))  # a Monday morning


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(tmp_path / "provgw.db", Vault(KEY)) as s:
        yield s


@pytest.fixture
def res(store: SqliteStore, clock: Clock) -> Resources:
    return Resources.open(store, clock=clock, cost=FAST)


@pytest.fixture
async def demo(store: SqliteStore, clock: Clock, res: Resources) -> Resources:
    """The demo data: OUT001 (Beijing/Dongcheng, open 24h), clerk1/engineer1/admin1, two
    number blocks, fee rules, 20 blank cards."""
    await seed_demo(store, clock=clock, cost=FAST)
    return res


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """``app`` behind a real HTTP server on a free port: its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()
