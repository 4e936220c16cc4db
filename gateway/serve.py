"""`provgw serve`: the API and the engine in one event loop, and in demo mode the emulators."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from gateway.api import create_app
from gateway.config import GatewayConfig
from gateway.runtime import emulator_ne, hlr_emulator_process, running_gateway


async def serve_gateway(
    config: GatewayConfig,
    *,
    host: str,
    port: int,
    demo: bool,
    say: Callable[..., Any] = print,
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        if demo:
            var = config.database.parent
            var.mkdir(parents=True, exist_ok=True)
            emulator = await stack.enter_async_context(
                hlr_emulator_process(state_file=Path(var) / "hlr-state.json")
            )
            config = config.model_copy(
                update={"network_elements": [emulator_ne(emulator)], "cancel_hold_days": 0}
            )
            say(
                f"HLR/HSS emulator {emulator.ne}: ssh -p {emulator.port} "
                f"provgw@{emulator.host} (password provgw, then LGI:HLRSN=1,"
                'OPNAME="provgw",PWD="provgw";)'
            )
        engine = await stack.enter_async_context(running_gateway(config, create_key=demo))
        say(f"database: {config.database} (SQLite, WAL)")
        say(f"REST API: http://{host}:{port}  ·  OpenAPI: http://{host}:{port}/docs")
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(engine), host=host, port=port, log_level="warning", lifespan="off"
            )
        )
        await server.serve()
