"""`provgw emulate reader`: a private pcscd with a blank card, driven through its control API;
and where it cannot run, the reader and the demo say why."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from emulators.usim.pcscd import missing_components
from gateway.resources.demo import DEMO_PASSWORDS


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")


@pytest.mark.pcsc
async def test_the_reader_starts_answers_its_control_api_and_stops_cleanly(tmp_path: Path) -> None:
    missing = missing_components()
    if missing:
        reason = f"{', '.join(missing)} not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the PC/SC chain is required under CI: {reason}")
        pytest.skip(reason)
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "emulators.usim.reader_cli", "--json", "--dir", str(tmp_path)],
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        ready = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
        assert ready["event"] == "ready", ready
        assert ready["reader"] == "Virtual PCD 00 00"
        socket = Path(ready["PCSCLITE_CSOCK_NAME"])
        assert await asyncio.to_thread(socket.is_socket)
        (pcscd,) = children(proc.pid)
        async with httpx.AsyncClient(base_url=ready["control"], timeout=10) as control:
            assert (await control.get("/status")).json()["card"] is True
            assert (await control.post("/remove")).json()["card"] is False
            assert (await control.get("/status")).json()["card"] is False
            inserted = (await control.post("/insert")).json()
            assert inserted == {"reader": "Virtual PCD 00 00", "card": True, "model": "provgw"}
            assert (await control.post("/nowhere")).status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0
    assert json.loads(rest.decode().splitlines()[-1]) == {"event": "stopped"}
    assert not alive(pcscd), "pcscd stopped by its PID"
    assert not await asyncio.to_thread(socket.exists), "its socket directory removed"


async def test_where_the_reader_cannot_run_it_says_why_and_exits_3() -> None:
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "emulators.usim.reader_cli", "--json"],
        stdout=asyncio.subprocess.PIPE,
        env=dict(os.environ, PATH="/nonexistent"),  # no unshare to be found
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 3
    assert json.loads(out) == {
        "event": "unavailable",
        "reason": "util-linux (unshare) not installed",
    }


ENGINEER = ("engineer1", DEMO_PASSWORDS["engineer1"])  # reading the stations needs a login


async def test_the_demo_runs_without_a_card_station_where_the_reader_cannot(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    port = unused_tcp_port
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "gateway", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=dict(os.environ, PATH="/nonexistent", COLUMNS="200"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            async with asyncio.timeout(30):
                while True:
                    try:
                        stations = await client.get("/stations", auth=ENGINEER)
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
            assert stations.json() == []
            assert (await client.get("/health")).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert (
        "card station counter-1: unavailable (util-linux (unshare) not installed); "
        "everything else runs without it"
    ) in out.decode()
