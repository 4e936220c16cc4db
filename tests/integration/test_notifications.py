"""SMS notices and SMS barring through real TCP: SMPP to the SMSC emulator, its admin API for
barring, real SSH to the HLR emulator. The SMSC emulator's store shows what the customer got."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from emulators.hlr.server import HlrEmulator
from emulators.smsc import SmscEmulator
from gateway.config import GatewayConfig, SmscConfig
from gateway.engine import Engine
from gateway.network import build_notices, build_targets, close_targets
from gateway.receipts import ReceiptBook
from gateway.store import OrderState, SqliteStore
from gateway.vault import Vault
from tests.gateway.orders_factory import open_account, order

M, E = "13800000001", "8613800000001"


@pytest.fixture
async def smsc() -> AsyncIterator[SmscEmulator]:
    async with SmscEmulator(port=0, admin_port=0) as emu:
        yield emu


@pytest.fixture
async def notifying(
    ssh_config: GatewayConfig, smsc: SmscEmulator, hlr: HlrEmulator
) -> AsyncIterator[Engine]:
    assert smsc.admin_port is not None
    smsc_config = SmscConfig(
        smpp_port=smsc.port,
        admin_port=smsc.admin_port,
        password="provgw",  # type: ignore[arg-type]
    )
    config = ssh_config.model_copy(update={"smsc": smsc_config})
    receipts = ReceiptBook()
    targets = build_targets(config, receipts)
    async with SqliteStore(config.database, Vault(bytes(32))) as store:
        receipts.store = store
        engine = Engine(
            store, config, targets.network, stations=targets.stations, notices=build_notices(config)
        )
        await engine.start()
        yield engine
        await engine.stop()
    await close_targets(targets)


async def run(engine: Engine, o: Any) -> Any:
    await engine.submit(o)
    await engine.drain()
    return await engine.store.get(o.order_id)


def texts(smsc: SmscEmulator, number: str) -> list[str]:
    return [m.text for m in smsc.messages(number) if m.complete]


async def test_welcome_notice_and_its_delivery_receipt(
    notifying: Engine, smsc: SmscEmulator
) -> None:
    rec = await run(notifying, open_account("w1"))
    assert rec.state is OrderState.COMPLETED and rec.reason is None
    assert texts(smsc, E) == ["欢迎使用provgw移动！您的号码13800000001已开通，可以正常使用。"]
    for _ in range(100):  # the emulator sends the receipt ~100 ms after the message
        sms = await notifying.store.sms_messages("w1")
        if sms and all(status == "DELIVRD" for _, _, status in sms):
            break
        await asyncio.sleep(0.05)
    assert [(step, status) for step, _, status in sms] == [(3, "DELIVRD")]


async def test_suspend_bars_sms_after_the_notice_and_resume_unbars_before_it(
    notifying: Engine, smsc: SmscEmulator
) -> None:
    await run(notifying, open_account("s0", language="en"))
    suspended = await run(notifying, order("suspend", "s1", msisdn=M, language="en"))
    assert suspended.state is OrderState.COMPLETED, suspended.reason
    assert [s.op.op for s in suspended.plan.steps] == ["send_sms", "set_lock", "set_sms_barring"]
    assert smsc.store.is_barred(E)
    assert texts(smsc, E)[-1].startswith("Your line 13800000001 has been suspended")
    resumed = await run(notifying, order("resume", "s2", msisdn=M, language="en"))
    assert resumed.state is OrderState.COMPLETED, resumed.reason
    assert not smsc.store.is_barred(E)
    assert texts(smsc, E)[-1].startswith("Your line 13800000001 has been resumed")
    line = (await notifying.store.lines([M]))[M]
    assert line is not None and not line.network.sms_barred


async def test_number_change_and_recharge_notices(notifying: Engine, smsc: SmscEmulator) -> None:
    await run(notifying, open_account("n0"))
    await run(notifying, order("change_number", "n1", msisdn=M, new_msisdn="13900000009"))
    assert texts(smsc, "8613900000009") == [
        "您的号码已由13800000001改为13900000009，套餐、余额和SIM卡保持不变。"
    ]
    await run(notifying, order("recharge", "n2", msisdn="13900000009", amount_cents=5000))
    assert texts(smsc, "8613900000009")[-1] == "充值成功：您的号码13900000009已充值50元。"


async def test_a_notice_that_cannot_be_sent_never_undoes_the_order(
    notifying: Engine, smsc: SmscEmulator, hlr: HlrEmulator
) -> None:
    smsc.bar(E)  # the SMS centre refuses messages to this number
    rec = await run(notifying, open_account("f1"))
    assert rec.state is OrderState.COMPLETED
    assert rec.reason is not None and "not done (best effort)" in rec.reason
    assert "460000000000001" in hlr.state.snapshot()["subscribers"], "provisioning stays"
    assert {(s.phase, s.idx): s.state.value for s in rec.steps}[("forward", 3)] == "failed"


async def test_cancellation_leaves_the_number_unbarred_for_the_pool(
    notifying: Engine, smsc: SmscEmulator, hlr: HlrEmulator
) -> None:
    await run(notifying, open_account("c0"))
    await run(notifying, order("pre_cancel", "c1", msisdn=M))
    assert smsc.store.is_barred(E)
    rec = await run(notifying, order("cancel", "c2", msisdn=M))
    assert rec.state is OrderState.COMPLETED, rec.reason
    assert [s.op.op for s in rec.plan.steps] == [
        "set_sms_barring",
        "remove_subscriber",
        "remove_auth",
    ]
    assert not smsc.store.is_barred(E)
    assert hlr.state.snapshot() == {"ki": {}, "subscribers": {}}
