from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.config import GatewayConfig, HuaweiMmlConfig, RetryPolicy, load_config
from gateway.store import SqliteStore
from gateway.vault import Vault

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


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    async with SqliteStore(tmp_path / "provgw.db", Vault(KEY)) as s:
        yield s
