"""The SMPP client against the SMSC emulator over real TCP: submits, receipts, throttling,
dropped binds, the window, binds refused."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic import ValidationError

from adapters.smpp.client import DeliveryReceipt, SmppClient, SmppSettings
from emulators.smsc import Faults, SmscEmulator
from gateway.operations import Outcome

DEST = "8613800138000"
LONG_CHINESE = "尊敬的客户，您的号码已成功开通。" * 6  # 96 characters: two UCS-2 parts


@pytest.fixture
async def smsc() -> AsyncIterator[SmscEmulator]:
    async with SmscEmulator(port=0, admin_port=None, faults=Faults(receipt_delay_ms=5)) as emu:
        yield emu


def settings(smsc: SmscEmulator, **overrides: Any) -> SmppSettings:
    values: dict[str, Any] = {
        "port": smsc.port,
        "system_id": "provgw",
        "password": "provgw",
        "reconnect_backoff": 0.01,
        "throttled_backoff": 0.005,
        "bind_timeout": 2.0,
        "response_timeout": 2.0,
        "submit_timeout": 10.0,
    }
    values.update(overrides)
    return SmppSettings(**values)


async def eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - counters of the emulator, no event to wait on
            await asyncio.sleep(0.005)


async def test_submit_then_delivery_receipt_keyed_by_message_id(smsc: SmscEmulator) -> None:
    receipts: asyncio.Queue[DeliveryReceipt] = asyncio.Queue()
    async with SmppClient(settings(smsc), on_receipt=receipts.put_nowait) as client:
        result = await client.submit(DEST, "Welcome [1] {ok} 5€", sender="provgw", reference="o-1")
        assert result.ok and result.code == "ESME_ROK"
        assert (result.segments, result.data_coding) == (1, 0)
        receipt = await asyncio.wait_for(receipts.get(), 5)
    assert receipt.message_id == result.message_ids[0]
    assert receipt.delivered and receipt.handset == DEST
    (message,) = smsc.messages(DEST)
    assert (message.text, message.source) == ("Welcome [1] {ok} 5€", "provgw")
    assert smsc.stats.receipts_acknowledged == 1


async def test_a_receipt_the_handler_fails_on_comes_again(smsc: SmscEmulator) -> None:
    seen: list[str] = []

    async def handler(receipt: DeliveryReceipt) -> None:
        seen.append(receipt.message_id)
        if len(seen) == 1:
            raise RuntimeError("store unavailable")

    async with SmppClient(settings(smsc), on_receipt=handler) as client:
        result = await client.submit(DEST, "hi", sender="provgw", reference="o-2")
        await eventually(lambda: smsc.stats.receipts_acknowledged == 1)
    assert seen == [result.message_ids[0]] * 2


async def test_chinese_longer_than_one_part_arrives_reassembled(smsc: SmscEmulator) -> None:
    async with SmppClient(settings(smsc)) as client:
        result = await client.submit(DEST, LONG_CHINESE, sender="10086", reference="o-3")
    assert result.ok and (result.segments, result.data_coding) == (2, 8)
    (message,) = smsc.messages(DEST)
    assert message.complete and message.text == LONG_CHINESE
    assert message.data_coding == 8
    assert message.message_ids == list(result.message_ids)


async def test_long_gsm_text_with_extension_characters_reassembled(smsc: SmscEmulator) -> None:
    text = "Balance {€12} [ok] ~|^\\ " * 12  # 288 characters, 384 septets: three parts
    async with SmppClient(settings(smsc)) as client:
        result = await client.submit(DEST, text, sender="provgw", reference="o-4")
    assert result.ok and (result.segments, result.data_coding) == (3, 0)
    assert [m.text for m in smsc.messages(DEST)] == [text]


async def test_a_barred_number_is_refused_permanently(smsc: SmscEmulator) -> None:
    smsc.bar(DEST)
    async with SmppClient(settings(smsc)) as client:
        refused = await client.submit(DEST, "hi", sender="provgw", reference="o-5")
        smsc.unbar(DEST)
        accepted = await client.submit(DEST, "hi", sender="provgw", reference="o-6")
    assert (refused.outcome, refused.code, refused.message_ids) == (
        Outcome.PERMANENT,
        "ESME_RINVDSTADR",
        (),
    )
    assert accepted.ok
    assert len(smsc.messages(DEST)) == 1
    assert smsc.stats.barred == 1


@pytest.mark.parametrize(("status", "name"), [(0x58, "ESME_RTHROTTLED"), (0x14, "ESME_RMSGQFUL")])
async def test_throttling_is_transient_and_retried(
    smsc: SmscEmulator, status: int, name: str
) -> None:
    smsc.faults.update(refuse_rate=1.0, refuse_status=status)
    async with SmppClient(settings(smsc)) as client:
        sending = asyncio.create_task(
            client.submit(DEST, LONG_CHINESE, sender="provgw", reference="o-7")
        )
        await eventually(lambda: smsc.stats.refused >= 3)
        smsc.faults.clear()
        result = await sending
    assert result.ok and len(result.message_ids) == 2
    assert client.stats.throttled >= 3
    assert [m.text for m in smsc.messages(DEST)] == [LONG_CHINESE]


async def test_throttling_past_the_deadline_is_transient(smsc: SmscEmulator) -> None:
    smsc.faults.update(refuse_rate=1.0)
    async with SmppClient(settings(smsc, submit_timeout=0.1)) as client:
        result = await client.submit(DEST, "hi", sender="provgw", reference="o-8")
    assert (result.outcome, result.code) == (Outcome.TRANSIENT, "ESME_RTHROTTLED")
    assert not result.unreachable  # the SMSC answered "not now": not an outage


async def test_other_refusals_are_permanent_and_not_retried(smsc: SmscEmulator) -> None:
    smsc.faults.update(refuse_rate=1.0, refuse_status=0x45)
    async with SmppClient(settings(smsc)) as client:
        result = await client.submit(DEST, "hi", sender="provgw", reference="o-9")
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "ESME_RSUBMITFAIL")
    assert not result.unreachable
    assert smsc.stats.submit_sm == 1


@pytest.mark.parametrize("stage", ["received", "stored"])
async def test_a_bind_dropped_over_a_submit_recovers_exactly_once(
    smsc: SmscEmulator, stage: str
) -> None:
    """The guarantee: a part whose response was lost is sent again on the next bind with the
    same idempotency key; the SMSC stores it if it had not ("received"), or answers with the
    first message id if it had ("stored"). Either way: one message, no loss, no duplicate."""
    smsc.faults.update(drop_rate=1.0, drop_stage=stage)
    async with SmppClient(settings(smsc)) as client:
        sending = asyncio.create_task(
            client.submit(DEST, LONG_CHINESE, sender="provgw", reference="o-10")
        )
        await eventually(lambda: smsc.stats.drops >= 1)
        smsc.faults.clear()
        result = await sending
    assert result.ok
    (message,) = smsc.messages(DEST)
    assert message.complete and message.text == LONG_CHINESE
    assert message.message_ids == list(result.message_ids)
    assert client.stats.binds >= 2 and client.stats.resent >= 1
    assert smsc.stats.accepted == 2  # each part stored once
    if stage == "stored":
        assert smsc.stats.duplicates >= 1  # a part sent again was recognised by its key
    else:
        assert smsc.stats.duplicates == 0


async def test_many_messages_through_random_dropped_binds_each_arrive_once(
    smsc: SmscEmulator,
) -> None:
    smsc.faults.update(drop_rate=0.1, drop_stage="stored")
    smsc.faults.rng.seed(6)
    numbers = [f"86138{n:08d}" for n in range(30)]
    async with SmppClient(settings(smsc)) as client:
        results = await asyncio.gather(
            *(
                client.submit(
                    number,
                    f"Notice {i}: " + LONG_CHINESE[: 20 + 5 * i],
                    sender="provgw",
                    reference=f"n-{i}",
                )
                for i, number in enumerate(numbers)
            )
        )
    assert all(result.ok for result in results)
    assert smsc.stats.drops >= 2 and smsc.stats.duplicates >= 1
    for i, number in enumerate(numbers):
        assert [m.text for m in smsc.messages(number)] == [
            f"Notice {i}: " + LONG_CHINESE[: 20 + 5 * i]
        ]


async def test_without_the_key_duplicates_are_bounded_by_the_window(smsc: SmscEmulator) -> None:
    """An SMSC that ignores the idempotency key may deliver a part twice — only a part in
    flight when the bind dropped, so at most `window` per drop."""
    smsc.faults.update(drop_rate=1.0, drop_stage="stored")
    window = 3
    async with SmppClient(settings(smsc, idempotency_tag=None, window=window)) as client:
        sending = [
            asyncio.create_task(client.submit(DEST, f"m{i}", sender="provgw", reference=f"w-{i}"))
            for i in range(window)
        ]
        await eventually(lambda: smsc.stats.drops >= 1)
        smsc.faults.clear()
        results = await asyncio.gather(*sending)
    assert all(result.ok for result in results)
    texts = [m.text for m in smsc.messages(DEST)]
    assert sorted(set(texts)) == [f"m{i}" for i in range(window)]  # nothing lost
    duplicates = len(texts) - window
    assert 1 <= duplicates <= window * smsc.stats.drops  # at most `window` per dropped bind


async def test_the_window_caps_submits_awaiting_a_response(smsc: SmscEmulator) -> None:
    smsc.faults.update(latency_ms=20)
    async with SmppClient(settings(smsc, window=4)) as client:
        results = await asyncio.gather(
            *(
                client.submit(DEST, f"m{i}", sender="provgw", reference=f"win-{i}")
                for i in range(20)
            )
        )
    assert all(result.ok for result in results)
    assert smsc.stats.max_outstanding == 4


async def test_a_wrong_password_is_reported_without_showing_it(
    smsc: SmscEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with SmppClient(settings(smsc, password="Wr0ng!", submit_timeout=0.2)) as client:
        with pytest.raises(TimeoutError, match="ESME_RINVPASWD"):
            await client.wait_bound(0.3)
        result = await client.submit(DEST, "hi", sender="provgw", reference="o-11")
    assert (result.outcome, result.code, result.unreachable) == (
        Outcome.TRANSIENT,
        "not-bound",
        True,  # a refused bind is like a refused login: nothing can be sent
    )
    assert "ESME_RINVPASWD" in result.text
    assert smsc.stats.bind_refusals >= 1 and smsc.stats.submit_sm == 0
    assert "Wr0ng!" not in caplog.text


def test_settings_never_echo_the_password() -> None:
    with pytest.raises(ValidationError, match="password") as caught:
        SmppSettings(system_id="provgw", password="far-too-long-secret")
    assert "far-too-long-secret" not in str(caught.value)
    assert "provgw1" not in repr(SmppSettings(system_id="x", password="provgw1"))


async def test_an_unreachable_smsc_is_transient_and_nothing_is_sent() -> None:
    async with SmscEmulator(port=0, admin_port=None) as gone:
        port = gone.port
    config = SmppSettings(
        port=port, system_id="provgw", password="provgw", submit_timeout=0.2, reconnect_backoff=0.01
    )
    async with SmppClient(config) as client:
        result = await client.submit(DEST, "hi", sender="provgw", reference="o-12")
    assert (result.outcome, result.code, result.unreachable) == (
        Outcome.TRANSIENT,
        "not-bound",
        True,
    )
    assert client.stats.submit_sm == 0 and client.stats.bind_failures >= 1


async def test_a_response_too_late_makes_the_outcome_unknown(smsc: SmscEmulator) -> None:
    smsc.faults.update(latency_ms=1000)
    config = settings(smsc, response_timeout=0.05, submit_timeout=0.2)
    async with SmppClient(config) as client:
        result = await client.submit(DEST, "hi", sender="provgw", reference="o-13")
        smsc.faults.clear()
    # The part may have reached the SMSC: whatever the client was doing when its time ran out
    # (waiting for the response, or for the rebind that a late response forces), the outcome
    # is unknown — never "not sent", which would invite a blind resend.
    assert result.outcome is Outcome.UNKNOWN and result.unreachable
    assert result.code in ("timeout", "not-bound")


async def test_bad_input_names_the_field_and_sends_nothing(smsc: SmscEmulator) -> None:
    async with SmppClient(settings(smsc)) as client:
        for kwargs, field in [
            ({"destination": "+8613800138000"}, "destination"),
            ({"sender": "a-sender-far-too-long"}, "sender"),
            ({"reference": ""}, "reference"),
            ({"text": ""}, "text"),
            ({"text": "x" * 2000}, "text"),
        ]:
            call = {"destination": DEST, "text": "hi", "sender": "provgw", "reference": "r"}
            call.update(kwargs)
            with pytest.raises(ValueError, match=f"^{field}:"):
                await client.submit(call.pop("destination"), call.pop("text"), **call)
    assert smsc.stats.submit_sm == 0


async def test_close_unbinds(smsc: SmscEmulator) -> None:
    async with SmppClient(settings(smsc)) as client:
        assert (await client.submit(DEST, "hi", sender="provgw", reference="o-14")).ok
    assert smsc.stats.unbinds == 1
    await eventually(lambda: smsc.status()["bound_now"] == 0)
    assert smsc.stats.drops == 0
    late = await client.submit(DEST, "hi", sender="provgw", reference="o-15")
    assert (late.outcome, late.code, late.unreachable) == (Outcome.TRANSIENT, "closed", True)


async def test_receipts_held_while_the_bind_is_down_arrive_after_the_rebind(
    smsc: SmscEmulator,
) -> None:
    smsc.faults.update(receipt_delay_ms=50)
    receipts: asyncio.Queue[DeliveryReceipt] = asyncio.Queue()
    async with SmppClient(settings(smsc), on_receipt=receipts.put_nowait) as client:
        result = await client.submit(DEST, "hi", sender="provgw", reference="o-16")
        assert smsc.drop_binds() == 1
        receipt = await asyncio.wait_for(receipts.get(), 5)
        assert client.stats.binds == 2
        assert (await client.submit(DEST, "again", sender="provgw", reference="o-17")).ok
    assert receipt.message_id == result.message_ids[0]


async def test_an_smsc_going_away_unbinds_the_client_which_binds_again(
    smsc: SmscEmulator,
) -> None:
    async with SmppClient(settings(smsc)) as client:
        await client.wait_bound(2.0)
        port = smsc.port
        await smsc.stop()
        assert not client.bound
        async with SmscEmulator(port=port, admin_port=None) as again:
            result = await client.submit(DEST, "back", sender="provgw", reference="o-18")
            assert result.ok
            assert [m.text for m in again.messages(DEST)] == ["back"]
