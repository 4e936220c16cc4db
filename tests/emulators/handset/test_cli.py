"""`provgw emulate handset`: bad options named, and a card that cannot be reached said so (exit
3, one line). Running it for real, against pcscd: tests/integration/test_ota_path.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from emulators.cli import emulate


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--msisdn", "+8613800138001", "--reader", "r"], "--msisdn"),
        (["--msisdn", "8613800138001", "--reader", "r", "--smsc", "nowhere"], "HOST:PORT"),
        (["--msisdn", "8613800138001"], "--reader"),
    ],
)
def test_bad_options_are_refused_naming_them(args: list[str], message: str) -> None:
    result = CliRunner().invoke(emulate, ["handset", *args])
    assert result.exit_code == 2 and message in result.output


def test_without_pcscd_it_says_why_and_exits_3(tmp_path: Path) -> None:
    socket = tmp_path / "no-pcscd.comm"  # nothing listens there
    done = subprocess.run(
        [sys.executable, "-m", "emulators.handset", "--msisdn", "8613800138001",
         "--reader", "Virtual PCD", "--pcsc-socket", str(socket), "--json"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    event = json.loads(done.stdout)
    assert event["event"] == "unavailable" and "PC/SC" in event["reason"]
