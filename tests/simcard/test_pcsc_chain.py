"""The real chain: pyscard → private pcscd → vpcd → emulated USIM, as a physical reader is used.

Needs pcscd and vsmartcard-vpcd (skipped without them, failing under CI=true).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from emulators.usim.card import UsimCard
from emulators.usim.pcscd import PrivatePcscd
from simcard.cli import card
from simcard.errors import CardRemovedError, HalfWrittenCardError
from simcard.models import PROVGW
from simcard.profile import CardProfile
from simcard.reader import read_card
from simcard.transport import PcscTransport
from simcard.verifier import verify_card
from simcard.writer import write_card
from tests.simcard.conftest import ADM1, KI, OPC

pytestmark = pytest.mark.pcsc


@pytest.fixture
def reader(pcsc_chain: PrivatePcscd, pcsc_blank_card: UsimCard) -> str:
    return pcsc_chain.reader_name(0)


def test_write_read_back_verify_through_pcscd(reader: str, profile: CardProfile) -> None:
    with PcscTransport("PCD 00 00") as transport:
        assert transport.reader == reader
        report = write_card(transport, profile)
    assert report.proof is not None and report.apdus <= 60
    with PcscTransport(reader) as transport:
        files = read_card(transport)["files"]
    assert files["usim_imsi"]["value"] == "001010000000102"
    assert files["iccid"]["value"] == profile.iccid
    with PcscTransport(reader) as transport:
        result = verify_card(transport, profile, PROVGW)
    assert result.proof.contexts == ("3G", "GSM")


def test_sja2_through_pcscd_keeps_its_iccid(pcsc_chain: PrivatePcscd, profile: CardProfile) -> None:
    pcsc_chain.insert(UsimCard.blank(model="sja2"), slot=1)
    try:
        with PcscTransport(pcsc_chain.reader_name(1)) as transport:
            report = write_card(transport, profile)
            assert report.model == "sysmoISIM-SJA2" and report.apdus == 59
    finally:
        pcsc_chain.remove(slot=1)


def test_removed_card_then_reconnect(pcsc_chain: PrivatePcscd, reader: str) -> None:
    transport = PcscTransport(reader)
    try:
        atr = transport.connect()
        pcsc_chain.remove(slot=0)
        assert not transport.card_present()
        with pytest.raises(CardRemovedError, match="removed"):
            transport.transmit(bytes.fromhex("00a40004023f00"))
        pcsc_chain.insert(UsimCard.blank(), slot=0)
        assert transport.wait_for_card(5.0)
        assert transport.reconnect() == atr
        _, sw = transport.transmit(bytes.fromhex("00a40004023f00"))
        assert sw == 0x9000
    finally:
        transport.disconnect()


class PullingTransport(PcscTransport):
    """Pulls the card out of the reader (via the harness) after `after` APDUs."""

    def __init__(self, reader: str, chain: PrivatePcscd, after: int) -> None:
        super().__init__(reader)
        self.chain, self.after = chain, after

    def _exchange(self, apdu: bytes) -> bytes:
        if self.apdu_count == self.after:
            self.chain.remove(slot=0)
        return super()._exchange(apdu)


def test_card_pulled_mid_write_through_pcscd(
    pcsc_chain: PrivatePcscd, reader: str, profile: CardProfile
) -> None:
    transport = PullingTransport(reader, pcsc_chain, after=20)
    try:
        transport.connect()
        with pytest.raises(HalfWrittenCardError) as info:
            write_card(transport, profile)
    finally:
        transport.disconnect()
        pcsc_chain.insert(UsimCard.blank(), slot=0)
    assert isinstance(info.value.cause, CardRemovedError)
    assert info.value.written and info.value.not_written


def test_cli_through_pcscd(reader: str) -> None:
    env = {"PROVGW_KI": KI, "PROVGW_OPC": OPC, "PROVGW_ADM1": ADM1}
    listed = CliRunner().invoke(card, ["readers", "--json"])
    assert listed.exit_code == 0
    entry = next(r for r in json.loads(listed.stdout) if r["reader"] == reader)
    assert entry["card"] and entry["model"] == "provgw"
    args = [
        "write",
        "-r",
        reader,
        "--iccid",
        "8988211000000467343",
        "--imsi",
        "001010000000102",
        "--json",
    ]
    written = CliRunner().invoke(card, args, env=env)
    assert written.exit_code == 0, written.output
    assert json.loads(written.stdout)["verified"]
