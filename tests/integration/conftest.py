from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from emulators.hlr.server import HlrEmulator
from emulators.hlr.session import Account
from gateway.api import create_app
from gateway.config import GatewayConfig, HuaweiMmlConfig, RetryPolicy, load_config
from gateway.engine import Engine
from gateway.network import build_targets, close_targets
from gateway.store import SqliteStore
from gateway.vault import Vault
from tests.fixtures.postgresql import postgres_url  # noqa: F401 - a fixture


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


@contextlib.asynccontextmanager
async def served(engine: Engine) -> AsyncIterator[str]:
    """The gateway's API on a real HTTP server on a free port; its base URL."""
    async with served_app(create_app(engine)) as url:
        yield url


@contextlib.asynccontextmanager
async def served_app(app: FastAPI) -> AsyncIterator[str]:
    """``app`` on a real HTTP server on a free port; its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving
