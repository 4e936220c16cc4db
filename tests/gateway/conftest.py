from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.config import GatewayConfig, HuaweiMmlConfig, RetryPolicy, load_config
from gateway.store import OrderStore, store_for
from gateway.store.postgresql import scratch_database
from gateway.vault import Vault
from tests.fixtures.postgresql import ADMIN_URL, require_server

KEY = bytes(range(32))


@pytest.fixture
def config() -> GatewayConfig:
    base = load_config(None)
    return base.model_copy(
        update={
            "network_elements": [HuaweiMmlConfig(name="hlr1", password="x")],
            "retry": RetryPolicy(attempts=3, backoff_initial_s=0, backoff_max_s=0),
            "cancel_hold_days": 0,
        }
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | Path]:
    """Each back end in turn: a SQLite file, a PostgreSQL database of the test's own."""
    if request.param == "sqlite":
        yield tmp_path / "provgw.db"
        return
    require_server()
    with scratch_database(ADMIN_URL, "provgw_test") as url:
        yield url


@pytest.fixture
async def store(database: str | Path) -> AsyncIterator[OrderStore]:
    async with store_for(database, Vault(KEY)) as s:
        yield s
