"""The OTA target against the SMSC emulator over SMPP, an emulated handset attached to it and
an emulated card in that handset (in-process; `tests/integration/test_ota_path.py` puts pcscd
in between): updates proven by the PoR, read back over the air, refusals, a lost PoR, the
render, the check, sealed keys."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.network_element import NotSupported
from adapters.ota.transport import OtaSettings, OtaTransport
from adapters.smpp.client import SmppClient
from adapters.smpp.mo import MobileOriginated
from emulators.handset import Handset
from emulators.smsc import Faults, SmscEmulator
from emulators.usim.card import UsimCard
from gateway.network import MobileOriginatedRouter
from gateway.operations import (
    AccessTechnology,
    MenuEntry,
    OtaCard,
    OtaKeys,
    OtaRead,
    OtaUpdate,
    Outcome,
    PlmnEntry,
    RoamingListFile,
    SendSms,
    SmsCentreFile,
    SpnFile,
    StkMenuFile,
)
from simcard.ota_counters import SqliteCounters
from simcard.reader import read_card
from simcard.secured_packet import Integrity, Por, PorStatus, Spi, wrap_response
from simcard.transport import InProcessTransport
from tests.adapters.test_smpp_client import settings
from tests.emulators.usim.test_usim_ota import AES, ICCID

MSISDN, OTA_ADDRESS = "8613800138001", "10658800"
KIC, KID = AES.kic.hex(), AES.kid.hex()
CARD = OtaCard(
    iccid=ICCID, msisdn=MSISDN, keys=OtaKeys(version=1, algorithm="aes", kic=KIC, kid=KID)
)
ROAMING = RoamingListFile(
    networks=(
        PlmnEntry(
            mcc="460", mnc="01", technologies=(AccessTechnology.E_UTRAN, AccessTechnology.GSM)
        ),
        PlmnEntry(mcc="454", mnc="00"),
    )
)
MENU = StkMenuFile(
    title="中国移动",
    items=(
        MenuEntry(id=1, label="话费查询", destination="10086", text="CXHF"),
        MenuEntry(id=2, label="携号转网", destination="10086", text="CXXZ"),
    ),
)


@dataclass
class World:
    smsc: SmscEmulator
    card: UsimCard
    phone: Handset
    ota: OtaTransport
    counters: SqliteCounters
    sms: SmppClient
    router: MobileOriginatedRouter

    def target(self, **settings: object) -> OtaTransport:
        """Another OTA target on the same bind, counters and card, taking the PoRs from now."""
        ota = OtaTransport(self.ota.settings.model_copy(update=settings), self.sms, self.counters)
        self.router.ota = ota
        return ota


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with SmscEmulator(
        port=0, admin_port=None, faults=Faults(receipt_delay_ms=1), service_numbers=(OTA_ADDRESS,)
    ) as smsc:
        card = UsimCard.blank(ota_keys=[AES])
        phone = Handset(MSISDN, InProcessTransport(card), ("127.0.0.1", smsc.handset_port))
        await phone.start()
        await phone.link.wait_attached(5)
        router = MobileOriginatedRouter(["10086"], None)
        counters = SqliteCounters(tmp_path / "ota.sqlite")
        async with SmppClient(settings(smsc), on_mo=router) as sms:
            ota = OtaTransport(
                OtaSettings(address=OTA_ADDRESS, por_timeout=5.0, counters=tmp_path / "x"),
                sms,
                counters,
            )
            router.ota = ota
            await sms.wait_bound(5)
            try:
                yield World(smsc, card, phone, ota, counters, sms, router)
            finally:
                await ota.close()
                await phone.stop()


async def test_an_update_is_proven_by_the_por_and_reads_back_over_the_air(world: World) -> None:
    spn = SpnFile(name="中国移动")
    smsp = SmsCentreFile(address="8613800100500")
    op = OtaUpdate(card=CARD, files=(ROAMING, spn, smsp))
    reply = await world.ota.execute(op)
    assert (reply.outcome, reply.code, reply.unreachable) == (Outcome.OK, "por-00", False), reply
    assert reply.fields["counters"] == "1"
    assert reply.fields["sms_sent"] == "2"  # 3 SELECTs and 129 bytes of files: concatenated
    view = await world.ota.read(op.lookup())
    assert view.card is not None and view.card.files == {
        "oplmnwact": ROAMING,
        "spn": spn,
        "smsp": smsp,
    }
    assert op.applied_in(view)
    assert world.counters.last(ICCID, 1) == 2  # the read had a counter of its own
    files = read_card(InProcessTransport(world.card))["files"]  # the card layer agrees
    assert [e["plmn"] for e in files["oplmnwact"]["value"][:2]] == ["460-01", "454-00"]


async def test_a_menu_goes_through_the_uicc_rfm_and_the_handset_gets_it(world: World) -> None:
    op = OtaUpdate(card=CARD, files=(SpnFile(name="provgw"), MENU))
    reply = await world.ota.execute(op)
    assert reply.ok, reply
    assert reply.fields["counters"] == "1,2"  # USIM RFM, then UICC RFM: two packets
    assert int(reply.fields["sms_sent"]) > 2  # the menu's 8 records take several SMS
    assert world.phone.menu is not None and world.phone.menu.title == "中国移动"
    assert world.phone.menu.items == ((1, "话费查询"), (2, "携号转网"))
    assert op.applied_in(await world.ota.read(op.lookup()))
    read = await world.ota.execute(OtaRead(card=CARD, files=("stk_menu", "smsp")))
    assert read.ok and json.loads(read.fields["stk_menu"])["items"][1]["text"] == "CXXZ"
    assert read.fields["smsp"] == "null"  # blank on this card


async def test_wrong_keys_are_refused_by_the_card_for_good(world: World) -> None:
    wrong = CARD.model_copy(update={"keys": OtaKeys(version=1, kic="00" * 16, kid="00" * 16)})
    reply = await world.ota.execute(OtaUpdate(card=wrong, files=(ROAMING,)))
    # deciphered with the wrong KIc the padding makes no sense: "ciphering error", in clear
    assert (reply.outcome, reply.code, reply.unreachable) == (Outcome.PERMANENT, "por-05", False)
    assert "unauthenticated" in reply.text


async def test_a_command_the_card_refuses_is_permanent(world: World) -> None:
    ota = world.target(smsp_record_length=30)  # the card's records have 52 bytes
    reply = await ota.execute(OtaUpdate(card=CARD, files=(SmsCentreFile(address="8613800100500"),)))
    assert (reply.outcome, reply.code) == (Outcome.PERMANENT, "sw-6700"), reply


async def test_a_lost_por_is_unknown_and_the_read_back_settles_it(world: World) -> None:
    fast = world.target(por_timeout=0.5)
    world.smsc.faults.update(mo_loss_rate=1.0)  # the PoR is lost inside the SMSC
    op = OtaUpdate(card=CARD, files=(ROAMING,))
    reply = await fast.execute(op)
    assert (reply.outcome, reply.code, reply.unreachable) == (Outcome.UNKNOWN, "no-por", False)
    assert world.smsc.stats.mo_lost == 1
    with pytest.raises(TimeoutError):  # the read-back's PoR is lost too: no answer
        await fast.read(op.lookup())
    world.smsc.faults.update(mo_loss_rate=0.0)
    assert op.applied_in(await fast.read(op.lookup()))  # it had been applied
    assert world.counters.last(ICCID, 1) == 3  # update, lost read, read: never one reused


async def test_a_forged_por_is_ignored(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    fast = world.target(por_timeout=0.5)
    world.smsc.faults.update(mo_loss_rate=1.0)
    running = asyncio.create_task(fast.execute(OtaUpdate(card=CARD, files=(ROAMING,))))
    await asyncio.sleep(0.2)
    clear = Spi(integrity=Integrity.NONE, ciphered=False, por_integrity=Integrity.NONE)
    forged = wrap_response(None, clear, Por(bytes.fromhex("b00011"), 1, PorStatus.OK, b""))
    await fast.accept(MobileOriginated(MSISDN, OTA_ADDRESS, 0x7F, 0xF6, forged, True))
    reply = await running
    assert reply.code == "no-por"  # an unsigned "OK" proves nothing
    await fast.accept(MobileOriginated(MSISDN, "10086", 0, 0, b"hello", False))
    assert "not a PoR" in caplog.text


async def test_no_bind_is_an_outage_for_updates_and_reads(world: World) -> None:
    await world.smsc.stop()
    quick = settings(world.smsc, submit_timeout=0.3, bind_timeout=0.2, reconnect_backoff=0.05)
    async with SmppClient(quick) as sms:
        ota = OtaTransport(world.ota.settings, sms, world.counters)
        reply = await ota.execute(OtaUpdate(card=CARD, files=(ROAMING,)))
        assert reply.unreachable and reply.outcome is Outcome.TRANSIENT, reply
        with pytest.raises(ConnectionError):
            await ota.read(OtaUpdate(card=CARD, files=(ROAMING,)).lookup())
        with pytest.raises((ConnectionError, TimeoutError)):
            await ota.probe()


def test_render_says_what_goes_to_the_card_with_the_keys_masked(world: World) -> None:
    text = world.ota.render(OtaUpdate(card=CARD, files=(ROAMING, MENU)))
    assert "USIM RFM (TAR B00011): SELECT EF.OPLMNwAcT 6F61, UPDATE BINARY 60 bytes" in text
    assert "460-01 e-utran+gsm, 454-00 all" in text
    assert "UICC RFM (TAR B00010): SELECT menu file A515/6FE0, UPDATE RECORD 1-8" in text
    assert "KIc/KID ****" in text and KIC not in text and KID not in text
    sealed = OtaUpdate(card=CARD, files=(ROAMING,)).model_dump_json()
    assert KIC not in sealed and '"kic":"****"' in sealed
    stored = OtaUpdate(card=CARD, files=(ROAMING,)).model_dump(context={"seal": str.upper})
    assert stored["card"]["keys"]["kic"] == KIC.upper()  # the store seals it with its vault


def test_check_refuses_what_the_card_cannot_hold(world: World) -> None:
    too_long = OtaUpdate(card=CARD, files=(SpnFile(name="中国移动通信集团公司"),))  # 10 × UCS-2
    with pytest.raises(NotSupported, match=r"EF\.SPN: name .* needs 21 bytes"):
        world.ota.check(too_long)
    label = "话费查询" * 10  # an item record of more than 80 bytes
    menu = StkMenuFile(
        title="菜单", items=(MenuEntry(id=1, label=label, destination="10086", text="x"),)
    )
    with pytest.raises(NotSupported, match="record 2 needs"):
        world.ota.check(OtaUpdate(card=CARD, files=(menu,)))
    with pytest.raises(NotSupported):
        world.ota.check(SendSms(msisdn=MSISDN, text="x", sender="provgw", reference="r"))
    with pytest.raises(ValidationError):  # 13 networks: the file holds 12
        RoamingListFile(networks=(PlmnEntry(mcc="460", mnc="00"),) * 13)
    with pytest.raises(ValidationError, match="at most once"):
        OtaUpdate(card=CARD, files=(ROAMING, ROAMING))
    with pytest.raises(ValidationError):  # a 3DES key of the wrong length is no HexKey
        OtaKeys(version=1, algorithm="3des", kic="00" * 8, kid="00" * 16)
