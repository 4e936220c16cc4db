"""Running an emulator from the command line until SIGTERM/SIGINT.

Every emulator announces itself with exactly one line on stdout once it listens — JSON with
``--json`` — which is how a parent process (the gateway's demo, a benchmark) learns the ports it
asked the system to pick.
"""

from __future__ import annotations

import asyncio
import json
import selectors
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


def run(
    emulator: AbstractAsyncContextManager[Any],
    listening: Callable[[], tuple[dict[str, Any], str]],
    *,
    as_json: bool,
) -> None:
    """`serve` on an event loop whose timers keep time to a tenth of a millisecond.

    Injected latency is a timer, and a benchmark divides by it. asyncio's default loop waits in
    epoll, whose timeout is whole milliseconds rounded up; every wake-up in between (another
    session's command) rounds the rest up again, so a 20 ms reply came 0.7 ms late at the
    median. select(2) takes microseconds: 0.13 ms late. An emulator has a handful of sockets,
    well below select's limit of 1,024 descriptors."""
    with asyncio.Runner(loop_factory=_precise_loop) as runner:
        runner.run(serve(emulator, listening, as_json=as_json))


def _precise_loop() -> asyncio.AbstractEventLoop:
    return asyncio.SelectorEventLoop(selectors.SelectSelector())
