"""The emulated card's file system as tools see it: FCPs, SELECT variants, probes, STATUS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emulators.usim.layout import Ef, FileSystem
from tests.emulators.usim.usim_terminal import Terminal

USIM_AID = "A0000000871002FF86FF0389FFFFFFFF"
DOC = Path(__file__).parents[3] / "docs" / "card-emulator.md"


def tlvs(data: bytes) -> dict[int, bytes]:
    """Top-level BER-TLVs (one-byte tags, short or 81-form lengths) as {tag: value}."""
    out, i = {}, 0
    while i < len(data):
        tag, n = data[i], data[i + 1]
        i += 2
        if n == 0x81:
            n, i = data[i], i + 1
        out[tag] = data[i : i + n]
        i += n
    assert i == len(data), "TLV overruns its container"
    return out


def fcp(raw: bytes) -> dict[int, bytes]:
    outer = tlvs(raw)
    assert list(outer) == [0x62]
    return tlvs(outer[0x62])


def test_mf_fcp_is_a_df_with_pin_status(term: Terminal) -> None:
    f = fcp(term.ok("00 A4 00 04 02 3F00"))
    assert f[0x82] == bytes.fromhex("7821")  # DF
    assert f[0x83] == bytes.fromhex("3F00")
    assert f[0x8A] == b"\x05"
    assert f[0x8B] == bytes.fromhex("2F0601")
    assert 0x80 in tlvs(f[0xA5])
    pin_status = f[0xC6]
    assert pin_status[:3] == bytes.fromhex("900140")  # PIN1 disabled, ADM1 enabled
    assert bytes.fromhex("830101") in pin_status and bytes.fromhex("83010A") in pin_status


def test_adf_fcp_names_the_usim_aid(term: Terminal) -> None:
    f = fcp(term.ok(f"00 A4 04 04 10 {USIM_AID}"))
    assert f[0x82][0] == 0x78
    assert f[0x84] == bytes.fromhex(USIM_AID)


def test_transparent_ef_fcp(term: Terminal) -> None:
    f = fcp(term.select("7FFF", "6F07"))
    assert f[0x82] == bytes.fromhex("4121")
    assert f[0x83] == bytes.fromhex("6F07")
    assert int.from_bytes(f[0x80], "big") == 9
    assert f[0x88] == bytes([0x07 << 3])
    assert f[0x8B] == bytes.fromhex("6F0602")  # ADF's EF.ARR, rule 2: read PIN1


def test_linear_fixed_ef_fcp(term: Terminal) -> None:
    f = fcp(term.select("7F10", "6F42"))
    assert f[0x82] == bytes.fromhex("422100") + bytes([52, 2])
    assert int.from_bytes(f[0x80], "big") == 104
    assert f[0x88] == b""  # no SFI


@pytest.mark.parametrize(("path", "ef"), list(FileSystem().efs()), ids=lambda v: str(v))
def test_every_file_is_selectable_with_its_size_and_structure(
    term: Terminal, path: str, ef: Ef
) -> None:
    fids = path.replace("ADF.USIM", "7FFF").split("/")
    fids = fids[1:] if fids[0] == "3F00" else fids
    f = fcp(term.select(*fids))
    size = int.from_bytes(f[0x80], "big")
    descriptor = f[0x82]
    if descriptor[0] == 0x42:
        assert size == descriptor[3] * descriptor[4]
    else:
        assert descriptor == bytes.fromhex("4121")
    assert size == ef.size


def test_arr_record_behind_imsi_grants_read_to_pin1_or_adm1(term: Terminal) -> None:
    f = fcp(term.select("7FFF", "6F07"))
    arr_fid, record = f[0x8B][:2].hex(), f[0x8B][2]
    term.select("7FFF", arr_fid)
    rule = term.ok(f"00 B2 {record:02X} 04 00")
    read_part = rule[: rule.index(bytes.fromhex("800102"))]
    assert read_part.startswith(bytes.fromhex("800101"))
    assert bytes.fromhex("A406830101950108") in read_part  # PIN1 …
    assert bytes.fromhex("A40683010A950108") in read_part  # … or ADM1


def test_ef_dir_record_carries_the_usim_aid(term: Terminal) -> None:
    term.select("2F00")
    record = term.ok("00 B2 01 04 26")
    app = tlvs(record.rstrip(b"\xff"))[0x61]
    assert tlvs(app)[0x4F] == bytes.fromhex(USIM_AID)


def test_blank_card_is_ff_except_structure(term: Terminal) -> None:
    term.select("2FE2")
    assert term.ok("00 B0 00 00 0A") == b"\xff" * 10
    term.select("7FFF", "6F38")
    assert term.ok("00 B0 00 00 00") == b"\xff" * 20
    term.select("7FFF", "6F21")  # Milenage constants r1..r5 then c1..c5
    assert term.ok("00 B0 00 00 05") == bytes.fromhex("4000204060")


def test_select_by_fid_follows_the_ts_102_221_search_order(term: Terminal) -> None:
    term.ok("00 A4 00 04 02 7F20")
    term.ok("00 A4 00 04 02 6F38")  # child of the current DF (EF.SST)
    term.ok("00 A4 00 04 02 6F07")  # sibling of the current EF
    fcp_telecom = fcp(term.ok("00 A4 00 04 02 7F10"))  # sibling DF of the parent's children
    assert fcp_telecom[0x83] == bytes.fromhex("7F10")
    assert term.sw("00 A4 00 04 02 6F07") == 0x6A82  # DF.TELECOM has no IMSI
    term.ok("00 A4 00 04 02 7FFF")
    assert fcp(term.ok("00 A4 00 04 02 6F07"))[0x80] == b"\x00\x09"


def test_select_by_path_from_current_df(term: Terminal) -> None:
    term.ok("00 A4 00 0C 02 7F20")
    assert fcp(term.ok("00 A4 09 04 02 6FAD"))[0x83] == bytes.fromhex("6FAD")
    assert term.sw("00 A4 09 04 04 7F20 6FAD") == 0x6A82  # 7F20 is not a child of 7F20


def test_select_by_path_from_mf_accepts_a_leading_3f00(term: Terminal) -> None:
    assert fcp(term.ok("00 A4 08 04 06 3F00 7F20 6F07"))[0x83] == bytes.fromhex("6F07")


def test_select_by_partial_aid_and_no_data(term: Terminal) -> None:
    assert term.send("00 A4 04 0C 07 A0000000871002") == (b"", 0x9000)


@pytest.mark.parametrize(
    "aid",
    [
        "A0000005591010FFFFFFFF8900000100",  # ISD-R (eUICC)
        "A000000151000000",  # GlobalPlatform ISD
        "A00000015141434C00",  # ARA-M
        "A0000000871004FF49FF0589",  # ISIM
    ],
)
def test_probed_applications_are_not_found(term: Terminal, aid: str) -> None:
    assert term.sw(f"00 A4 04 04 {len(aid) // 2:02X} {aid}") == 0x6A82


@pytest.mark.parametrize(
    ("apdu", "sw"),
    [
        ("00 A4 00 04 02 6F99", 0x6A82),  # no such file
        ("00 A4 00 04 03 3F0000", 0x6700),  # FID must be 2 bytes
        ("00 A4 08 04 03 7F206F", 0x6700),  # odd path
        ("00 A4 00 08 02 3F00", 0x6A86),  # P2 not 04/0C
        ("00 A4 02 04 02 3F00", 0x6A86),  # P1 not supported
        ("00 A4 08 04 04 2FE2 6F07", 0x6A82),  # path through an EF
        ("00 12 00 00 00", 0x6D00),  # unknown INS
        ("80 B0 00 00 01", 0x6D00),  # READ BINARY is not a CLA 80 command
        ("10 A4 00 04 02 3F00", 0x6E00),  # unknown CLA
        ("01 A4 00 04 02 3F00", 0x6881),  # logical channel 1
        ("00 A4", 0x6700),  # too short
        ("00 D6 00 00 05 0102", 0x6700),  # Lc disagrees with the data
    ],
)
def test_bad_selects_and_commands(term: Terminal, apdu: str, sw: int) -> None:
    assert term.sw(apdu) == sw


def test_status_returns_the_current_df_and_the_application_name(term: Terminal) -> None:
    term.ok(f"00 A4 04 0C 10 {USIM_AID}")
    term.ok("00 A4 00 0C 02 6F07")
    assert fcp(term.ok("80 F2 00 00 00"))[0x84] == bytes.fromhex(USIM_AID)
    assert tlvs(term.ok("80 F2 01 01 00"))[0x84] == bytes.fromhex(USIM_AID)
    assert term.send("80 F2 00 0C 00") == (b"", 0x9000)
    term.card.power_on()
    assert term.sw("80 F2 00 01 00") == 0x6985  # no application active after reset


def test_gsm_class_select_answers_9f_and_get_response(term: Terminal) -> None:
    assert term.send("A0 A4 00 00 02 7F20") == (b"", 0x9F16)
    df = term.ok("A0 C0 00 00 16")
    assert df[4:7] == bytes.fromhex("7F2002")  # FID, type DF
    assert df[18] == 0x83  # CHV1 initialised, 3 tries
    assert term.send("A0 A4 00 00 02 6FAD")[1] == 0x9F0F
    ef = term.ok("A0 C0 00 00 0F")
    assert ef[2:4] == b"\x00\x04" and ef[4:6] == bytes.fromhex("6FAD") and ef[6] == 0x04
    assert ef[8] == 0x0A  # read always, update ADM
    assert term.sw("A0 C0 00 00 0F") == 0x9808  # nothing left to fetch
    assert term.sw("A0 A4 00 00 02 7FFF") == 0x9404  # no ADF in the GSM world
    assert term.ok("A0 B0 00 00 04") == b"\xff" * 4


def test_docs_table_matches_the_layout() -> None:
    """docs/card-emulator.md lists every EF with its size; keep the two in step."""
    row = re.compile(r"^\| `([0-9A-F/.A-Z]+)` \| (EF\.\w+) \| (\d+)", re.M)
    rows = row.findall(DOC.read_text(encoding="utf-8"))
    documented = {(path, name, int(size)) for path, name, size in rows}
    actual = {(path, ef.name, ef.size) for path, ef in FileSystem().efs()}
    assert documented == actual
