from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emulators.hlr.server import HlrEmulator
from emulators.hlr.session import Account
from gateway.config import GatewayConfig, HuaweiMmlConfig, RetryPolicy, load_config
from gateway.engine import Engine
from gateway.network import build_targets, close_targets
from gateway.store import SqliteStore
from gateway.vault import Vault


@pytest.fixture
async def hlr() -> AsyncIterator[HlrEmulator]:
    async with HlrEmulator(port=0, users={"provgw": Account("provgw-secret", admin=True)}) as emu:
        yield emu


@pytest.fixture
def ssh_config(hlr: HlrEmulator, tmp_path: Path) -> GatewayConfig:
    ne = HuaweiMmlConfig(
        name="hlr1",
        port=hlr.port,
        username="provgw",
        password="provgw-secret",  # type: ignore[arg-type]
        sessions=4,
        host_key_policy="accept-any",
        command_timeout_s=5,
    )
    return load_config(None).model_copy(
        update={
            "network_elements": [ne],
            "retry": RetryPolicy(attempts=3, backoff_initial_s=0.01, backoff_max_s=0.1),
            "cancel_hold_days": 0,
            "database": tmp_path / "provgw.db",
            # A lab: orders need no operator login here; test_api checks the login itself.
            "access_control": False,
        }
    )


@pytest.fixture
async def engine(ssh_config: GatewayConfig) -> AsyncIterator[Engine]:
    targets = build_targets(ssh_config)
    async with SqliteStore(ssh_config.database, Vault(bytes(32))) as store:
        eng = Engine(store, ssh_config, targets.network, stations=targets.stations)
        await eng.start()
        yield eng
        await eng.stop()
    await close_targets(targets)
