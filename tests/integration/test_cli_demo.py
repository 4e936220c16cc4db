"""`provgw serve --demo` (what `make run` starts) driven by the `provgw` CLI, with exit codes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "open-account.json"


def provgw(*args: str, cwd: Path, url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = (
        dict(
            os.environ,
            PROVGW_URL=url,
            PROVGW_OPERATOR="clerk1",
            PROVGW_PASSWORD="clerk1-demo",
            PROVGW_CHANNEL="OUT001",
        )
        if url
        else None
    )
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def start_demo(cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """`provgw serve --demo` on a free port, and its URL; not waited for."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--demo", "--port", str(port)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_until_up(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the demo gateway did not come up")


def first_line(proc: subprocess.Popen[str]) -> tuple[int, int]:
    """The PID and SSH port of the HLR emulator, from the demo's first line ("HLR/HSS emulator
    HLR9820 (PID n, restarted if it dies): ssh -p PORT provgw@127.0.0.1 …")."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return int(line.split("(PID ")[1].split(",")[0]), int(line.split("ssh -p ")[1].split()[0])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    cwd = tmp_path_factory.mktemp("demo")
    proc, url = start_demo(cwd)
    try:
        wait_until_up(url)
        yield url, cwd
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_demo_prints_where_each_part_listens(demo: tuple[str, Path]) -> None:
    _, cwd = demo
    assert (cwd / "var" / "provgw.db").exists()
    assert (cwd / "var" / "secret.key").stat().st_mode & 0o777 == 0o600


def hold(number: str, cwd: Path, url: str) -> None:
    held = provgw(
        "numbers", "hold", number, "--operator", "clerk1", "--channel", "OUT001", cwd=cwd, url=url
    )
    assert held.returncode == 0, held.stdout + held.stderr


def test_submit_show_list_with_exit_codes(demo: tuple[str, Path], tmp_path: Path) -> None:
    url, cwd = demo
    unheld = provgw("order", "submit", str(EXAMPLE), cwd=cwd, url=url)
    assert unheld.returncode == 6, unheld.stdout + unheld.stderr
    assert "hold it (预占)" in unheld.stdout
    hold("13800000001", cwd, url)
    done = provgw("order", "submit", str(EXAMPLE), "--wait", "--json", cwd=cwd, url=url)
    assert done.returncode == 0, done.stdout + done.stderr
    body: dict[str, Any] = json.loads(done.stdout)
    assert body["state"] == "completed"

    shown = json.loads(provgw("order", "show", "demo-0001", "--json", cwd=cwd, url=url).stdout)
    assert [s["state"] for s in shown["plan"]] == ["done"] * 4, "3 HLR commands, a welcome SMS"
    assert shown["sms"] and shown["plan"][3]["ne"] == "smsc"
    assert "465b5ce8" not in json.dumps(shown)

    listed = json.loads(provgw("order", "list", "--json", cwd=cwd, url=url).stdout)
    assert "demo-0001" in [o["order_id"] for o in listed]

    assert provgw("order", "show", "nope", cwd=cwd, url=url).returncode == 3

    other = json.loads(EXAMPLE.read_text()) | {"product": "voice-only"}
    (tmp_path / "other.json").write_text(json.dumps(other))
    assert provgw("order", "submit", str(tmp_path / "other.json"), cwd=cwd, url=url).returncode == 4

    bad = json.loads(EXAMPLE.read_text()) | {"order_id": "bad-1", "imsi": "12345"}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    refused = provgw("order", "submit", str(tmp_path / "bad.json"), cwd=cwd, url=url)
    assert refused.returncode == 2
    assert "imsi" in refused.stdout and "15 digits" in refused.stdout

    suspend = {
        "kind": "suspend",
        "order_id": "s-9",
        "channel": "OUT001",
        "operator": "clerk1",
        "msisdn": "13700000000",
    }
    (tmp_path / "s.json").write_text(json.dumps(suspend))
    failed = provgw("order", "submit", str(tmp_path / "s.json"), "--wait", cwd=cwd, url=url)
    assert failed.returncode == 1 and "no active line" in failed.stdout


def test_plan_touches_nothing_and_reads_known_lines(demo: tuple[str, Path], tmp_path: Path) -> None:
    url, cwd = demo
    held = provgw(
        "numbers",
        "hold",
        "13800000001",
        "--operator",
        "clerk1",
        "--channel",
        "OUT001",
        cwd=cwd,
        url=url,
    )
    assert held.returncode == 0 or "in use" in held.stdout, "held now, or opened before"
    assert provgw("order", "submit", str(EXAMPLE), "--wait", cwd=cwd, url=url).returncode == 0
    taken = provgw("plan", str(EXAMPLE), "--json", cwd=cwd)
    assert taken.returncode == 1
    assert "13800000001 is already in use" in json.loads(taken.stdout)["refused"]

    fresh = json.loads(EXAMPLE.read_text()) | {"order_id": "p-2", "msisdn": "13800000002"}
    (tmp_path / "fresh.json").write_text(json.dumps(fresh))
    shown = provgw("plan", str(tmp_path / "fresh.json"), "--json", cwd=cwd)
    body = json.loads(shown.stdout)
    assert shown.returncode == 0 and body["refused"] is None
    assert [s["command"].split(":")[0] for s in body["steps"]] == [
        "ADD KI",
        "ADD TPLSUB",
        "MOD TPLGPRS",
    ]
    assert 'KIVALUE="****"' in body["steps"][0]["command"]
    orders = json.loads(provgw("order", "list", "--json", cwd=cwd, url=url).stdout)
    assert "p-2" not in [o["order_id"] for o in orders], "planning submitted nothing"


def test_unreachable_gateway_exit_code(tmp_path: Path) -> None:
    result = provgw("order", "list", cwd=tmp_path, url="http://127.0.0.1:9")
    assert result.returncode == 5 and "cannot reach" in result.stdout


def test_sigterm_stops_the_demo_and_every_part_it_started(tmp_path: Path) -> None:
    proc, url = start_demo(tmp_path)
    _, hlr_port = first_line(proc)
    wait_until_up(url)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", hlr_port))  # the HLR emulator went with the gateway


def test_the_demo_restarts_a_crashed_hlr_emulator(tmp_path: Path) -> None:
    proc, url = start_demo(tmp_path)
    assert proc.stdout is not None
    try:
        pid, hlr_port = first_line(proc)
        os.kill(pid, signal.SIGKILL)
        said = ""
        while "restarted" not in said:
            said = proc.stdout.readline()
            assert said, "the demo ended instead"
        assert "the HLR emulator restarted (1 so far)" in said
        with socket.create_connection(("127.0.0.1", hlr_port), timeout=5):
            pass  # listening again, on the port the gateway is configured with
        wait_until_up(url)  # so that SIGTERM meets the server's handler
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


def test_sigterm_during_start_up_stops_what_had_started(tmp_path: Path) -> None:
    proc, _ = start_demo(tmp_path)
    pid, _ = first_line(proc)  # the HLR emulator is up; the API is not yet
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), "the HLR emulator was stopped with the demo"
