"""Reading and writing files, access conditions, PIN/ADM counters and the persisted store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emulators.usim.card import UsimCard
from emulators.usim.state import StoreError
from tests.emulators.usim.usim_terminal import ADM1, Terminal

WRONG_ADM1 = "0A083837363534333231"


def test_read_binary_offsets_and_lengths(term: Terminal) -> None:
    term.adm()
    term.select("7FFF", "6F46")  # EF.SPN, 17 bytes
    term.ok("00 D6 00 00 03 01 4142")
    term.ok("00 D6 00 10 01 EE")  # last byte
    assert term.ok("00 B0 00 01 02") == b"AB"
    assert term.ok("00 B0 00 00 00") == bytes.fromhex("014142") + b"\xff" * 13 + b"\xee"
    assert term.sw("00 B0 00 11 01") == 0x6B00  # offset at the end
    assert term.sw("00 B0 00 10 02") == 0x6C01  # only one byte left: repeat with Le=01
    assert term.sw("00 D6 00 10 02 0102") == 0x6700  # would write past the end
    assert term.sw("00 D6 00 20 01 01") == 0x6B00
    assert term.sw("00 D6 00 00") == 0x6700  # no data


def test_read_binary_by_sfi_selects_the_file(term: Terminal) -> None:
    term.ok("00 A4 04 0C 07 A0000000871002")
    term.adm()
    term.ok("00 A4 00 0C 02 6FAD")
    term.ok("00 D6 00 00 04 00000002")
    term.ok("00 A4 00 0C 02 6F38")
    assert term.ok("00 B0 83 00 04") == bytes.fromhex("00000002")  # SFI 03 = EF.AD
    assert term.ok("00 B0 00 03 01") == b"\x02"  # EF.AD is now the current EF
    assert term.sw("00 B0 9F 00 01") == 0x6A82  # no EF with SFI 1F


def test_records_absolute_mode_and_record_bounds(term: Terminal) -> None:
    term.adm()
    term.select("7F10", "6F40")  # EF.MSISDN: 6 records of 34
    record = bytes(20) + bytes.fromhex("07917777366341f3ffffffffffff")
    term.ok(f"00 DC 02 04 22 {record.hex()}")
    assert term.ok("00 B2 02 04 22") == record
    assert term.ok("00 B2 01 04 00") == b"\xff" * 34
    assert term.sw("00 B2 07 04 22") == 0x6A83
    assert term.sw("00 B2 00 04 22") == 0x6A83
    assert term.sw("00 B2 01 04 10") == 0x6C22
    assert term.sw("00 DC 01 04 10 " + "00" * 16) == 0x6700
    assert term.sw("00 B2 01 02 22") == 0x6A86  # "next record" mode not supported
    assert term.sw("00 B0 00 00 01") == 0x6981  # binary access to a record file
    term.select("7F10", "6F40")
    assert term.ok("00 B2 02 04 22") == record  # kept across re-selection


def test_no_current_ef(term: Terminal) -> None:
    term.ok("00 A4 00 0C 02 7F20")
    assert term.sw("00 B0 00 00 01") == 0x6986


def test_update_needs_adm1(term: Terminal) -> None:
    term.select("7FFF", "6F07")
    assert term.sw("00 D6 00 00 01 08") == 0x6982
    term.ok("00 20 00 01 08 31323334FFFFFFFF")  # PIN1 is not enough
    assert term.sw("00 D6 00 00 01 08") == 0x6982
    term.adm()
    term.ok("00 D6 00 00 01 08")


def test_iccid_is_writable_with_adm1(term: Terminal) -> None:
    term.adm()
    term.select("2FE2")
    term.ok("00 D6 00 00 0A 988812010000407643f3")
    assert term.ok("00 B0 00 00 0A") == bytes.fromhex("988812010000407643f3")


@pytest.mark.parametrize("path", [("A515", "6F20"), ("7FFF", "AF20")])
def test_key_files_are_write_only(term: Terminal, path: tuple[str, str]) -> None:
    term.adm()
    term.select(*path)
    term.ok("00 D6 00 01 10 " + "11" * 16)
    assert term.sw("00 B0 00 00 21") == 0x6982
    assert term.sw("00 B0 00 01 10") == 0x6982


def test_imsi_needs_pin1_only_when_enabled(term: Terminal) -> None:
    term.select("7FFF", "6F07")
    term.ok("00 B0 00 00 09")  # PIN1 disabled on a blank card
    term.ok("00 28 00 01 08 31323334FFFFFFFF")  # ENABLE
    term.card.power_on()
    term.select("7FFF", "6F07")
    assert term.sw("00 B0 00 00 09") == 0x6982
    term.ok("00 20 00 01 08 31323334FFFFFFFF")
    term.ok("00 B0 00 00 09")
    term.card.power_on()
    term.adm()  # ADM1 also satisfies PIN1
    term.select("7FFF", "6F07")
    term.ok("00 B0 00 00 09")


def test_verify_without_data_reports_the_counter(term: Terminal) -> None:
    assert term.sw("00 20 00 0A") == 0x63C3
    assert term.sw("00 20 00 " + WRONG_ADM1) == 0x63C2
    assert term.sw("00 20 00 0A 00") == 0x63C2
    term.adm()  # a right code resets the counter …
    assert term.sw("00 20 00 0A") == 0x9000  # … and verified needs no code
    assert term.sw("00 20 00 01") == 0x9000  # PIN1 disabled: nothing to verify
    assert term.sw("00 20 00 02") == 0x6A88  # no such reference
    assert term.sw("00 20 00 0A 04 31323334") == 0x6700


def test_three_wrong_adm1_block_it_for_good(tmp_path: Path) -> None:
    store = tmp_path / "card.json"
    term = Terminal(UsimCard.blank(store))
    assert term.sw("00 20 00 " + WRONG_ADM1) == 0x63C2
    term.card.power_on()
    assert term.sw("00 20 00 " + WRONG_ADM1) == 0x63C1  # counter survives power cycles
    term = Terminal(UsimCard.load(store))
    assert term.sw("00 20 00 " + WRONG_ADM1) == 0x63C0  # … and reloads from the store
    assert term.sw("00 20 00 " + ADM1) == 0x6983  # blocked: even the right code fails
    term.card.power_on()
    assert term.sw("00 20 00 " + ADM1) == 0x6983
    assert Terminal(UsimCard.load(store)).sw("00 20 00 " + ADM1) == 0x6983
    assert term.sw("00 2C 00 0A 10 " + "31" * 16) == 0x6A88  # ADM1 has no unblock


def test_pin1_block_and_unblock_with_puk1(term: Terminal) -> None:
    term.ok("00 28 00 01 08 31323334FFFFFFFF")  # enable PIN1
    for tries_left in (2, 1, 0):
        assert term.sw("00 20 00 01 08 39393939FFFFFFFF") == 0x63C0 | tries_left
    assert term.sw("00 20 00 01 08 31323334FFFFFFFF") == 0x6983
    assert term.sw("00 2C 00 01") == 0x63CA  # PUK1 tries left
    assert term.sw("00 2C 00 01 10 3939393939393939 35363738FFFFFFFF") == 0x63C9
    term.ok("00 2C 00 01 10 3132333435363738 35363738FFFFFFFF")  # PUK1, new PIN1 5678
    assert term.sw("00 2C 00 01") == 0x63CA  # PUK counter reset by the right PUK
    term.card.power_on()
    term.ok("00 20 00 01 08 35363738FFFFFFFF")


def test_change_disable_enable_pin1(term: Terminal) -> None:
    assert term.sw("00 24 00 01 10 31323334FFFFFFFF 35363738FFFFFFFF") == 0x6985  # disabled
    assert term.sw("00 26 00 01 08 31323334FFFFFFFF") == 0x6985  # already disabled
    term.ok("00 28 00 01 08 31323334FFFFFFFF")
    term.ok("00 24 00 01 10 31323334FFFFFFFF 35363738FFFFFFFF")
    term.card.power_on()
    assert term.sw("00 20 00 01 08 31323334FFFFFFFF") == 0x63C2
    term.ok("00 26 00 01 08 35363738FFFFFFFF")
    assert term.sw("00 20 00 01") == 0x9000
    assert term.sw("00 26 00 0A 08 3132333435363738") == 0x6A88  # ADM1 cannot be disabled


def test_gsm_class_verify_uses_gsm_status_words(term: Terminal) -> None:
    term.ok("00 28 00 01 08 31323334FFFFFFFF")
    assert term.sw("A0 20 00 01 08 39393939FFFFFFFF") == 0x9804
    term.ok("A0 20 00 01 08 31323334FFFFFFFF")


def test_power_on_forgets_verification(term: Terminal) -> None:
    term.adm()
    assert term.card.power_on() == term.card.atr
    term.select("2FE2")
    assert term.sw("00 D6 00 00 01 98") == 0x6982


def test_hex_adm1_is_compared_raw() -> None:
    term = Terminal(UsimCard.blank(adm1="0123456789ABCDEF"))
    assert term.sw("00 20 00 0A 08 3031323334353637") == 0x63C2
    term.ok("00 20 00 0A 08 0123456789ABCDEF")


@pytest.mark.parametrize("adm1", ["123", "123456789", "12ab5678", "0123456789ABCDEG"])
def test_bad_adm1_is_refused_by_name(adm1: str) -> None:
    with pytest.raises(ValueError, match="adm1"):
        UsimCard.blank(adm1=adm1)


def test_unknown_model_is_refused() -> None:
    with pytest.raises(ValueError, match="model"):
        UsimCard.blank(model="sjs1")


def test_models_differ_by_atr() -> None:
    assert UsimCard.blank().atr.hex() == "3b9f96801f878031e073fe211b6770726f76677731aa"
    sja2 = UsimCard.blank(model="sja2")
    assert sja2.atr.hex() == "3b9f96801f878031e073fe211b674a4c753034054ba9"


def test_store_keeps_contents_model_and_pins(tmp_path: Path) -> None:
    store = tmp_path / "card.json"
    term = Terminal(UsimCard.blank(store, model="sja2"))
    term.adm()
    term.select("7FFF", "6F07")
    term.ok("00 D6 00 00 09 080910100000001020")
    term.ok("00 28 00 01 08 31323334FFFFFFFF")
    assert store.stat().st_mode & 0o077 == 0  # holds keys: owner only
    reloaded = Terminal(UsimCard.load(store))
    assert reloaded.card.model == "sja2"
    reloaded.ok("00 20 00 01 08 31323334FFFFFFFF")  # PIN1 enabled state kept
    reloaded.select("7FFF", "6F07")
    assert reloaded.ok("00 B0 00 00 09") == bytes.fromhex("080910100000001020")
    assert [p.name for p in tmp_path.iterdir()] == ["card.json"]  # no temp files left


def test_failed_update_does_not_touch_the_store(tmp_path: Path) -> None:
    store = tmp_path / "card.json"
    term = Terminal(UsimCard.blank(store))
    before = store.read_bytes()
    term.select("2FE2")
    assert term.sw("00 D6 00 00 01 98") == 0x6982
    assert store.read_bytes() == before


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="other/1"), "format"),
        (lambda d: d["files"].update({"3F00/2FE2": "ff"}), "3F00/2FE2"),
        (lambda d: d["files"].update({"3F00/9999": "ff"}), "3F00/9999"),
        (lambda d: d["pins"]["ADM1"].update(tries=7), "ADM1"),
        (lambda d: d.update(model="sjs1"), "model"),
    ],
)
def test_bad_store_is_refused_naming_the_problem(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    store = tmp_path / "card.json"
    UsimCard.blank(store)
    doc = json.loads(store.read_text())
    mutate(doc)
    store.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=message):
        UsimCard.load(store)


def test_missing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such file"):
        UsimCard.load(tmp_path / "absent.json")
