"""`provgw serve`: the API and the engine in one event loop, and in demo mode the emulators."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import SecretStr

from gateway.api import create_app
from gateway.config import CardStationConfig, GatewayConfig, SnmpTrapConfig
from gateway.private_files import private_dir
from gateway.resources.demo import seed_demo
from gateway.runtime import (
    EmulatorProcess,
    ReaderProcess,
    SmscProcess,
    Unavailable,
    card_agent_process,
    card_reader_process,
    emulator_ne,
    free_udp_port,
    hlr_emulator_process,
    running_gateway,
    settle_garbage_collector,
    smsc_emulator_process,
)
from gateway.stations_api import release_agents
from gateway.supervisor import Supervised

DEMO_STATION = "counter-1"
DEMO_BLANK_ADM1 = "12345678"  # the emulated blank cards' ADM1
SHUTDOWN_GRACE_S = 3  # long polls of card agents and SSE streams end no later than this


async def serve_gateway(
    config: GatewayConfig,
    *,
    host: str,
    port: int,
    demo: bool,
    say: Callable[..., Any] = print,
) -> None:
    with _stopped_by_signals_while_starting() as signalled:
        try:
            await _serve(config, host=host, port=port, demo=demo, say=say)
        except asyncio.CancelledError:
            if not signalled():
                raise
            # SIGTERM/SIGINT before the API was up: what had started has been stopped.


@contextlib.contextmanager
def _stopped_by_signals_while_starting() -> Iterator[Callable[[], bool]]:
    """Until the API server takes the signals over, SIGTERM and SIGINT cancel start-up, so the
    emulators, reader and card agent started so far are stopped with the gateway instead of
    being left running (the default action would kill this process outright). Yields whether
    a signal came."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    came: list[int] = []

    def stop(signum: int) -> None:
        came.append(signum)
        task.cancel()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop, signum)
    try:
        yield lambda: bool(came)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def _serve(
    config: GatewayConfig, *, host: str, port: int, demo: bool, say: Callable[..., Any]
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        reader: ReaderProcess | None = None
        token = secrets.token_urlsafe(32)
        if demo:
            var = config.database.parent
            private_dir(var)
            config = await _demo_network(stack, config, var, say)
            reader = await _demo_reader(stack, var / "reader", say)
            if reader is not None:
                config = config.model_copy(update={"card_stations": [_demo_station(token)]})
        engine = await stack.enter_async_context(running_gateway(config, create_key=demo))
        if demo:
            await seed_demo(engine.store)
            say(
                "demo outlet OUT001 (open round the clock): sign in as clerk1 / clerk1-demo "
                "(also engineer1, admin1); number blocks and blank cards in stock"
            )
        say(f"database: {config.database} (SQLite, WAL)")
        say(
            f"front end: http://{host}:{port}/  ·  REST API: http://{host}:{port}"
            f"  ·  OpenAPI: http://{host}:{port}/docs"
        )
        if reader is not None:
            log_file = config.database.parent / "card-agent.log"
            agent = await stack.enter_async_context(
                card_agent_process(
                    gateway=f"http://{_loopback(host)}:{port}",
                    station=DEMO_STATION,
                    reader=reader,
                    token=token,
                    log_file=log_file,
                )
            )
            say(
                f'card agent: station {DEMO_STATION} served from reader "{reader.reader}" '
                f"(PID {agent.pid}, log {log_file})  ·  state: GET http://{host}:{port}/stations"
            )
        settle_garbage_collector()
        server = _Server(
            uvicorn.Config(
                create_app(engine),
                host=host,
                port=port,
                log_level="warning",
                lifespan="off",
                timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
            ),
            on_shutdown=lambda: release_agents(engine),
        )
        await server.serve()


class _Server(uvicorn.Server):
    """A uvicorn server that lets the card agents' long polls go before it waits for open
    requests to finish (they would hold a shutdown for up to a poll's length)."""

    def __init__(self, config: uvicorn.Config, *, on_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown()
        await super().shutdown(sockets)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """SIGTERM and SIGINT end the server, and nothing else: uvicorn's own handling raises
        the signal again once the server is down, which would kill the process before the
        demo's emulators, reader and card agent are stopped. A second SIGINT forces it."""
        loop = asyncio.get_running_loop()

        def stop(signum: int) -> None:
            if self.should_exit and signum == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop, signum)
        try:
            yield
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)


async def _demo_network(
    stack: contextlib.AsyncExitStack, config: GatewayConfig, var: Path, say: Callable[..., Any]
) -> GatewayConfig:
    """The demo's HLR and SMS centre emulators, each supervised (restarted on the same ports
    with its state when it dies) and each with an SNMP agent that sends its traps to the
    gateway; ``config`` reaching them."""
    traps = free_udp_port()
    trap_target = ("--snmp-trap-target", f"127.0.0.1:{traps}")
    hlr_ports = {"ssh": 0, "snmp": 0}  # free ports first, then the same on restarts
    smsc_ports = {"smpp": 0, "admin": 0, "snmp": 0}

    def start_hlr() -> AbstractAsyncContextManager[EmulatorProcess]:
        return hlr_emulator_process(
            "--state-sync",  # what it acknowledged survives a crash, as on a real HLR
            "--host-key",
            str(var / "hlr-host-key"),
            "--snmp-port",
            str(hlr_ports["snmp"]),
            *trap_target,
            state_file=var / "hlr-state.json",
            port=hlr_ports["ssh"],
        )

    def start_smsc() -> AbstractAsyncContextManager[SmscProcess]:
        return smsc_emulator_process(
            "--snmp-port",
            str(smsc_ports["snmp"]),
            *trap_target,
            port=smsc_ports["smpp"],
            admin_port=smsc_ports["admin"],
        )

    hlr = await stack.enter_async_context(
        Supervised("the HLR emulator", start_hlr, lambda e: e.process, say=say)
    )
    hlr_ports.update(ssh=hlr.port, snmp=hlr.snmp_port or 0)
    say(
        f"HLR/HSS emulator {hlr.ne} (PID {hlr.process.pid}, restarted if it dies): "
        f"ssh -p {hlr.port} provgw@{hlr.host} (password provgw, then LGI:HLRSN=1,"
        f'OPNAME="provgw",PWD="provgw";)  ·  SNMP: snmpwalk -v2c -c public '
        f"{hlr.host}:{hlr.snmp_port}"
    )
    smsc = await stack.enter_async_context(
        Supervised("the SMSC emulator", start_smsc, lambda e: e.process, say=say)
    )
    smsc_ports.update(
        smpp=smsc.config.smpp_port, admin=smsc.config.admin_port, snmp=smsc.snmp_port or 0
    )
    say(
        f"SMS centre emulator: smpp://{smsc.config.host}:{smsc.config.smpp_port}  ·  "
        f"messages and barring: http://{smsc.config.host}:{smsc.config.admin_port}/messages "
        "(provgw / provgw)"
    )
    return config.model_copy(
        update={
            "network_elements": [emulator_ne(hlr)],
            "smsc": smsc.config,
            "snmp_traps": SnmpTrapConfig(port=traps),
            "cancel_hold_days": 0,
        }
    )


async def _demo_reader(
    stack: contextlib.AsyncExitStack, workdir: Path, say: Callable[..., Any]
) -> ReaderProcess | None:
    """The emulated card reader, or None (said why) where pcscd/vpcd cannot run."""
    try:
        reader = await stack.enter_async_context(card_reader_process(workdir))
    except (Unavailable, RuntimeError, OSError) as exc:
        say(f"card station {DEMO_STATION}: unavailable ({exc}); everything else runs without it")
        return None
    say(
        f'card reader (emulated): "{reader.reader}" with a blank card  ·  a fresh blank card: '
        f"curl -X POST {reader.control}/insert  ·  pull it: curl -X POST {reader.control}/remove"
    )
    return reader


def _demo_station(token: str) -> CardStationConfig:
    """The demo's counter: its reader sits with a card agent, as on a clerk's PC."""
    return CardStationConfig(
        name=DEMO_STATION,
        kind="agent",
        agent_token=SecretStr(token),
        blank_adm1=SecretStr(DEMO_BLANK_ADM1),
    )


def _loopback(host: str) -> str:
    """Where a process on this machine reaches a server bound to ``host``."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
