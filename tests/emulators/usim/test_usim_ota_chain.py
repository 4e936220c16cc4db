"""OTA and STK through the real chain: pyscard → private pcscd → vpcd → the emulated card.

What a handset beside the SMS centre will do (issue 17 part 5): ENVELOPEs through PC/SC,
proactive commands fetched back. Skipped without pcscd/vsmartcard-vpcd, failing under CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.usim.card import UsimCard
from emulators.usim.pcscd import PrivatePcscd
from simcard.ota import OtaCard, prepare
from simcard.ota_counters import SqliteCounters
from simcard.reader import read_card
from simcard.toolkit import Toolkit
from simcard.transport import PcscTransport
from tests.emulators.usim.ota_handset import run
from tests.emulators.usim.test_usim_ota import AES, ICCID, oplmn_update
from tests.emulators.usim.test_usim_toolkit import MENU, personalise

pytestmark = pytest.mark.pcsc


def test_oplmnwact_over_the_air_through_pcscd(pcsc_chain: PrivatePcscd, tmp_path: Path) -> None:
    pcsc_chain.insert(UsimCard.blank(ota_keys=[AES]), slot=0)
    transport = PcscTransport(pcsc_chain.reader_name(0))
    try:
        transport.connect()
        toolkit = Toolkit(transport)
        toolkit.start()
        counters = SqliteCounters(tmp_path / "ota.sqlite")
        outcome = run(toolkit, prepare(OtaCard(ICCID, AES), oplmn_update(), counters, reference=1))
        assert outcome.done, outcome.describe()
        oplmn = read_card(transport)["files"]["oplmnwact"]["value"]
        assert [entry["plmn"] for entry in oplmn[:2]] == ["460-01", "454-00"]
    finally:
        transport.disconnect()


def test_menu_selection_through_pcscd_produces_its_sms(pcsc_chain: PrivatePcscd) -> None:
    card = UsimCard.blank()
    personalise(card, MENU)
    pcsc_chain.insert(card, slot=0)
    transport = PcscTransport(pcsc_chain.reader_name(0))
    try:
        transport.connect()
        toolkit = Toolkit(transport)
        toolkit.start()
        assert toolkit.menu is not None and toolkit.menu.title == "中国移动"
        [sms] = toolkit.select_menu(1).messages
        assert (sms.destination, sms.decoded_text()) == ("10086", "CXHF")
    finally:
        transport.disconnect()
