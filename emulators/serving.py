"""Running an emulator from the command line until SIGTERM/SIGINT.

Every emulator announces itself with exactly one line on stdout once it listens — JSON with
``--json`` — which is how a parent process (the gateway's demo, a benchmark) learns the ports it
asked the system to pick.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import click


async def serve(
    emulator: AbstractAsyncContextManager[Any],
    listening: Callable[[], tuple[dict[str, Any], str]],
    *,
    as_json: bool,
) -> None:
    """Enter ``emulator``, print one listening line, and run until SIGTERM or SIGINT.

    ``listening()`` is called once the emulator has started (its ports are known then) and
    returns ``(fields for --json, a sentence for people)``."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with emulator:
        fields, sentence = listening()
        click.echo(json.dumps({"event": "listening", **fields}) if as_json else sentence)
        sys.stdout.flush()
        await stop.wait()
