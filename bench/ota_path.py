"""The processes of the OTA path, for the OTA benchmark and the end-to-end tests:

    card reader emulator (`provgw emulate reader --ota-keys …`: private pcscd + vpcd + card)
    SMSC emulator (`python -m emulators.smsc`, handsets' port and service numbers)
    emulated handset (`python -m emulators.handset`, its card behind that pcscd)

each its own process, announced by its JSON line, stopped by its PID (SIGTERM, then SIGKILL).
The gateway's side (`gateway_config`, or a whole running gateway taking orders:
`order_gateway`) runs in the caller's process.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from gateway.config import CardProfile, GatewayConfig, OtaConfig, RetryPolicy, SmscConfig
from gateway.engine import Engine
from gateway.network import MoHandler
from gateway.operations import StkMenuFile
from gateway.orders import StkMenu
from gateway.resources.sim_stock import SimStock
from gateway.resources.stock import CardIn
from gateway.runtime import running_gateway

MSISDN, SERVICE, OTA_ADDRESS = "8613800138001", "10086", "10658800"
ICCID = "8988211000000467343"
KIC, KID = "200102030405060708090a0b0c0d0e0f", "201102030405060708090a0b0c0d0e0f"
NUMBER = MSISDN.removeprefix("86")  # the line's 11-digit number
IMSI = "460001234500017"
PRODUCT = "sja5-ota"  # the card's SIM product: OTA keys, a toolkit menu


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


@contextlib.asynccontextmanager
async def order_gateway(
    path: OtaPath,
    workdir: Path,
    por_timeout: float,
    menu: StkMenuFile,
    mobile_originated: MoHandler | None = None,
) -> AsyncIterator[Engine]:
    """A gateway as `provgw serve` runs it (engine, SIM stock, OTA target), taking orders on
    the path's card: the stock holds the card, sold, with its OTA keys and an STK-capable
    product; the lines hold the handset's number on it; ``menu`` is the configured STK menu."""
    base = gateway_config(path, workdir / "gw.db", por_timeout=por_timeout)
    assert base.ota is not None
    ota = base.ota.model_copy(
        update={
            "card_profiles": [CardProfile(product=PRODUCT, stk=True)],
            "stk_menu": StkMenu(title=menu.title, items=list(menu.items)),
        }
    )
    config = base.model_copy(
        update={
            "ota": ota,
            "secret_key_file": workdir / "secret.key",
            "access_control": False,
            "retry": RetryPolicy(attempts=5, backoff_initial_s=0.2, backoff_max_s=1.0),
        }
    )
    async with running_gateway(
        config, create_key=True, mobile_originated=mobile_originated
    ) as engine:
        stock = SimStock(engine.store)
        card = CardIn.model_validate(
            {"iccid": ICCID, "imsi": IMSI, "ki": KIC, "kic": KIC, "kid": KID, "product": PRODUCT}
        )
        await stock.add_card(card, by="admin1")
        await stock.reserve_card(ICCID, "clerk1", order_id="opening")
        await stock.mark_sold(ICCID, "opening")
        since = "2026-01-05T10:00:00Z"
        line = {"msisdn": NUMBER, "imsi": IMSI, "iccid": ICCID, "ne": "hlr1",
                "product": "4g-basic", "activated_at": since, "status_since": since}  # fmt: skip
        # A line the gateway already serves (opened before; no HLR is needed for OTA work).
        await engine.store.run(
            lambda conn: conn.execute(
                "INSERT INTO lines (msisdn, data) VALUES (?, ?)", (NUMBER, json.dumps(line))
            )
        )
        yield engine


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
