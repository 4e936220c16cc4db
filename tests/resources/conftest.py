"""A temporary store, an injected clock and the resource registers over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from gateway.resources.access import Role
from gateway.resources.demo import seed_demo
from gateway.resources.operators import OperatorIn
from gateway.resources.passwords import ScryptCost
from gateway.resources.service import Resources
from gateway.store import SqliteStore
from gateway.vault import Vault
from tests.integration.conftest import served_app as served

__all__ = ["served"]  # the resource tests' real HTTP server

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


async def add_operator(
    res: Resources, operator: str, role: Role, password: str, channel: str
) -> None:
    """One more operator on ``channel`` (job number: the id in capitals)."""
    await res.operators.create(
        OperatorIn(
            id=operator,
            job_number=operator.upper(),
            name=operator,
            role=role,
            password=SecretStr(password),
            channels=[channel],
        ),
        by="admin1",
    )
