"""The card toolkit: TERMINAL PROFILE, SET UP MENU from the menu file, menu selection → SEND
SHORT MESSAGE, FETCH/TERMINAL RESPONSE, and a menu provisioned over the air."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.usim.card import UsimCard
from simcard import rfm
from simcard.ota import OtaCard, prepare
from simcard.ota_counters import SqliteCounters
from simcard.ota_keys import KeySet
from simcard.sms_pp import SmsSubmit
from simcard.stk_menu import Menu, MenuError, MenuItem
from simcard.toolkit import SetUpMenu, Toolkit
from simcard.transport import InProcessTransport
from tests.emulators.usim.ota_handset import deliver, run
from tests.emulators.usim.usim_terminal import Terminal

KEYS = KeySet.aes(1, bytes(range(16)), bytes(range(16, 32)))
MENU = Menu(
    "中国移动",
    (
        MenuItem(1, "话费查询", SmsSubmit.text("10086", "CXHF")),
        MenuItem(2, "Data 1GB", SmsSubmit.text("10086", "KTLL1G")),
    ),
)


def personalise(card: UsimCard, menu: Menu) -> None:
    """Write the menu file as a card writer would (ADM1, UPDATE RECORD)."""
    term = Terminal(card)
    term.adm()
    term.select("A515", "6FE0")
    for number, record in enumerate(menu.records(), start=1):
        term.ok(f"00 DC {number:02X} 04 50 {record.hex()}")
    card.power_on()


def handset(card: UsimCard) -> tuple[Toolkit, InProcessTransport]:
    transport = InProcessTransport(card)
    transport.connect()
    return Toolkit(transport), transport


def test_no_proactive_command_before_terminal_profile() -> None:
    card = UsimCard.blank()
    personalise(card, MENU)
    term = Terminal(card)
    assert term.sw("00 A4 00 0C 02 3F00") == 0x9000  # programming tools never see 91xx
    assert term.sw("80 12 00 00 00") == 0x6985  # nothing to fetch


def test_terminal_profile_brings_the_menu() -> None:
    card = UsimCard.blank()
    personalise(card, MENU)
    toolkit, _ = handset(card)
    outcome = toolkit.start()
    assert outcome.sw >> 8 == 0x91 and [c.type for c in outcome.commands] == [0x25]
    assert toolkit.menu == SetUpMenu("中国移动", ((1, "话费查询"), (2, "Data 1GB")))


def test_a_menu_selection_sends_the_items_sms() -> None:
    card = UsimCard.blank()
    personalise(card, MENU)
    toolkit, _ = handset(card)
    toolkit.start()
    [sms] = toolkit.select_menu(2).messages
    assert sms.destination == "10086" and sms.decoded_text() == "KTLL1G"
    [first] = toolkit.select_menu(1).messages
    assert first.decoded_text() == "CXHF"


def test_a_blank_card_has_no_menu_and_refuses_selections() -> None:
    toolkit, transport = handset(UsimCard.blank())
    assert toolkit.start().commands == [] and toolkit.menu is None
    _, sw = transport.transmit(bytes.fromhex("80C2000009D30782020181900101"))
    assert sw == 0x6A80


def test_fetch_and_terminal_response_follow_the_protocol() -> None:
    card = UsimCard.blank()
    personalise(card, MENU)
    term = Terminal(card)
    assert term.sw("80 10 00 00 04 0B010022") >> 8 == 0x91
    length = term.sw("80 F2 00 0C 00") & 0xFF  # announced again on the next command
    assert term.sw(f"80 12 00 00 {length - 1:02X}") == 0x6C00 | length  # wrong Le
    command = term.ok(f"80 12 00 00 {length:02X}")
    assert command[0] == 0xD0 and command[2:5] == bytes.fromhex("810301")
    details = command[4:7]
    wrong = "810301" + f"{details[1]:02X}" + "01" + "82028281" + "830100"
    assert term.sw(f"80 14 00 00 0C {wrong}") == 0x6A80  # answers another command
    right = "8103" + details.hex() + "82028281" + "830100"
    assert term.sw(f"80 14 00 00 0C {right}") == 0x9000  # nothing else pending


def test_menu_items_must_fit_the_file() -> None:
    long_sms = SmsSubmit.text("10086", "X" * 120)
    with pytest.raises(MenuError, match="record 2 needs"):
        Menu("T", (MenuItem(1, "A", long_sms),)).records()
    with pytest.raises(MenuError, match="differ"):
        Menu("T", (MenuItem(1, "A", long_sms), MenuItem(1, "B", long_sms))).records()
    assert Menu.from_records(MENU.records()) == MENU


def test_a_menu_provisioned_over_the_air_replaces_the_menu_at_once(tmp_path: Path) -> None:
    card = UsimCard.blank(ota_keys=[KEYS])
    toolkit, _ = handset(card)
    toolkit.start()
    assert toolkit.menu is None
    counters = SqliteCounters(tmp_path / "ota.sqlite")
    commands = [*rfm.select_path(0xA515, 0x6FE0)]
    commands += [rfm.update_record(n, r) for n, r in enumerate(MENU.records()[:3], start=1)]
    uicc = OtaCard("8988211000000467343", KEYS, tar=rfm.TAR_UICC_RFM)
    request = prepare(uicc, commands, counters, reference=1)
    delivery = deliver(toolkit, request)
    assert delivery.por is not None
    assert toolkit.menu == SetUpMenu("中国移动", ((1, "话费查询"), (2, "Data 1GB")))
    [sms] = toolkit.select_menu(1).messages
    assert sms.decoded_text() == "CXHF"
    assert run(toolkit, prepare(uicc, [rfm.select(0xA515)], counters, reference=2)).done
