"""Assembling a running gateway: vault, store, network elements, engine — and the demo's
emulator, which runs as a separate process so that the gateway never imports the emulators."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from gateway.config import GatewayConfig, NetworkElementConfig
from gateway.engine import Engine
from gateway.network import build_targets, close_targets
from gateway.store import SqliteStore
from gateway.vault import Vault

DEMO_USER = "provgw"
DEMO_PASSWORD = "provgw"  # noqa: S105 - the demo emulator's built-in account, loopback only


@contextlib.asynccontextmanager
async def running_gateway(
    config: GatewayConfig, *, create_key: bool = False, owner: str | None = None
) -> AsyncIterator[Engine]:
    """A started engine over the configured store and NEs; stopped cleanly on exit."""
    vault = Vault.from_environment(config.secret_key_file, create=create_key)
    targets = build_targets(config)
    try:
        async with SqliteStore(config.database, vault) as store:
            engine = Engine(store, config, targets.network, stations=targets.stations, owner=owner)
            await engine.start()
            try:
                yield engine
            finally:
                await engine.stop()
    finally:
        await close_targets(targets)


@dataclass
class EmulatorProcess:
    process: asyncio.subprocess.Process
    host: str
    port: int
    ne: str


@contextlib.asynccontextmanager
async def hlr_emulator_process(
    *extra_args: str, state_file: Path | None = None, host: str = "127.0.0.1"
) -> AsyncIterator[EmulatorProcess]:
    """Start ``python -m emulators.hlr`` on a free port and wait for its listening line."""
    args = [
        sys.executable,
        "-m",
        "emulators.hlr",
        "--json",
        "--host",
        host,
        "--port",
        "0",
        "--user",
        DEMO_USER,
        "--password",
        DEMO_PASSWORD,
        *extra_args,
    ]
    if state_file is not None:
        args += ["--state", str(state_file)]
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if not line:
            raise RuntimeError(f"the HLR emulator exited with {await proc.wait()} before listening")
        event = json.loads(line)
        yield EmulatorProcess(proc, event["host"], int(event["port"]), event.get("ne", "HLR"))
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def emulator_ne(
    emulator: EmulatorProcess, name: str = "hlr1", sessions: int = 4
) -> NetworkElementConfig:
    """The NE configuration that reaches a local emulator with its built-in account."""
    return NetworkElementConfig(
        name=name,
        host=emulator.host,
        port=emulator.port,
        username=DEMO_USER,
        password=DEMO_PASSWORD,
        sessions=sessions,
        host_key_policy="accept-any",
    )
