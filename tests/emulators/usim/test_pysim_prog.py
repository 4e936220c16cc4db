"""pySim-prog's sysmoISIM-SJA2 programming sequence against the emulated SJA2.

Before the DF.GSM PLMNwAcT files existed it aborted at `SELECT 3F00/7F20/6F60` → 6A82 with
SPN, IMSI and PLMNsel written and no keys: a half-programmed card. The sequence (see
`pysim_prog.py`) must now run through, and the card must then read back and authenticate as
pySim's test card does. Values are those of pySim's own SJA2 test (`tests/pySim-prog_test/
sysmoISIM-SJA2.data`), encodings from shared/reference/sim-cards.md.
"""

from __future__ import annotations

import pytest

from emulators.usim.card import UsimCard
from emulators.usim.pcscd import PrivatePcscd
from simcard.profile import CardProfile
from simcard.reader import read_card
from simcard.session import CardSession
from simcard.transport import InProcessTransport, PcscTransport, Transport
from simcard.verifier import prove_keys
from tests.emulators.usim.pysim_prog import Params, PysimProg

ADM = "67225880"
KI = "aabbccddeeffaabbccddeeffaabbccdd"
OPC = "12345678901234567890123456789012"
PARAMS = Params(
    pin_adm=ADM.encode(),
    spn=bytes.fromhex("034d61676963") + b"\xff" * 11,  # "Magic", show/hide flags 03
    imsi=bytes.fromhex("080910100000001020"),  # 001010000000102
    plmn=bytes.fromhex("00f110"),  # 001/01
    mnc_len=2,
    smsp=bytes.fromhex("e1" + "ff" * 12 + "0581005155f5ffffffffffff" + "000000"),
    msisdn=bytes.fromhex("07917777366341f3ffffffffffff"),  # +77776336143
    ki=bytes.fromhex(KI),
    opc=bytes.fromhex(OPC),
)
DF_GSM_FILES_PYSIM_READ_READS = ("6f3e", "6f3f", "6f60", "6f61", "6f62", "6f7b")


def program(transport: Transport) -> PysimProg:
    transport.connect()
    prog = PysimProg(transport.transmit)
    prog.program(PARAMS)
    return prog


def check_card(transport: Transport, prog: PysimProg) -> None:
    probes = [(apdu.hex(), sw) for apdu, sw in prog.transcript if sw != 0x9000]
    assert probes == [("00a40004026ff3", 0x6A82), ("00a40004026ff4", 0x6A82)]  # ePDG probes
    selected = [apdu[5:].hex() for apdu, _ in prog.transcript if apdu[:2] == b"\x00\xa4"]
    assert "6f60" in selected and "af20" in selected  # past the old abort, keys written

    for fid in DF_GSM_FILES_PYSIM_READ_READS:  # pySim-read: no more "Can't read file"
        assert prog.read_binary(["3f00", "7f20", fid])
    assert prog.read_binary(["3f00", "7f20", "6f60"])[:5].hex() == "00f110ffff"

    reading = read_card(transport)["files"]
    # Written by pySim under DF.GSM / DF.TELECOM only, seen under ADF.USIM through the links
    assert reading["imsi"]["value"] == reading["usim_imsi"]["value"] == "001010000000102"
    assert reading["usim_spn"]["value"]["name"] == "Magic"
    assert reading["oplmnwact"]["raw"][:10] == "00f110ffff"
    assert reading["usim_smsp"]["value"] == "0015555"  # pySim-prog: "00" + country 1 + "5555"
    assert reading["usim_msisdn"]["value"] == "+77776336143"
    assert reading["usim_ad"]["raw"] == "ffffff02"

    profile = CardProfile.create(
        iccid="8988211000000467343", imsi="001010000000102", ki=KI, opc=OPC, adm1=ADM
    )
    proof = prove_keys(CardSession(transport), profile)  # Ki/OPc at offsets 1 and 17 work
    assert proof.contexts == ("3G", "GSM")


def test_pysim_prog_programs_the_emulated_sja2_in_process() -> None:
    transport = InProcessTransport(UsimCard.blank(model="sja2", adm1=ADM))
    check_card(transport, program(transport))


@pytest.mark.pcsc
def test_pysim_prog_programs_the_emulated_sja2_through_pcscd(pcsc_chain: PrivatePcscd) -> None:
    pcsc_chain.insert(UsimCard.blank(model="sja2", adm1=ADM), slot=0)
    transport = PcscTransport(pcsc_chain.reader_name(0))
    try:
        check_card(transport, program(transport))
    finally:
        transport.disconnect()
