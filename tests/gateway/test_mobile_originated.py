"""The gateway's MO seam: a running gateway binds to the SMS centre at once, hands what
customers text to the service numbers to its ``mobile_originated`` handler and cards' PoRs to
the OTA target; the [ota] settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from emulators.smsc import SmscEmulator
from gateway.config import GatewayConfig, OtaConfig, SmscConfig
from gateway.network import MobileOriginated, build_targets, close_targets
from gateway.runtime import running_gateway
from simcard.sms_pp import SmsSubmit

ALICE = "8613800138001"


@pytest.fixture
async def smsc() -> AsyncIterator[SmscEmulator]:
    async with SmscEmulator(port=0, admin_port=0, service_numbers=("10086", "10658800")) as emu:
        yield emu


def config(smsc: SmscEmulator, tmp_path: Path, **extra: object) -> GatewayConfig:
    assert smsc.admin_port is not None
    return GatewayConfig(
        database=tmp_path / "gw.db",
        secret_key_file=tmp_path / "secret.key",
        smsc=SmscConfig(
            smpp_port=smsc.port, admin_port=smsc.admin_port, password=SecretStr("provgw")
        ),
        **extra,  # type: ignore[arg-type]
    )


async def eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - the emulator's counters, no event to wait on
            await asyncio.sleep(0.01)


async def test_a_running_gateway_takes_mo_to_its_service_numbers(
    smsc: SmscEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    received: asyncio.Queue[MobileOriginated] = asyncio.Queue()
    gateway = config(smsc, tmp_path, ota=OtaConfig(counters=tmp_path / "ota.sqlite"))
    async with running_gateway(gateway, create_key=True, mobile_originated=received.put):
        await eventually(lambda: smsc.status()["bound_now"] == 1)  # bound before any notice
        smsc.core.mobile_originated(ALICE, SmsSubmit.text("10086", "CXXZ#张三#110101199003074578"))
        message = await asyncio.wait_for(received.get(), 5)
        smsc.core.mobile_originated(ALICE, SmsSubmit.text("10010", "someone else's"))  # not ours
        por = SmsSubmit(
            "10658800", bytes.fromhex("027100") + bytes(16), pid=0x7F, dcs=0xF6, udhi=True
        )
        smsc.core.mobile_originated(ALICE, por)
        await eventually(lambda: smsc.stats.mo_delivered == 2)  # the keyword and the PoR
    assert (message.source, message.destination) == (ALICE, "10086")
    assert message.text == "CXXZ#张三#110101199003074578" and received.empty()
    assert "PoR from 8613800138001 for no request waiting" in caplog.text  # to the OTA target
    assert smsc.stats.mo_sent == 2  # 10010 is no service number: not for the gateway at all


async def test_the_ota_target_is_built_beside_the_smsc(smsc: SmscEmulator, tmp_path: Path) -> None:
    targets = build_targets(config(smsc, tmp_path, ota=OtaConfig(counters=tmp_path / "c")))
    try:
        assert {name: ne.dialect for name, ne in targets.network.items()} == {
            "smsc": "smsc-http-smpp",
            "ota": "ota-scp80",
        }
    finally:
        await close_targets(targets)
    with pytest.raises(ValidationError, match="ota: cards are reached through the SMS centre"):
        GatewayConfig(ota=OtaConfig())
    with pytest.raises(ValidationError, match="address"):
        OtaConfig(address="+10658800")
