"""The processes of the OTA path, for the OTA benchmark and the end-to-end tests:

    card reader emulator (`provgw emulate reader --ota-keys …`: private pcscd + vpcd + card)
    SMSC emulator (`python -m emulators.smsc`, handsets' port and service numbers)
    emulated handset (`python -m emulators.handset`, its card behind that pcscd)

each its own process, announced by its JSON line, stopped by its PID (SIGTERM, then SIGKILL).
The gateway's side (`gateway_config`) runs in the caller's process.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from gateway.config import GatewayConfig, OtaConfig, SmscConfig

MSISDN, SERVICE, OTA_ADDRESS = "8613800138001", "10086", "10658800"
ICCID = "8988211000000467343"
KIC, KID = "200102030405060708090a0b0c0d0e0f", "201102030405060708090a0b0c0d0e0f"


class Unavailable(RuntimeError):
    """The reader emulator cannot run here (pcscd, vsmartcard-vpcd or unshare missing)."""


@dataclass
class OtaPath:
    reader: dict[str, Any]
    smsc: dict[str, Any]
    handset: dict[str, Any]
    counters: Path  # the OTA counters live as long as the card: one store for the whole run

    @property
    def pcsc_env(self) -> dict[str, str]:
        """The environment of a PC/SC client of the reader's pcscd."""
        return dict(os.environ, PCSCLITE_CSOCK_NAME=self.reader["PCSCLITE_CSOCK_NAME"])

    @property
    def smsc_admin(self) -> str:
        return f"http://127.0.0.1:{self.smsc['admin_port']}"

    @property
    def phone(self) -> str:
        return f"http://127.0.0.1:{self.handset['admin_port']}"


@contextlib.contextmanager
def ota_path(workdir: Path) -> Iterator[OtaPath]:
    """Start the three processes (the card holds the key set KIC/KID, version 1, AES)."""
    processes: list[subprocess.Popen[str]] = []
    try:
        reader = _start(
            processes, "emulators.usim.reader_cli", "--dir", str(workdir / "reader"),
            "--ota-keys", f"1:aes:{KIC}:{KID}",
        )  # fmt: skip
        if reader.get("event") != "ready":
            raise Unavailable(str(reader.get("reason", reader)))
        smsc = _start(
            processes, "emulators.smsc", "--port", "0", "--admin-port", "0", "--handset-port",
            "0", "--service-number", SERVICE, "--service-number", OTA_ADDRESS,
            "--receipt-delay-ms", "5",
        )  # fmt: skip
        handset = _start(
            processes, "emulators.handset", "--msisdn", MSISDN, "--reader", reader["reader"],
            "--smsc", f"127.0.0.1:{smsc['handset_port']}",
            "--pcsc-socket", reader["PCSCLITE_CSOCK_NAME"],
        )  # fmt: skip
        if handset.get("event") != "listening":
            raise RuntimeError(f"the handset did not attach: {handset}")
        yield OtaPath(reader, smsc, handset, workdir / "ota-counters.sqlite")
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def gateway_config(path: OtaPath, database: Path, *, por_timeout: float) -> GatewayConfig:
    """The gateway's settings for the path: the SMSC (its built-in account) and OTA."""
    return GatewayConfig(
        database=database,
        smsc=SmscConfig(
            smpp_port=path.smsc["port"],
            admin_port=path.smsc["admin_port"],
            password=SecretStr("provgw"),
            service_numbers=[SERVICE],
        ),
        ota=OtaConfig(address=OTA_ADDRESS, por_timeout_s=por_timeout, counters=path.counters),
    )


def _start(processes: list[subprocess.Popen[str]], *args: str) -> dict[str, Any]:
    process = subprocess.Popen(
        [sys.executable, "-m", *args, "--json"], stdout=subprocess.PIPE, text=True
    )
    processes.append(process)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"{args[0]} exited with {process.wait()} before it was ready")
    event: dict[str, Any] = json.loads(line)
    return event
