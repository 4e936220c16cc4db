"""`provgw emulate smsc` / `python -m emulators.smsc`: the listening line, options, SIGTERM."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner

from emulators.cli import emulate

from .test_server import SUBMIT_SM, Esme, bind_body, submit_body


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[str]]]:
    """Started emulator processes; any still running at the end are killed by PID."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def start(spawn: list[subprocess.Popen[str]], *args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulators.smsc",
            "--port",
            "0",
            "--admin-port",
            "0",
            "--handset-port",
            "0",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    spawn.append(process)
    assert process.stdout is not None
    return process, process.stdout.readline()


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=10)


async def test_json_line_options_and_sigterm(spawn: list[subprocess.Popen[str]]) -> None:
    process, line = start(
        spawn, "--json", "--system-id", "esme1", "--password", "pw1", "--admin-user", "eng",
        "--admin-password", "adm", "--bar", "8613800138000", "--barred-status", "0x401",
    )  # fmt: skip
    event = json.loads(line)
    assert event == {
        "event": "listening",
        "host": "127.0.0.1",
        "port": event["port"],
        "admin_port": event["admin_port"],
        "handset_port": event["handset_port"],
        "system_id": "SMSC",
        "service_numbers": ["10086", "10658800"],
        "snmp_port": None,
    }
    assert event["handset_port"] not in (0, event["port"], event["admin_port"])
    esme = await Esme.open(event["port"])
    assert (await esme.ask(0x09, 1, bind_body("esme1", "pw1")))[1] == 0
    assert (await esme.ask(SUBMIT_SM, 2, submit_body(b"hi")))[1] == 0x401
    await esme.close()
    async with httpx.AsyncClient(auth=("eng", "adm")) as http:
        url = f"http://127.0.0.1:{event['admin_port']}/barring"
        assert (await http.get(url)).json() == {"barred": ["8613800138000"]}
    assert await asyncio.to_thread(stop, process) == 0


def test_human_line_without_admin(spawn: list[subprocess.Popen[str]]) -> None:
    process, line = start(spawn, "--no-admin", "--no-handsets", "--smsc-id", "SMSC01")
    assert re.fullmatch(r"SMSC emulator SMSC01 listening on smpp://127\.0\.0\.1:\d+\n", line)
    assert stop(process) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--refuse-rate", "2"], "refuse_rate"),
        (["--refuse-status", "lots"], "lots"),
        (["--password", "longer-than-8"], "accounts"),
        (["--mo-loss-rate", "1.5"], "mo_loss_rate"),
        (["--mo-retry-ms", "0"], "--mo-retry-ms"),
        (["--service-number", "10086x"], "service_numbers"),
    ],
)
def test_bad_options_are_refused_naming_them(args: list[str], message: str) -> None:
    result = CliRunner().invoke(emulate, ["smsc", "--port", "0", *args])
    assert result.exit_code != 0
    assert message in result.output
