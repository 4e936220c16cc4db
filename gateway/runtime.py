"""Assembling a running gateway: vault, store, network elements, engine — and the demo's
other parts (the HLR emulator, the emulated card reader, the card agent), each a separate
process so that the gateway never imports the emulators."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from gateway.bus.worker import bus_if_configured
from gateway.config import GatewayConfig, HuaweiMmlConfig, NeSnmpConfig, SmscConfig
from gateway.counter import Counter
from gateway.engine import Engine
from gateway.monitor import ProbeMonitor
from gateway.network import (
    MoHandler,
    build_notices,
    build_snmp_manager,
    build_targets,
    close_targets,
)
from gateway.ota_cards import OtaCards
from gateway.receipts import ReceiptBook
from gateway.resources.guard import make_guard
from gateway.resources.service import Resources
from gateway.store import store_for
from gateway.vault import Vault

DEMO_USER = "provgw"
DEMO_PASSWORD = "provgw"  # noqa: S105 - the demo emulator's built-in account, loopback only


@contextlib.asynccontextmanager
async def running_gateway(
    config: GatewayConfig,
    *,
    create_key: bool = False,
    owner: str | None = None,
    mobile_originated: MoHandler | None = None,
) -> AsyncIterator[Engine]:
    """A started engine over the configured store and NEs; stopped cleanly on exit.

    ``mobile_originated`` takes what customers text to the SMS centre's service numbers (the
    keyword dialogue plugs in here); cards' PoRs go to the OTA target by themselves."""
    vault = Vault.from_environment(config.secret_key_file, create=create_key)
    receipts = ReceiptBook()
    targets = build_targets(config, receipts, mobile_originated, listen=True)
    try:
        async with store_for(config.database_url or config.database, vault) as store:
            receipts.store = store
            # The process's one set of registers: the API and front end get the same (create_app).
            counter = Counter(Resources.of_gateway(store, config), config)
            engine = Engine(
                store,
                config,
                targets.network,
                stations=targets.stations,
                owner=owner,
                notices=build_notices(config),
                guard=counter.guard(make_guard(store) if config.access_control else None),
                card_keys=counter.card_keys,
                ota_cards=OtaCards(counter.res.stock, config).profile,
                hooks=counter,
            )
            await engine.start()
            try:
                async with ne_health(config, engine), bus_if_configured(config, engine):
                    yield engine
            finally:
                await engine.stop()
    finally:
        await close_targets(targets)


@contextlib.asynccontextmanager
async def ne_health(config: GatewayConfig, engine: Engine) -> AsyncIterator[None]:
    """Where each NE's health comes from, feeding its breaker: SNMP polls and traps for NEs
    with an agent, a probe every interval for the others (osmo-hlr has no SNMP)."""
    async with contextlib.AsyncExitStack() as stack:
        snmp = build_snmp_manager(config, engine.health_reading)
        polled: set[str] = set()
        if snmp is not None:
            await stack.enter_async_context(snmp)
            polled = set(snmp.targets)
        await stack.enter_async_context(
            ProbeMonitor(engine, config.breaker.health_interval_s, skip=polled)
        )
        yield


def settle_garbage_collector() -> None:
    """Tune Python's cyclic garbage collector for a gateway that has started and will run long.

    What is alive by then (modules, pydantic schemas, the configuration) lives as long as the
    process, and `gc.freeze` takes it out of every later collection. The youngest generation is
    collected after 20,000 new container objects instead of 700: an order allocates several
    hundred, so the collector no longer runs every order or two. Measured with
    `bench/order_instructions.py`: 4 % fewer instructions per order. Called once per process,
    where it starts its real work (`provgw serve`, the order benchmark); tests leave it be."""
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


class Unavailable(RuntimeError):
    """A demo part that cannot run on this machine; the message says why."""


@contextlib.asynccontextmanager
async def _stopped_on_exit(proc: asyncio.subprocess.Process) -> AsyncIterator[None]:
    """Terminate ``proc`` (by its PID; killed if it lingers) when the block is left."""
    try:
        yield
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


@contextlib.asynccontextmanager
async def _announced_process(
    what: str, args: Sequence[str], *, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[asyncio.subprocess.Process, dict[str, object]]]:
    """A process that announces itself with one JSON line on stdout, and that line."""
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE, env=env)
    assert proc.stdout is not None
    async with _stopped_on_exit(proc):
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if not line:
            raise RuntimeError(f"{what} exited with {await proc.wait()} before it was ready")
        yield proc, json.loads(line)


@dataclass
class EmulatorProcess:
    process: asyncio.subprocess.Process
    host: str
    port: int
    ne: str
    snmp_port: int | None = None  # its SNMP agent, when started with one


@contextlib.asynccontextmanager
async def hlr_emulator_process(
    *extra_args: str, state_file: Path | None = None, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[EmulatorProcess]:
    """Start ``python -m emulators.hlr`` (on a free port unless given one) and wait for its
    listening line."""
    args = [
        sys.executable,
        "-m",
        "emulators.hlr",
        "--json",
        "--host",
        host,
        "--port",
        str(port),
        "--user",
        DEMO_USER,
        "--password",
        DEMO_PASSWORD,
        *extra_args,
    ]
    if state_file is not None:
        args += ["--state", str(state_file)]
    async with _announced_process("the HLR emulator", args) as (proc, event):
        yield EmulatorProcess(
            proc,
            str(event["host"]),
            int(str(event["port"])),
            str(event.get("ne", "HLR")),
            _port_or_none(event.get("snmp_port")),
        )


@dataclass
class SmscProcess:
    process: asyncio.subprocess.Process
    config: SmscConfig  # what reaches it with its built-in ESME account
    snmp_port: int | None = None
    handset_port: int = 0  # where emulated handsets attach


def _port_or_none(value: object) -> int | None:
    return None if value is None else int(str(value))


def free_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nobody uses now (for a receiver whose senders must be told it first)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def smsc_emulator_process(
    *extra_args: str,
    host: str = "127.0.0.1",
    port: int = 0,
    admin_port: int = 0,
    handset_port: int = 0,
) -> AsyncIterator[SmscProcess]:
    """Start ``python -m emulators.smsc`` (on free ports unless given them)."""
    args = [
        sys.executable,
        "-m",
        "emulators.smsc",
        "--json",
        "--host",
        host,
        "--port",
        str(port),
        "--admin-port",
        str(admin_port),
        "--handset-port",
        str(handset_port),
        "--system-id",
        DEMO_USER,
        "--password",
        DEMO_PASSWORD,
        *extra_args,
    ]
    async with _announced_process("the SMSC emulator", args) as (proc, event):
        snmp_port = _port_or_none(event.get("snmp_port"))
        yield SmscProcess(
            proc,
            SmscConfig(
                host=str(event["host"]),
                smpp_port=int(str(event["port"])),
                admin_port=int(str(event["admin_port"])),
                system_id=DEMO_USER,
                password=SecretStr(DEMO_PASSWORD),
                snmp=None if snmp_port is None else NeSnmpConfig(port=snmp_port),
            ),
            snmp_port,
            int(str(event.get("handset_port") or 0)),
        )


def emulator_ne(
    emulator: EmulatorProcess, name: str = "hlr1", sessions: int = 4
) -> HuaweiMmlConfig:
    """The NE configuration that reaches a local emulator with its built-in account."""
    snmp = None if emulator.snmp_port is None else NeSnmpConfig(port=emulator.snmp_port)
    return HuaweiMmlConfig(
        name=name,
        host=emulator.host,
        port=emulator.port,
        snmp=snmp,
        username=DEMO_USER,
        password=DEMO_PASSWORD,
        sessions=sessions,
        host_key_policy="accept-any",
    )


@dataclass
class ReaderProcess:
    """`provgw emulate reader`: a private pcscd with a blank emulated card in its reader."""

    process: asyncio.subprocess.Process
    reader: str
    socket: str  # what its clients set PCSCLITE_CSOCK_NAME to
    control: str  # base URL of its control API (POST /insert, POST /remove)


@contextlib.asynccontextmanager
async def card_reader_process(workdir: Path) -> AsyncIterator[ReaderProcess]:
    """Start the emulated reader; raises `Unavailable` (with why) where it cannot run."""
    args = [sys.executable, "-m", "emulators.usim.reader_cli", "--json", "--dir", str(workdir)]
    async with _announced_process("the card reader emulator", args) as (proc, event):
        if event.get("event") != "ready":
            raise Unavailable(str(event.get("reason", event)))
        yield ReaderProcess(
            proc, str(event["reader"]), str(event["PCSCLITE_CSOCK_NAME"]), str(event["control"])
        )


@contextlib.asynccontextmanager
async def card_agent_process(
    *, gateway: str, station: str, reader: ReaderProcess, token: str, log_file: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A card agent (`provgw card agent`) serving ``station`` from the emulated reader; its
    log goes to ``log_file``. The token reaches it through its environment only."""
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=reader.socket, PROVGW_AGENT_TOKEN=token)
    args = [sys.executable, "-m", "gateway", "card", "agent", "--gateway", gateway]
    args += ["--station", station, "--reader", reader.reader]
    with log_file.open("ab") as log:
        proc = await asyncio.create_subprocess_exec(
            *args, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log
        )
    async with _stopped_on_exit(proc):
        yield proc
