"""Linked files: the DF.GSM and ADF.USIM (and DF.TELECOM) entries that share one content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulators.usim.card import UsimCard
from emulators.usim.layout import FileSystem
from tests.emulators.usim.usim_terminal import Terminal

# (DF.GSM or DF.TELECOM path, ADF.USIM path, some bytes to write) — what the SJA2 links
GSM_USIM = [
    ("7F20/6F07", "7FFF/6F07", "080910100000001020"),
    ("7F20/6F46", "7FFF/6F46", "034d61676963" + "ff" * 11),
    ("7F20/6F78", "7FFF/6F78", "0010"),
    ("7F20/6FAD", "7FFF/6FAD", "00000002"),
    ("7F20/6F3E", "7FFF/6F3E", "01" * 10),
    ("7F20/6F3F", "7FFF/6F3F", "02" * 10),
    ("7F20/6F31", "7FFF/6F31", "05"),
    ("7F20/6F7B", "7FFF/6F7B", "64f000" + "ff" * 9),
    ("7F20/6F60", "7FFF/6F60", "00f110ffff" + "ffffff0000" * 11),
    ("7F20/6F61", "7FFF/6F61", "64f0004000" + "ffffff0000" * 11),
    ("7F20/6F62", "7FFF/6F62", "00f1108000" + "ffffff0000" * 11),
]


def select(term: Terminal, path: str) -> None:
    term.select(*path.split("/"))


@pytest.mark.parametrize(("gsm", "usim", "content"), GSM_USIM, ids=lambda v: str(v)[:9])
def test_a_write_under_df_gsm_shows_under_adf_usim_and_back(
    term: Terminal, gsm: str, usim: str, content: str
) -> None:
    term.adm()
    select(term, gsm)
    term.ok(f"00 D6 00 00 {len(content) // 2:02X} {content}")
    select(term, usim)
    assert term.ok("00 B0 00 00 00").hex() == content
    term.ok(f"00 D6 00 00 01 {content[:2]}")  # first byte again, written from the other side
    term.ok("00 D6 00 00 01 AA")
    select(term, gsm)
    assert term.ok("00 B0 00 00 01") == b"\xaa"


def test_msisdn_and_smsp_of_the_usim_are_df_telecom_s(term: Terminal) -> None:
    term.adm()
    smsp = "ff" * 24 + "e1" + "ff" * 12 + "0581005155f5" + "ff" * 6 + "000000"
    term.select("7F10", "6F42")
    term.ok(f"00 DC 01 04 34 {smsp}")
    term.select("7FFF", "6F42")
    assert term.ok("00 B2 01 04 34").hex() == smsp
    msisdn = "ff" * 20 + "05b1766662f6" + "ff" * 8
    term.select("7FFF", "6F40")
    term.ok(f"00 DC 03 04 22 {msisdn}")
    term.select("7F10", "6F40")
    assert term.ok("00 B2 03 04 22").hex() == msisdn


def test_each_entry_keeps_its_own_fcp(term: Terminal) -> None:
    """Linked entries differ in what the directory says: SFI 07 in the ADF, none in DF.GSM."""
    gsm = term.select("7F20", "6F07")
    usim = term.select("7FFF", "6F07")
    assert bytes.fromhex("8800") in gsm
    assert bytes([0x88, 0x01, 0x07 << 3]) in usim


def test_the_2g_key_file_is_the_usims_2g_key_file(term: Terminal) -> None:
    """A515/6F20 and ADF.USIM/AF22 share content: written through AF22, the GSM context of
    AUTHENTICATE (which reads A515/6F20) uses the new Ki."""
    # COMP128v1 known answer also used by osmo-hlr's tests (as in test_usim_auth)
    ki, rand = "eb215756028d60e3275e613320aec880", "39fa2f4e3d523d8619a73b4f65c3e14d"
    term.adm()
    term.select("7FFF", "AF22")
    term.ok("00 D6 00 00 01 01")  # config: COMP128v1
    term.ok(f"00 D6 00 01 10 {ki}")
    term.select("3F00", "A515", "6F20")
    assert term.sw("00 B0 00 00 01") == 0x6982  # never readable, under either name
    term.ok("00 A4 04 0C 07 A0000000871002")
    answer = term.ok(f"00 88 00 80 11 10 {rand}")
    assert answer.hex() == "04" + "429d5b27" + "08" + "241a5b16aeb8e400"


def test_the_store_keeps_one_content_per_linked_pair(tmp_path: Path) -> None:
    store = tmp_path / "card.json"
    term = Terminal(UsimCard.blank(store, model="sja2"))
    term.adm()
    term.select("7F20", "6F07")
    term.ok("00 D6 00 00 09 080910100000001020")
    files = json.loads(store.read_text())["files"]
    assert "3F00/7F20/6F07" not in files
    assert files["ADF.USIM/6F07"] == "080910100000001020"
    again = Terminal(UsimCard.load(store))
    again.select("7F20", "6F07")
    assert again.ok("00 B0 00 00 09").hex() == "080910100000001020"


def test_a_store_from_before_the_links_loads_with_the_usim_copy_winning(tmp_path: Path) -> None:
    store = tmp_path / "card.json"
    UsimCard.blank(store)
    doc = json.loads(store.read_text())
    doc["files"]["3F00/7F20/6F07"] = "ff" * 9  # the old separate DF.GSM copy
    doc["files"]["ADF.USIM/6F07"] = "080910100000001020"
    doc["files"]["3F00/7F20/6F46"] = "01" + "41" * 4 + "ff" * 12  # only copy: it is kept
    del doc["files"]["ADF.USIM/6F46"]
    doc["files"]["3F00/7F10/6F40"] = "ff" * 68  # MSISDN had 2 records then
    store.write_text(json.dumps(doc))
    term = Terminal(UsimCard.load(store))
    term.select("7F20", "6F07")
    assert term.ok("00 B0 00 00 09").hex() == "080910100000001020"
    term.select("7FFF", "6F46")
    assert term.ok("00 B0 00 00 05").hex() == "0141414141"
    term.select("7F10", "6F40")
    assert term.ok("00 B2 06 04 22") == b"\xff" * 34


def test_every_link_points_at_a_file_of_the_same_structure() -> None:
    fs = FileSystem()
    stored = dict(fs.stored_efs())
    links = fs.links()
    assert len(links) == 14
    for path, target in links.items():
        ef = dict(fs.efs())[path]
        assert (stored[target].size, stored[target].record_len) == (ef.size, ef.record_len)
