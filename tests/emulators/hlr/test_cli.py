"""`provgw emulate hlr` / `python -m emulators.hlr`: the listening line, SIGTERM, the state file."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from emulators.cli import emulate

from .conftest import IMSI, LOGIN, SshClient, add_ki


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
        [sys.executable, "-m", "emulators.hlr", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    spawn.append(process)
    assert process.stdout is not None
    return process, process.stdout.readline()


def stop(process: subprocess.Popen[str], signum: int) -> int:
    process.send_signal(signum)
    return process.wait(timeout=10)


async def test_json_line_then_serves_and_stops_on_sigterm_keeping_state(
    spawn: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    state = tmp_path / "hlr.json"
    process, line = start(spawn, "--json", "--ne-name", "HSS9860", "--state", str(state))
    event = json.loads(line)
    port = event["port"]
    assert event == {
        "event": "listening",
        "host": "127.0.0.1",
        "port": event["port"],
        "ne": "HSS9860",
        "snmp_port": None,
    }
    client = await SshClient.open(port)
    assert (await client.send(LOGIN)).code == 0
    reply = await client.send(add_ki())
    assert reply.raw.startswith("+++    HSS9860        ")
    await client.close()
    assert await asyncio.to_thread(stop, process, signal.SIGTERM) == 0
    assert list(json.loads(state.read_text())["ki"]) == [IMSI]


async def test_human_line_users_and_faults_from_options(
    spawn: list[subprocess.Popen[str]],
) -> None:
    process, line = start(
        spawn, "--user", "eng", "--password", "pw", "--mml-user", "op", "--mml-password", "oppw",
        "--no-admin", "--error-rate", "1", "--error-code", "5002",
    )  # fmt: skip
    match = re.fullmatch(r"HLR emulator HLR9820 listening on ssh://127\.0\.0\.1:(\d+)\n", line)
    assert match is not None, line
    client = await SshClient.open(int(match[1]), "eng", "pw")
    assert (await client.send('LGI:HLRSN=1,OPNAME="op",PWD="oppw";')).code == 0
    assert (await client.send(add_ki())).code == 5002
    assert (await client.send("LST EMUFAULT:;")).code == 1006
    await client.close()
    assert await asyncio.to_thread(stop, process, signal.SIGINT) == 0


def test_bad_option_values_fail_with_a_message(
    spawn: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    templates = tmp_path / "templates.toml"
    templates.write_text('[1]\nNAM = "ALL"\n')
    for args, message in (
        (["--templates", str(templates)], "nam"),
        (["--error-rate", "2"], "error_rate"),
    ):
        process, line = start(spawn, *args)
        assert line == ""
        assert process.wait(timeout=10) != 0
        assert process.stderr is not None and message in process.stderr.read()


def test_registered_under_provgw_emulate() -> None:
    result = CliRunner().invoke(emulate, ["hlr", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--state", "--host-key", "--latency-ms", "--stuck-after", "--json"):
        assert option in result.output
