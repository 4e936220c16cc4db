"""Nothing lost, nothing done twice: the gateway is SIGKILLed mid-plan, over and over.

The gateway runs as a real process (`provgw serve`) against the HLR emulator in another process
with a little latency, so that kills land between "intent recorded" and "reply recorded". After
every trial the gateway restarts; at the end every accepted order must be terminal and the HLR
must hold exactly what the completed orders imply.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.bench_storm import actual_state, expected_state
from gateway.runtime import DEMO_PASSWORD, DEMO_USER, hlr_emulator_process
from gateway.store import SqliteStore
from gateway.vault import Vault
from tests.gateway.orders_factory import CUSTOMER, KI, OPC, iccid

pytestmark = pytest.mark.slow

TRIALS = 20
KEY = "ab" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(path: Path, hlr_port: int, db: Path) -> None:
    path.write_text(
        f'database = "{db}"\n'
        "cancel_hold_days = 0\n"
        "access_control = false\n"  # a lab run: no channels or operators are set up
        "lease_seconds = 2\n"
        "[retry]\nattempts = 5\nbackoff_initial_s = 0.01\nbackoff_max_s = 0.2\n"
        "[[network_elements]]\n"
        f'name = "hlr1"\nport = {hlr_port}\nusername = "{DEMO_USER}"\n'
        f'password = "{DEMO_PASSWORD}"\nsessions = 4\nhost_key_policy = "accept-any"\n'
    )


async def start_gateway(config: Path, port: int) -> asyncio.subprocess.Process:
    env = dict(os.environ, PROVGW_SECRET_KEY=KEY)
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
        for _ in range(300):
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


def workload(trial: int, opened: list[str], rnd: random.Random) -> list[dict[str, Any]]:
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
    for k, msisdn in enumerate(rnd.sample(opened, min(6, len(opened)))):
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
        extra: dict[str, Any] = {
            "change_roaming": {"roaming_barring": rnd.choice(["NOBAR", "BROHPLMN"])},
            "change_long_distance": {"outgoing_barring": rnd.choice(["NOBOC", "BOIC"])},
            "change_supplementary": {"forwarding": [{"kind": "CFU", "forward_to": "13911112222"}]},
            "change_number": {"new_msisdn": f"139{trial:04d}{k:04d}"},
        }.get(kind, {})
        orders.append(
            base | {"kind": kind, "order_id": f"t{trial}-{kind}-{k}", "msisdn": msisdn} | extra
        )
    return orders


async def submit_all(
    port: int, orders: list[dict[str, Any]], accepted: set[str], first: asyncio.Event
) -> None:
    """Post every order at once; ``accepted`` fills as the gateway accepts them and ``first``
    is set with the first one."""

    async def one(c: httpx.AsyncClient, body: dict[str, Any]) -> None:
        try:
            r = await c.post("/orders", json=body)
        except httpx.TransportError:
            return
        if r.status_code in (200, 202):
            accepted.add(body["order_id"])
            first.set()

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as c:
        await asyncio.gather(*(one(c, o) for o in orders))


async def first_accepted(first: asyncio.Event, submitting: asyncio.Task[None]) -> None:
    """Wait until the gateway has accepted an order (or the submission ended): the kill's
    random moment counts from there, so that a loaded machine still kills mid-plan."""
    waiting = asyncio.create_task(first.wait())
    await asyncio.wait([waiting, submitting], return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()


async def test_sigkill_mid_plan_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    rnd = random.Random(20261121)
    db = tmp_path / "provgw.db"
    state_file = tmp_path / "hlr.json"
    config = tmp_path / "provgw.toml"
    accepted: set[str] = set()
    opened: list[str] = []
    kills_mid_flight = 0
    async with hlr_emulator_process(
        "--latency-ms", "3", "--jitter-ms", "6", state_file=state_file
    ) as hlr:
        write_config(config, hlr.port, db)
        for trial in range(TRIALS):
            port = free_port()
            gw = await start_gateway(config, port)
            orders = workload(trial, opened, rnd)
            this_trial: set[str] = set()
            first = asyncio.Event()
            submitting = asyncio.create_task(submit_all(port, orders, this_trial, first))
            await first_accepted(first, submitting)
            await asyncio.sleep(rnd.uniform(0.0, 0.2))
            gw.send_signal(signal.SIGKILL)
            await gw.wait()
            await submitting
            accepted |= this_trial
            opened += [o["msisdn"] for o in orders if o["kind"] == "open_account"]
            async with SqliteStore(db, Vault(bytes.fromhex(KEY))) as store:
                counts = await store.counts()
            kills_mid_flight += counts.get("provisioning", 0) > 0
        # Final restart: let everything finish.
        port = free_port()
        gw = await start_gateway(config, port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as c:
            for _ in range(600):
                counts = (await c.get("/health")).json()["orders"]
                if not counts.get("accepted") and not counts.get("provisioning"):
                    break
                await asyncio.sleep(0.1)
        gw.send_signal(signal.SIGTERM)
        await gw.wait()
    hlr_state = json.loads(state_file.read_text())

    async with SqliteStore(db, Vault(bytes.fromhex(KEY))) as store:
        records = await store.list_orders(limit=10_000)
        by_id = {r.id: r for r in records}
        assert accepted <= set(by_id), "every order the API accepted is in the store"
        unfinished = [r.id for r in records if not r.state.terminal]
        assert unfinished == [], "every accepted order reached a terminal state"
        repeated: Counter[tuple[str, str, int]] = Counter()
        for r in records:
            for t in await store.transcript(r.id):
                assert t.code not in ("3002", "3008"), f"{r.id}: a step was done twice: {t.text}"
                if t.outcome == "ok":
                    repeated[(r.id, t.phase, t.idx)] += 1
        assert max(repeated.values()) == 1, "no step succeeded twice"
        assert sum(r.state.value == "completed" for r in records) >= TRIALS * 4
        lines = await store.all_lines()
    assert actual_state(hlr_state) == expected_state(lines)
    assert kills_mid_flight >= TRIALS // 4, "the kills really landed mid-plan"
