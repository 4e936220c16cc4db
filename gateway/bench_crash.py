"""Crash trials: gateway processes SIGKILLed mid-plan, over and over, nothing lost or repeated.

`provgw bench crash` and `tests/integration/test_crash.py` run these. Real parts only: each
gateway is a `provgw serve` process, the HLR emulator another with a little latency (so that
kills land between "intent recorded" and "reply recorded"), the store SQLite (one process) or
PostgreSQL (several processes on one database, each taking its share of the NE's sessions).

Each trial sends a batch of orders — open-account orders and changes to lines opened before —
to the live gateways (a number's orders to one gateway, as a load balancer with affinity does),
and SIGKILLs one gateway at a random moment. With several processes, the others carry on and
take the dead one's orders over after their lease; the dead one is restarted at a random
moment before or after that. At the end: every order the API accepted is terminal, no step
succeeded twice or was refused as done already on the NE, and the HLR holds exactly what the
completed orders imply (`gateway.bench_storm.expected_state`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from gateway.bench import _CUSTOMER as CUSTOMER
from gateway.bench import KI, OPC
from gateway.bench_storm import compare_with_hlr
from gateway.identifiers import luhn_check_digit
from gateway.runtime import DEMO_PASSWORD, DEMO_USER, hlr_emulator_process
from gateway.store import store_for
from gateway.vault import Vault

KEY = "ab" * 32
LEASE_SECONDS = 2.0


@dataclass
class CrashResult:
    trials: int
    processes: int
    backend: str
    accepted: int
    completed: int
    terminal: int
    kills_mid_flight: int  # kills that left orders of the killed process unfinished
    takeovers: int  # orders finished by a process other than the one that accepted them
    steps_done_twice: int
    hlr_disagreements: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            not self.unfinished
            and self.steps_done_twice == 0
            and not self.hlr_disagreements
            and self.terminal >= self.accepted
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, hlr_port: int, database: str | Path, processes: int) -> None:
    target = (
        f'database_url = "{database}"'
        if isinstance(database, str)
        else (f'database = "{database}"')
    )
    path.write_text(
        f"{target}\n"
        f"processes = {processes}\n"
        "cancel_hold_days = 0\n"
        "access_control = false\n"  # a lab run: no channels or operators are set up
        f"lease_seconds = {LEASE_SECONDS}\n"
        "[retry]\nattempts = 5\nbackoff_initial_s = 0.01\nbackoff_max_s = 0.2\n"
        "[[network_elements]]\n"
        f'name = "hlr1"\nport = {hlr_port}\nusername = "{DEMO_USER}"\n'
        f'password = "{DEMO_PASSWORD}"\nsessions = 4\nhost_key_policy = "accept-any"\n'
    )


async def start_gateway(config: Path, port: int) -> asyncio.subprocess.Process:
    """`provgw serve` on ``port``, once its API answers."""
    env = dict(os.environ, PROVGW_SECRET_KEY=KEY)
    env.pop("PROVGW_DATABASE", None)  # the configuration file says which database
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "serve",
        "--config",
        str(config),
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=1) as c:
        for _ in range(600):
            try:
                if (await c.get("/health")).status_code == 200:
                    return proc
            except httpx.TransportError:
                pass
            if proc.returncode is not None:
                err = await proc.stderr.read() if proc.stderr else b""
                raise RuntimeError(f"gateway exited: {err.decode()[-2000:]}")
            await asyncio.sleep(0.05)
    raise RuntimeError("gateway did not come up")


def iccid(n: int) -> str:
    body = f"898600{n:012d}"
    return body + str(luhn_check_digit(body))


def workload(trial: int, opened: Sequence[str], rnd: random.Random) -> list[dict[str, Any]]:
    """Eight open-account orders and up to six changes to lines opened before."""
    base = {"channel": "OUT001", "operator": "clerk1"}
    orders = []
    for k in range(8):
        n = trial * 8 + k + 1
        orders.append(
            base
            | {
                "kind": "open_account",
                "order_id": f"t{trial}-open-{k}",
                "msisdn": f"138{n:08d}",
                "imsi": f"46000{n:010d}",
                "iccid": iccid(n),
                "ki": KI,
                "opc": OPC,
                "product": rnd.choice(["4g-basic", "voice-only"]),
                "customer": CUSTOMER,
            }
        )
    for k, msisdn in enumerate(rnd.sample(list(opened), min(6, len(opened)))):
        kind = rnd.choice(
            [
                "suspend",
                "resume",
                "change_roaming",
                "change_long_distance",
                "change_supplementary",
                "change_number",
            ]
        )
        extras: dict[str, dict[str, Any]] = {
            "change_roaming": {"roaming_barring": rnd.choice(["NOBAR", "BROHPLMN"])},
            "change_long_distance": {"outgoing_barring": rnd.choice(["NOBOC", "BOIC"])},
            "change_supplementary": {"forwarding": [{"kind": "CFU", "forward_to": "13911112222"}]},
            "change_number": {"new_msisdn": f"139{trial:04d}{k:04d}"},
        }
        extra = extras.get(kind, {})
        orders.append(
            base | {"kind": kind, "order_id": f"t{trial}-{kind}-{k}", "msisdn": msisdn} | extra
        )
    return orders


async def submit_all(
    ports: Sequence[int],
    orders: list[dict[str, Any]],
    accepted: set[str],
    first: asyncio.Event | None = None,
) -> None:
    """Post every order at once, each to one gateway, a number always to the same one;
    ``accepted`` fills as the gateways accept them and ``first`` is set with the first one."""

    async def one(c: httpx.AsyncClient, body: dict[str, Any]) -> None:
        port = ports[zlib.crc32(body["msisdn"].encode()) % len(ports)]
        try:
            r = await c.post(f"http://127.0.0.1:{port}/orders", json=body)
        except httpx.TransportError:
            return
        if r.status_code in (200, 202):
            accepted.add(body["order_id"])
            if first is not None:
                first.set()

    async with httpx.AsyncClient(timeout=2) as c:
        await asyncio.gather(*(one(c, o) for o in orders))


async def first_accepted(first: asyncio.Event, submitting: asyncio.Task[None]) -> None:
    """Wait until a gateway has accepted an order (or the submission ended): the kill's random
    moment counts from there, so that a loaded machine still kills mid-plan."""
    waiting = asyncio.create_task(first.wait())
    await asyncio.wait([waiting, submitting], return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()


@dataclass
class _Gateway:
    config: Path
    port: int
    proc: asyncio.subprocess.Process | None = None

    @property
    def owner(self) -> str:
        assert self.proc is not None
        return f"{socket.gethostname()}:{self.proc.pid}"

    async def start(self) -> None:
        self.port = free_port()
        self.proc = await start_gateway(self.config, self.port)

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 30)
            except TimeoutError:
                await self.kill()


@contextlib.asynccontextmanager
async def _gateways(configs: Sequence[Path]) -> AsyncIterator[list[_Gateway]]:
    gateways = [_Gateway(c, 0) for c in configs]
    try:
        for gw in gateways:
            await gw.start()
        yield gateways
    finally:
        for gw in gateways:
            await gw.stop()


async def _held_mid_plan(database: str | Path, owner: str) -> int:
    async with store_for(database, Vault(bytes.fromhex(KEY))) as store:
        return await store.held_by(owner)


async def run_crash_trials(
    trials: int,
    database: str | Path,
    *,
    processes: int = 1,
    seed: int = 20261121,
    progress: Any = None,
) -> CrashResult:
    """``trials`` kills of one of ``processes`` gateways on ``database`` (an empty one: a
    SQLite path, or a PostgreSQL URL for several processes)."""
    rnd = random.Random(seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="provgw-crash-") as tmp:
        work = Path(tmp)
        state_file = work / "hlr.json"
        accepted: set[str] = set()
        opened: list[str] = []
        kills_mid_flight = 0
        async with hlr_emulator_process(
            "--latency-ms", "3", "--jitter-ms", "6", state_file=state_file
        ) as hlr:
            configs = [work / f"provgw-{i}.toml" for i in range(processes)]
            for path in configs:
                write_config(path, hlr.port, database, processes)
            async with _gateways(configs) as gateways:
                for trial in range(trials):
                    orders = workload(trial, opened, rnd)
                    ports = [gw.port for gw in gateways]
                    first = asyncio.Event()
                    submitting = asyncio.create_task(submit_all(ports, orders, accepted, first))
                    await first_accepted(first, submitting)
                    await asyncio.sleep(rnd.uniform(0.0, 0.2))
                    victim = rnd.choice(gateways)
                    owner = victim.owner
                    await victim.kill()
                    await submitting
                    opened += [o["msisdn"] for o in orders if o["kind"] == "open_account"]
                    kills_mid_flight += await _held_mid_plan(database, owner) > 0
                    if processes > 1:
                        # Back before or after the others take its orders over.
                        await asyncio.sleep(rnd.uniform(0, LEASE_SECONDS + 1))
                    await victim.start()
                    if progress is not None:
                        progress(trial + 1)
                await _settle([gw.port for gw in gateways])
            hlr_state = json.loads(state_file.read_text())
        result = await _check(database, accepted, hlr_state)
    result.trials, result.processes = trials, processes
    result.kills_mid_flight = kills_mid_flight
    result.seconds = time.monotonic() - started
    return result


async def _settle(ports: Sequence[int]) -> None:
    """Wait until no order is left accepted or mid-plan (three minutes at most)."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", timeout=5) as c:
        for _ in range(1800):
            counts = (await c.get("/health")).json()["orders"]
            if not counts.get("accepted") and not counts.get("provisioning"):
                return
            await asyncio.sleep(0.1)


async def _check(database: str | Path, accepted: set[str], hlr: dict[str, Any]) -> CrashResult:
    async with store_for(database, Vault(bytes.fromhex(KEY))) as store:
        records = await store.list_orders(limit=100_000)
        by_id = {r.id: r for r in records}
        succeeded: Counter[tuple[str, str, int]] = Counter()
        done_already = 0
        for r in records:
            for t in await store.transcript(r.id):
                done_already += t.code in ("3002", "3008")  # the NE: exists already, etc.
                if t.outcome == "ok":
                    succeeded[(r.id, t.phase, t.idx)] += 1
        takeovers = await store.taken_over()
        lines = await store.all_lines()
        backend = store.dialect
    unfinished = sorted(i for i in accepted if i not in by_id or not by_id[i].state.terminal)
    unfinished += sorted(r.id for r in records if not r.state.terminal and r.id not in accepted)
    twice = done_already + sum(n - 1 for n in succeeded.values() if n > 1)
    return CrashResult(
        trials=0,
        processes=0,
        backend=backend,
        accepted=len(accepted),
        completed=sum(r.state.value == "completed" for r in records),
        terminal=sum(r.state.terminal for r in records if r.id in accepted),
        kills_mid_flight=0,
        takeovers=takeovers,
        steps_done_twice=twice,
        hlr_disagreements=compare_with_hlr(lines, hlr)[:20],
        unfinished=unfinished,
    )


def result_dict(result: CrashResult) -> dict[str, Any]:
    return asdict(result) | {"ok": result.ok}


async def measure_takeover(database: str, *, orders: int = 16, seed: int = 1) -> dict[str, Any]:
    """Two gateways on ``database`` (PostgreSQL, empty); orders to one, SIGKILLed while they
    are mid-plan (the HLR answers after 200 ms); seconds from the kill until the other holds
    all of its unfinished orders, beside the lease."""
    rnd = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="provgw-takeover-") as tmp:
        work = Path(tmp)
        async with hlr_emulator_process("--latency-ms", "200", state_file=work / "hlr.json") as hlr:
            configs = [work / f"provgw-{i}.toml" for i in range(2)]
            for path in configs:
                write_config(path, hlr.port, database, 2)
            async with _gateways(configs) as (victim, survivor):
                batch = workload(0, [], rnd) + workload(1, [], rnd)
                await submit_all([victim.port], batch[:orders], set())
                owner, heir = victim.owner, survivor.owner
                await victim.kill()
                killed = time.monotonic()
                async with store_for(database, Vault(bytes.fromhex(KEY))) as store:
                    while time.monotonic() - killed < 10 * LEASE_SECONDS:
                        left = await store.held_by(owner)
                        if not left:
                            break
                        await asyncio.sleep(0.02)
                    taken = time.monotonic() - killed
                    held = await store.taken_over(heir)
                await _settle([survivor.port])
    return {
        "lease_seconds": LEASE_SECONDS,
        "takeover_seconds": round(taken, 2),
        "orders_taken_over": int(held),
        "target_seconds": LEASE_SECONDS + 1,
    }
