"""The SMSC as a NetworkElement (adapters.smpp.smsc): SMS barring through the emulator's admin API
and notifications through SMPP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.network_element import NetworkElement, NotSupported
from adapters.smpp.client import SmppClient, SmppSettings
from adapters.smpp.smsc import Smsc, SmscAdminSettings
from emulators.smsc import SmscEmulator
from gateway.operations import (
    Lock,
    Lookup,
    Outcome,
    SendSms,
    SetLock,
    SetSmsBarring,
    SetSmsService,
)

NUMBER = "8613800138000"


@pytest.fixture
async def emulator() -> AsyncIterator[SmscEmulator]:
    async with SmscEmulator(port=0, admin_port=0) as smsc:
        yield smsc


def admin(emulator: SmscEmulator, **overrides: object) -> SmscAdminSettings:
    values: dict[str, object] = {
        "port": emulator.admin_port,
        "username": "provgw",
        "password": "provgw",
        "request_timeout": 2.0,
    }
    values.update(overrides)
    return SmscAdminSettings.model_validate(values)


@pytest.fixture
async def element(emulator: SmscEmulator) -> AsyncIterator[Smsc]:
    smpp = SmppSettings(port=emulator.port, system_id="provgw", password="provgw")
    async with SmppClient(smpp) as client:
        ne = Smsc(admin(emulator), client)
        yield ne
        await ne.close()


async def test_bar_read_back_and_unbar(element: Smsc, emulator: SmscEmulator) -> None:
    assert isinstance(element, NetworkElement)
    bar = SetSmsBarring(msisdn=NUMBER, barred=True)
    assert not bar.applied_in(await element.read(bar.lookup()))
    reply = await element.execute(bar)
    assert (reply.outcome, reply.code, reply.command) == (
        Outcome.OK,
        "200",
        f"PUT /barring/{NUMBER}",
    )
    assert emulator.store.is_barred(NUMBER)
    assert (await element.execute(bar)).ok  # idempotent: a retried step is harmless
    view = await element.read(bar.lookup())
    assert view.exists and view.sms_barred and bar.applied_in(view)
    unbar = SetSmsBarring(msisdn=NUMBER, barred=False)
    assert element.render(unbar) == f"DELETE /barring/{NUMBER}"
    assert (await element.execute(unbar)).ok
    assert not emulator.store.is_barred(NUMBER)
    assert unbar.applied_in(await element.read(unbar.lookup()))


async def test_send_sms_reports_message_ids_and_barring_refuses_it(element: Smsc) -> None:
    note = SendSms(msisdn=NUMBER, text="您的号码已停机。", sender="provgw", reference="ord-1/3")
    assert element.render(note) == (
        f"submit_sm to {NUMBER} from provgw, 1 part(s) UCS-2, reference ord-1/3: 您的号码已停机。"
    )
    await element.execute(SetSmsBarring(msisdn=NUMBER, barred=True))
    refused = await element.execute(note)
    assert (refused.outcome, refused.code) == (Outcome.PERMANENT, "ESME_RINVDSTADR")
    assert not refused.unreachable
    await element.execute(SetSmsBarring(msisdn=NUMBER, barred=False))
    sent = await element.execute(note)
    assert sent.ok and sent.fields["segments"] == "1" and sent.fields["data_coding"] == "8"
    assert len(sent.fields["message_ids"]) > 0


async def test_operations_an_smsc_cannot_carry_out(element: Smsc) -> None:
    lock = SetLock(msisdn=NUMBER, lock=Lock(incoming=True))
    with pytest.raises(NotSupported):
        element.render(lock)
    with pytest.raises(NotSupported):
        await element.execute(lock)
    with pytest.raises(NotSupported):
        await element.read(Lookup(imsi="460001234567890"))


def test_the_sms_service_is_the_hlrs_not_the_smscs(element: Smsc) -> None:
    with pytest.raises(NotSupported, match="subscription in the HLR/HSS"):
        element.check(SetSmsService(msisdn=NUMBER, mo=False, mt=False))


async def test_a_wrong_admin_password_is_permanent_and_not_shown(emulator: SmscEmulator) -> None:
    ne = Smsc(admin(emulator, password="n0t-it"))
    reply = await ne.execute(SetSmsBarring(msisdn=NUMBER, barred=True))
    await ne.close()
    assert (reply.outcome, reply.code, reply.unreachable) == (Outcome.PERMANENT, "401", False)
    assert reply.text.startswith("authorization:")
    assert "n0t-it" not in reply.model_dump_json()
    assert not emulator.store.is_barred(NUMBER)


async def test_an_unreachable_admin_api_is_transient(emulator: SmscEmulator) -> None:
    settings = admin(emulator)
    await emulator.stop()
    ne = Smsc(settings)
    reply = await ne.execute(SetSmsBarring(msisdn=NUMBER, barred=True))
    with pytest.raises(ConnectionError):
        await ne.read(Lookup(msisdn=NUMBER))
    await ne.close()
    assert (reply.outcome, reply.code, reply.unreachable) == (Outcome.TRANSIENT, "not-sent", True)


async def test_notifications_need_an_smpp_client(emulator: SmscEmulator) -> None:
    ne = Smsc(admin(emulator))
    with pytest.raises(NotSupported, match="no SMPP bind"):
        await ne.execute(SendSms(msisdn=NUMBER, text="hi", sender="provgw", reference="r"))
    await ne.close()
