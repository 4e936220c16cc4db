"""A real gateway for the browser tests, and one real headless Chromium for all of them.

The gateway runs in a thread with its own event loop: uvicorn on a free port, the engine over
a fresh SQLite file with the demo's resources (outlet OUT001 open round the clock, clerk1 …,
two number blocks, fee rules, twenty blank cards), the HLR emulator over real SSH, and card
station ``counter-1`` served by a card agent on the real PC/SC chain (pcscd + vpcd + the USIM
emulator). The browser is Debian's chromium driven by Playwright (no browser download).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest
import uvicorn
from pydantic import SecretStr

from emulators.hlr.server import HlrEmulator
from emulators.hlr.session import Account
from emulators.usim.pcscd import PrivatePcscd
from gateway.api import create_app
from gateway.config import (
    CardStationConfig,
    GatewayConfig,
    HuaweiMmlConfig,
    RetryPolicy,
    load_config,
)
from gateway.counter import Counter
from gateway.engine import Engine
from gateway.network import build_targets, close_targets
from gateway.ota_cards import OtaCards
from gateway.resources.access import Role
from gateway.resources.channels import ChannelIn, ChannelKind, OpeningHours
from gateway.resources.demo import DEMO_PASSWORDS, seed_demo
from gateway.resources.guard import make_guard
from gateway.resources.operators import OperatorIn
from gateway.resources.passwords import ScryptCost
from gateway.resources.service import Resources
from gateway.stations_api import release_agents
from gateway.store import SqliteStore
from gateway.vault import Vault
from simcard.agent import AgentSettings, CardAgent

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
STATION = "counter-1"
TOKEN = "web-test-agent-token-0123456789"
CHEAP = ScryptCost(n=2**10, r=8, p=1)  # test operators: a real scrypt hash, quickly
CLOSED_CHANNEL = "OUT002"
NIGHT_CLERK = ("clerk2", "clerk2-test-pass")
T = TypeVar("T")


def _unavailable(what: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI")
    pytest.skip(f"{what} not installed")


try:
    from playwright.sync_api import sync_playwright
except ImportError:  # a dev dependency; without it the browser tests cannot run
    sync_playwright = None


class LiveGateway:
    """The gateway in a thread: ``url``, and ``call(coro)`` to run a coroutine in its loop."""

    def __init__(self, workdir: Path, reader: str) -> None:
        self.workdir = workdir
        self.reader = reader
        self.url = ""
        self.engine: Engine
        self.resources: Resources
        self.hlr: HlrEmulator
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="web-test-gateway", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError("the test gateway did not start within 60 s")
        if self._failure is not None:
            raise RuntimeError("the test gateway failed to start") from self._failure

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the test thread by start()
            self._failure = exc
            self._ready.set()

    def _config(self, hlr_port: int) -> GatewayConfig:
        return load_config(None).model_copy(
            update={
                "database": self.workdir / "provgw.db",
                "network_elements": [
                    HuaweiMmlConfig(
                        name="hlr1",
                        port=hlr_port,
                        username="provgw",
                        password=SecretStr("provgw-secret"),
                        host_key_policy="accept-any",
                        command_timeout_s=5,
                    )
                ],
                "card_stations": [
                    CardStationConfig(
                        name=STATION,
                        kind="agent",
                        agent_token=SecretStr(TOKEN),
                        blank_adm1=SecretStr("12345678"),
                        card_wait_s=2,
                    )
                ],
                "retry": RetryPolicy(attempts=3, backoff_initial_s=0.01, backoff_max_s=0.1),
                "cancel_hold_days": 0,
            }
        )

    async def _seed(self, store: SqliteStore) -> Resources:
        await seed_demo(store, cost=CHEAP)
        res = Resources.open(store, cost=CHEAP)
        await res.channels.create(
            ChannelIn(
                id=CLOSED_CHANNEL,
                kind=ChannelKind.OWN_OUTLET,
                name="Night outlet",
                city="Beijing",
                area="Xicheng",
                hours=OpeningHours(week={}),  # never open: a clerk there is always refused
            ),
            by="test",
        )
        await res.operators.create(
            OperatorIn(
                id=NIGHT_CLERK[0],
                job_number="C0002",
                name="Night Clerk",
                role=Role.CLERK,
                password=SecretStr(NIGHT_CLERK[1]),
                channels=[CLOSED_CHANNEL],
            ),
            by="test",
        )
        return res

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with contextlib.AsyncExitStack() as stack:
            self.hlr = await stack.enter_async_context(
                HlrEmulator(port=0, users={"provgw": Account("provgw-secret", admin=True)})
            )
            config = self._config(self.hlr.port)
            targets = build_targets(config)
            stack.push_async_callback(close_targets, targets)
            store = await stack.enter_async_context(SqliteStore(config.database, Vault(bytes(32))))
            self.resources = await self._seed(store)
            counter = Counter(self.resources, config)  # joined to the engine as in running_gateway
            self.engine = Engine(
                store,
                config,
                targets.network,
                stations=targets.stations,
                guard=counter.guard(make_guard(store)),
                card_keys=counter.card_keys,
                ota_cards=OtaCards(self.resources.stock, config).profile,
                hooks=counter,
            )
            await self.engine.start()
            stack.push_async_callback(self.engine.stop)
            app = create_app(self.engine)  # the counter's registers (cheap hashes), as serve's
            server = uvicorn.Server(
                uvicorn.Config(
                    app,
                    host="127.0.0.1",
                    port=0,
                    log_level="warning",
                    lifespan="off",
                    timeout_graceful_shutdown=1,
                )
            )
            serving = asyncio.create_task(server.serve())
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
                await asyncio.sleep(0.01)
            port = server.servers[0].sockets[0].getsockname()[1]
            self.url = f"http://127.0.0.1:{port}"
            agent = CardAgent(
                AgentSettings(
                    gateway=self.url,
                    station=STATION,
                    token=TOKEN,
                    reader=self.reader,
                    backoff_first_s=0.02,
                )
            )
            agent_running = asyncio.create_task(agent.run())
            self._ready.set()
            await self._stop.wait()
            agent.stop()
            await agent_running
            release_agents(self.engine)
            server.should_exit = True
            await serving


@pytest.fixture(scope="session")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, pcsc_chain: PrivatePcscd
) -> Iterator[LiveGateway]:
    live = LiveGateway(tmp_path_factory.mktemp("web-gateway"), pcsc_chain.reader_name(0))
    live.start()
    try:
        yield live
    finally:
        live.stop()


class BrowserThread:
    """One Chromium for the whole session, driven from a thread of its own.

    Playwright's sync API keeps an event loop running in the thread that started it, and
    pytest-asyncio cannot run async tests in a thread where a loop runs. So the browser lives
    in this thread, and each browser test hands it a scenario (``browse(scenario)``): a plain
    function of a fresh page, run there; its assertion errors come back to the test.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[Any], Any], Future[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="web-test-browser", daemon=True)
        self._started: Future[None] = Future()

    def start(self) -> None:
        self._thread.start()
        self._started.result(60)

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(30)

    def run(self, job: Callable[[Any], T]) -> T:
        done: Future[T] = Future()
        self._jobs.put((job, done))
        return done.result()

    def _serve(self) -> None:
        assert sync_playwright is not None
        try:
            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except BaseException as exc:
            self._started.set_exception(exc)
            return
        self._started.set_result(None)
        try:
            while (item := self._jobs.get()) is not None:
                job, done = item
                try:
                    done.set_result(job(browser))
                except BaseException as exc:  # handed to the test thread
                    done.set_exception(exc)
        finally:
            browser.close()
            playwright.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[BrowserThread]:
    if sync_playwright is None:
        _unavailable("playwright (the Python package)")
    if not Path(CHROMIUM).exists():
        _unavailable("chromium")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    thread = BrowserThread()
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


Browse = Callable[[Callable[[Any], None]], None]


@pytest.fixture
def browse(browser: BrowserThread, gateway: LiveGateway) -> Browse:
    """``browse(scenario)``: run ``scenario(page)`` in a fresh browser context (no cookies)
    at the counter's screen size, against the test gateway."""

    def run(scenario: Callable[[Any], None]) -> None:
        def job(chromium: Any) -> None:
            context = chromium.new_context(
                base_url=gateway.url, viewport={"width": 1280, "height": 800}, locale="en-US"
            )
            context.set_default_timeout(15_000)
            try:
                scenario(context.new_page())
            finally:
                context.close()

        browser.run(job)

    return run


def shoot(page: Any, name: str) -> None:
    """Save what the clerk sees now as docs/screenshots/<name>.png (whole page)."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, operator: str = "clerk1") -> None:
    """Sign in at OUT001 with a demo operator's published password."""
    page.goto("/ui/signin")
    page.get_by_label("Operator id").fill(operator)
    page.get_by_label("Password").fill(DEMO_PASSWORDS[operator])
    page.get_by_label("Channel").fill("OUT001")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/")
