"""The emulated USIM as an OTA-capable card: SMS-PP download → secured packet → RFM → PoR.

The sender side is the card library (`simcard.ota`), the handset a `simcard.toolkit.Toolkit`
on the in-process card; `test_usim_ota_chain.py` does the same through pcscd and vpcd.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from emulators.usim.card import UsimCard
from simcard import rfm
from simcard.ota import DEFAULT_SPI, OtaCard, prepare, read_por
from simcard.ota_counters import SqliteCounters
from simcard.ota_keys import KeySet
from simcard.plmn import Plmn, PlmnAct, PlmnActList, parse_act
from simcard.reader import read_card
from simcard.rfm import Format, RApdu
from simcard.secured_packet import CounterMode, PorMode, PorStatus
from simcard.toolkit import Toolkit
from simcard.transport import InProcessTransport
from tests.emulators.usim.ota_handset import deliver, run
from tests.emulators.usim.usim_terminal import Terminal

ICCID = "8988211000000467343"
AES = KeySet.aes(
    1,
    bytes.fromhex("200102030405060708090a0b0c0d0e0f"),
    bytes.fromhex("201102030405060708090a0b0c0d0e0f"),
)
TDES = KeySet.tdes(
    3,
    bytes.fromhex("300102030405060708090a0b0c0d0e0f"),
    bytes.fromhex("301102030405060708090a0b0c0d0e0f"),
)
ROAMING = (
    PlmnAct(Plmn("460", "01"), parse_act("E-UTRAN+UTRAN+GSM")),
    PlmnAct(Plmn("454", "00"), parse_act("E-UTRAN")),
)


def oplmn_update(entries: tuple[PlmnAct, ...] = ROAMING) -> list[bytes]:
    return [rfm.select(0x6F61), rfm.update_binary(PlmnActList("EF.OPLMNwAcT").encode(entries, 60))]


class Phone:
    """An in-process card with a handset's toolkit session on it."""

    def __init__(self, card: UsimCard) -> None:
        self.card = card
        self.transport = InProcessTransport(card)
        self.transport.connect()
        self.toolkit = Toolkit(self.transport)
        self.toolkit.start()


@pytest.fixture
def counters(tmp_path: Path) -> SqliteCounters:
    return SqliteCounters(tmp_path / "ota.sqlite")


@pytest.fixture
def phone() -> Phone:
    return Phone(UsimCard.blank(ota_keys=[AES, TDES]))


@pytest.mark.parametrize("keys", [AES, TDES], ids=["AES-128", "3DES"])
def test_oplmnwact_updated_over_the_air_reads_back_in_the_card_layer(
    phone: Phone, counters: SqliteCounters, keys: KeySet
) -> None:
    request = prepare(OtaCard(ICCID, keys), oplmn_update(), counters, reference=1)
    assert request.counter == 1 and len(request.messages) == 1
    outcome = run(phone.toolkit, request)
    assert outcome.done, outcome.describe()
    assert outcome.rfm is not None and outcome.rfm.executed == 2
    files = read_card(phone.transport)["files"]
    assert files["oplmnwact"]["value"][:2] == [
        {"plmn": "460-01", "act": ["UTRAN", "E-UTRAN", "GSM"]},
        {"plmn": "454-00", "act": ["E-UTRAN"]},
    ]
    term = Terminal(phone.card)  # and DF.GSM shows it too: the files are linked
    term.select("7F20", "6F61")
    assert term.ok("00 B0 00 00 0A").hex() == files["oplmnwact"]["raw"][:20]


def test_a_replayed_packet_is_refused_and_changes_nothing(
    phone: Phone, counters: SqliteCounters
) -> None:
    first = prepare(OtaCard(ICCID, AES), oplmn_update(), counters, reference=1)
    assert run(phone.toolkit, first).done
    later = prepare(OtaCard(ICCID, AES), oplmn_update((ROAMING[1],)), counters, reference=2)
    assert run(phone.toolkit, later).done
    replay = run(phone.toolkit, first)  # the very same messages once more
    assert replay.por.status is PorStatus.COUNTER_LOW and replay.por.authenticated
    assert not replay.done and "counter low" in replay.describe()
    oplmn = read_card(phone.transport)["files"]["oplmnwact"]["value"]
    assert oplmn[0]["plmn"] == "454-00"  # the replay did not put 460-01 back


def test_the_cards_counter_survives_a_restart(tmp_path: Path, counters: SqliteCounters) -> None:
    store = tmp_path / "card.json"
    phone = Phone(UsimCard.blank(store, ota_keys=[AES]))
    request = prepare(OtaCard(ICCID, AES), oplmn_update(), counters, reference=1)
    assert run(phone.toolkit, request).done
    again = Phone(UsimCard.load(store))
    assert run(again.toolkit, request).por.status is PorStatus.COUNTER_LOW


class FixedCounters:
    """A sender that reuses counters (a test double for a broken counter store)."""

    def __init__(self, *values: int) -> None:
        self.values = list(values)

    def reserve(self, card: str, key_version: int) -> int:
        return self.values.pop(0)

    def last(self, card: str, key_version: int) -> int:
        return 0


@pytest.mark.parametrize(
    ("mode", "values", "status"),
    [
        (CounterMode.HIGHER, (5, 5), PorStatus.COUNTER_LOW),
        (CounterMode.HIGHER, (5, 4), PorStatus.COUNTER_LOW),
        (CounterMode.HIGHER, (5, 9), PorStatus.OK),
        (CounterMode.NEXT, (1, 3), PorStatus.COUNTER_HIGH),
        (CounterMode.NEXT, (1, 2), PorStatus.OK),
    ],
)
def test_counter_modes(
    phone: Phone, mode: CounterMode, values: tuple[int, int], status: PorStatus
) -> None:
    card = OtaCard(ICCID, AES, spi=dataclasses.replace(DEFAULT_SPI, counter=mode))
    counters = FixedCounters(*values)
    assert run(phone.toolkit, prepare(card, oplmn_update(), counters, reference=1)).done
    assert (
        run(phone.toolkit, prepare(card, oplmn_update(), counters, reference=2)).por.status
        is status
    )


def test_wrong_keys_unknown_tar_and_weak_security_are_refused(
    phone: Phone, counters: SqliteCounters
) -> None:
    wrong = KeySet.aes(1, AES.kic, bytes(16))
    refused = run(
        phone.toolkit, prepare(OtaCard(ICCID, wrong), oplmn_update(), counters, reference=1)
    )
    assert refused.por.status is PorStatus.CHECKSUM_FAILED and not refused.por.authenticated
    no_keys = KeySet.aes(9, AES.kic, AES.kid)
    unknown = run(
        phone.toolkit, prepare(OtaCard(ICCID, no_keys), oplmn_update(), counters, reference=2)
    )
    assert unknown.por.status is PorStatus.SECURITY_ERROR
    other_tar = OtaCard(ICCID, AES, tar=bytes.fromhex("b00099"))
    assert (
        run(phone.toolkit, prepare(other_tar, oplmn_update(), counters, reference=3)).por.status
        is PorStatus.TAR_UNKNOWN
    )
    clear = OtaCard(ICCID, AES, spi=dataclasses.replace(DEFAULT_SPI, ciphered=False))
    weak = run(phone.toolkit, prepare(clear, oplmn_update(), counters, reference=4))
    assert weak.por.status is PorStatus.INSUFFICIENT_SECURITY and weak.por.authenticated
    assert read_card(phone.transport)["files"]["oplmnwact"]["raw"][:6] == "ffffff"  # untouched


def test_reads_return_their_data_and_the_access_rules_hold(
    phone: Phone, counters: SqliteCounters
) -> None:
    uicc = OtaCard(ICCID, AES, tar=rfm.TAR_UICC_RFM)
    read_iccid = [rfm.select(0x2FE2), rfm.read_binary(10)]
    outcome = run(phone.toolkit, prepare(uicc, read_iccid, counters, reference=1))
    assert outcome.done and outcome.rfm is not None
    assert outcome.rfm.last == RApdu(b"\xff" * 10, 0x9000)  # a blank card's ICCID
    ki = [*rfm.select_path(0xA515, 0x6F20), rfm.read_binary(33), rfm.select(0x6F07)]
    refused = run(phone.toolkit, prepare(uicc, ki, counters, reference=2))
    assert refused.por.ok and refused.rfm is not None  # the packet was fine …
    assert refused.rfm.executed == 3 and refused.rfm.last == RApdu(b"", 0x6982)  # … Ki is not
    assert not refused.done


def test_expanded_format_returns_every_answer(phone: Phone, counters: SqliteCounters) -> None:
    card = OtaCard(ICCID, AES, fmt=Format.EXPANDED)
    commands = [rfm.select(0x6F07), rfm.read_binary(9), rfm.select(0x6FAD), rfm.read_binary(4)]
    outcome = run(phone.toolkit, prepare(card, commands, counters, reference=1))
    assert outcome.done and outcome.rfm is not None
    assert [r.sw for r in outcome.rfm.responses] == [0x9000] * 4
    assert outcome.rfm.responses[1].data == b"\xff" * 9


def test_a_select_with_fcp_answers_61xx_as_a_t0_card_does(
    phone: Phone, counters: SqliteCounters
) -> None:
    """pySim's SJA5 vectors: SELECT MF with FCP wanted and no Le answers 61xx in the PoR."""
    uicc = OtaCard(ICCID, AES, tar=rfm.TAR_UICC_RFM)
    outcome = run(
        phone.toolkit, prepare(uicc, [bytes.fromhex("00a40004023f00")], counters, reference=1)
    )
    assert outcome.done and outcome.rfm is not None and outcome.rfm.last is not None
    assert outcome.rfm.last.sw >> 8 == 0x61
    fcp_length = outcome.rfm.last.sw & 0xFF
    with_get = [bytes.fromhex("00a40004023f00"), bytes([0, 0xC0, 0, 0, fcp_length])]
    fetched = run(phone.toolkit, prepare(uicc, with_get, counters, reference=2))
    assert fetched.rfm is not None and fetched.rfm.last is not None
    assert fetched.rfm.last.data[:1] == b"\x62" and len(fetched.rfm.last.data) == fcp_length


def test_long_commands_and_long_pors_are_concatenated(
    phone: Phone, counters: SqliteCounters
) -> None:
    lists = PlmnActList()
    entries = tuple(PlmnAct(Plmn("460", f"{i:02d}"), parse_act("E-UTRAN")) for i in range(12))
    commands = []
    for fid in (0x6F60, 0x6F61, 0x6F62):
        commands += [
            rfm.select(fid),
            rfm.update_binary(lists.encode(entries, 60)),
            rfm.read_binary(60),
        ]
    card = OtaCard(ICCID, AES, fmt=Format.EXPANDED)
    request = prepare(card, commands, counters, reference=77)
    assert len(request.messages) == 3  # a 280-byte packet: three SMS
    delivery = deliver(phone.toolkit, request)
    assert delivery.outcomes[0].acknowledgement is None and not delivery.outcomes[0].commands
    assert len(delivery.submits) == 2  # the PoR with three 60-byte reads: two SMS back
    assert all(sms.destination == "+8613800138000" and sms.pid == 0x7F for sms in delivery.submits)
    assert delivery.por is not None
    outcome = read_por(request, delivery.por)
    assert outcome.done and outcome.rfm is not None
    assert [r.data for r in outcome.rfm.responses if r.data] == [lists.encode(entries, 60)] * 3


def test_por_in_the_delivery_report_and_only_on_error(
    phone: Phone, counters: SqliteCounters
) -> None:
    report = OtaCard(ICCID, AES, spi=dataclasses.replace(DEFAULT_SPI, por_by_submit=False))
    delivery = deliver(phone.toolkit, prepare(report, oplmn_update(), counters, reference=1))
    assert (
        delivery.submits == [] and delivery.por is not None and delivery.por[:3] == b"\x02\x71\x00"
    )
    quiet = OtaCard(ICCID, AES, spi=dataclasses.replace(DEFAULT_SPI, por=PorMode.ON_ERROR))
    assert deliver(phone.toolkit, prepare(quiet, oplmn_update(), counters, reference=2)).por is None
    bad = OtaCard(ICCID, AES, tar=b"\x00\x00\x01", spi=quiet.spi)
    assert (
        deliver(phone.toolkit, prepare(bad, oplmn_update(), counters, reference=3)).por is not None
    )


def test_rfm_leaves_the_terminals_selection_and_pin_state_alone(
    phone: Phone, counters: SqliteCounters
) -> None:
    term = Terminal(phone.card)
    term.select("7F10", "6F42")  # the terminal looks at EF.SMSP
    uicc = OtaCard(ICCID, AES, tar=rfm.TAR_UICC_RFM)
    spn = bytes.fromhex("01") + b"OTA".ljust(16, b"\xff")
    assert run(
        phone.toolkit,
        prepare(
            uicc, [*rfm.select_path(0x7F20, 0x6F46), rfm.update_binary(spn)], counters, reference=1
        ),
    ).done
    assert term.ok("00 B2 01 04 34") == b"\xff" * 52  # still EF.SMSP, still readable
    assert term.sw("00 DC 01 04 34 " + "00" * 52) == 0x6982  # the RFM's ADM1 did not leak
    term.select("7FFF", "6F46")  # written under DF.GSM, seen under ADF.USIM (linked)
    assert term.ok("00 B0 00 00 04") == b"\x01OTA"


def test_the_cards_keys_are_never_readable_and_its_counters_are(
    phone: Phone, counters: SqliteCounters
) -> None:
    term = Terminal(phone.card)
    term.adm()
    term.select("A515", "6F22")
    assert term.sw("00 B2 01 04 23") == 0x6982  # EF.0348_KEY: not even with ADM1
    assert run(
        phone.toolkit, prepare(OtaCard(ICCID, TDES), oplmn_update(), counters, reference=1)
    ).done
    term.select("A515", "6F23")
    assert term.ok("00 B2 01 04 07").hex() == "00030000000001"  # domain 0, key set 3, counter 1


def test_a_card_holds_at_most_four_key_sets() -> None:
    with pytest.raises(ValueError, match="at most 4 OTA key sets"):
        UsimCard.blank(ota_keys=[KeySet.aes(v, bytes(16), bytes(16)) for v in range(1, 6)])


def test_records_written_and_read_over_the_air(phone: Phone, counters: SqliteCounters) -> None:
    msisdn = bytes.fromhex("ff" * 20 + "07917777366341f3ffffffffffff")  # +77776336143
    commands = [rfm.select(0x6F40), rfm.update_record(1, msisdn), rfm.read_record(1, 34)]
    outcome = run(phone.toolkit, prepare(OtaCard(ICCID, AES), commands, counters, reference=1))
    assert outcome.done and outcome.rfm is not None
    assert outcome.rfm.last == RApdu(msisdn, 0x9000)
    files = read_card(phone.transport)["files"]
    assert files["usim_msisdn"]["value"] == files["msisdn"]["value"] == "+77776336143"
