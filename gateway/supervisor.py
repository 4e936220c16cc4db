"""Keeping the demo's emulators running: a process that exits is started again, with backoff.

`provgw serve --demo` runs the HLR and SMS centre emulators as processes of their own, as
real network elements run on hosts of their own. When one crashes (or an engineer kills it to
watch the gateway ride out an outage), its supervisor starts it again on the same ports with
the same state, waiting 0.5 s, then 1 s, 2 s … up to 30 s between attempts; a process that
stayed up for a minute counts as healthy again and the wait starts over. Meanwhile the
gateway's breakers see the NE down, orders wait, and `/health` says "degraded".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
HEALTHY_AFTER_S = 60.0


class Supervised(Generic[T]):
    """``async with Supervised(name, start, process_of) as first:`` — ``start()`` makes a fresh
    context manager that runs the process (the same ports every time) and yields what
    describes it; ``process_of`` picks the process out of that. ``first`` is the first
    instance; `current` the one running now."""

    def __init__(
        self,
        name: str,
        start: Callable[[], AbstractAsyncContextManager[T]],
        process_of: Callable[[T], asyncio.subprocess.Process],
        *,
        say: Callable[..., Any] = print,
        backoff_first_s: float = BACKOFF_FIRST_S,
        backoff_max_s: float = BACKOFF_MAX_S,
    ) -> None:
        self.name = name
        self._start = start
        self._process_of = process_of
        self._say = say
        self._first_s = backoff_first_s
        self._max_s = backoff_max_s
        self.restarts = 0
        self.current: T | None = None
        self._running: contextlib.AsyncExitStack | None = None
        self._watcher: asyncio.Task[None] | None = None

    async def __aenter__(self) -> T:
        first = await self._launch()
        self._watcher = asyncio.create_task(self._watch(), name=f"supervise-{self.name}")
        return first

    async def __aexit__(self, *exc: object) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
        if self._running is not None:
            await self._running.aclose()

    async def _launch(self) -> T:
        stack = contextlib.AsyncExitStack()
        try:
            self.current = await stack.enter_async_context(self._start())
        except BaseException:
            await stack.aclose()
            raise
        self._running = stack
        return self.current

    async def _watch(self) -> None:
        wait = self._first_s
        while True:
            assert self.current is not None and self._running is not None
            started = time.monotonic()
            code = await self._process_of(self.current).wait()
            await self._running.aclose()  # the dead instance's pipes and files
            self._running = None
            if time.monotonic() - started >= HEALTHY_AFTER_S:
                wait = self._first_s
            while True:
                self._say(f"{self.name} exited with code {code}; restarting it in {wait:g} s")
                await asyncio.sleep(wait)
                wait = min(self._max_s, wait * 2)
                try:
                    await self._launch()
                except (OSError, RuntimeError, TimeoutError, ValueError) as exc:
                    log.warning("%s did not start again: %s", self.name, exc)
                    code = -1
                    continue
                self.restarts += 1
                self._say(f"{self.name} restarted ({self.restarts} so far)")
                break
