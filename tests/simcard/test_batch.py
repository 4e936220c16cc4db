"""Batches: generation from ranges, and pySim-prog's CSV columns both ways."""

from __future__ import annotations

import io

import pytest

from simcard.batch import CSV_COLUMNS, generate, profile_from_row, read_csv, write_csv
from simcard.milenage import opc_from_op
from simcard.profile import CardProfile, ProfileError, luhn_digit

OP = bytes.fromhex("cdc202d5123e20f62b6d676ac72cb318")


def test_generated_batch_counts_up_with_fresh_keys() -> None:
    batch = generate(3, "460001234567890", "8986001234567890120", op=OP, template={"spn": "Test"})
    assert [p.imsi for p in batch] == ["460001234567890", "460001234567891", "460001234567892"]
    assert [p.iccid[:-1] for p in batch] == [
        "898600123456789012",
        "898600123456789013",
        "898600123456789014",
    ]
    assert all(luhn_digit(p.iccid[:-1]) == p.iccid[-1] for p in batch)
    assert len({p.ki_bytes for p in batch}) == 3
    assert all(p.opc_bytes == opc_from_op(p.ki_bytes, OP) for p in batch)
    assert all(p.spn == "Test" and p.puk1 is not None for p in batch)


@pytest.mark.parametrize(
    ("first_imsi", "first_iccid", "words"),
    [
        ("460001234567890", "8986001234567890121", "Luhn"),
        ("46000123456789x", "8986001234567890120", "IMSI"),
        ("460009999999999", "8986001234567890120", "does not start with the profile's MCC 460"),
        ("999999999999999", "8986001234567890120", "IMSI range overflows"),
    ],
)
def test_bad_ranges(first_imsi: str, first_iccid: str, words: str) -> None:
    with pytest.raises(ProfileError, match=words):
        generate(2, first_imsi, first_iccid)


def test_csv_round_trip_keeps_every_field() -> None:
    batch = generate(
        2,
        "001010000000001",
        "8988211000000000011",
        template={"smsc": "+8613800100500", "adm1": "12345678", "msisdn": "+8613912345678"},
    )
    out = io.StringIO()
    assert write_csv(out, batch) == 2
    header = out.getvalue().splitlines()[0]
    assert header == ",".join(CSV_COLUMNS)
    back = [p for _, p in read_csv(io.StringIO(out.getvalue()))]
    assert all(isinstance(p, CardProfile) for p in back)
    for a, b in zip(batch, back, strict=True):
        assert isinstance(b, CardProfile)
        assert (a.iccid, a.imsi, a.smsc, a.msisdn, a.acc) == (
            b.iccid,
            b.imsi,
            b.smsc,
            b.msisdn,
            b.acc,
        )
        assert (a.ki_bytes, a.opc_bytes, a.adm1_code) == (b.ki_bytes, b.opc_bytes, b.adm1_code)


def test_pysim_prog_csv_reads_as_pysim_means_it() -> None:
    """Columns as pySim-prog --read-csv takes them: upper case allowed, smsp raw, pin_adm ASCII."""
    smsp = "e1" + "ff" * 12 + "0891683108100005f0ffffff" + "000000"
    text = (
        "ICCID,IMSI,KI,OPC,SMSP,PIN_ADM,NAME,MNC\n"
        f"8988211000000467343,001010000000102,{'11' * 16},{'22' * 16},{smsp},88888888,Magic,01\n"
    )
    [(line, p)] = list(read_csv(io.StringIO(text)))
    assert line == 2 and isinstance(p, CardProfile)
    assert p.smsc == "+8613800100500" and p.spn == "Magic"
    assert p.adm1_code == b"88888888"


def test_pin_adm_hex_is_raw() -> None:
    row = {
        "iccid": "8988211000000467343",
        "imsi": "001010000000102",
        "ki": "11" * 16,
        "opc": "22" * 16,
        "pin_adm_hex": "0102030405060708",
    }
    assert profile_from_row(row).adm1_code == bytes.fromhex("0102030405060708")


def test_bad_rows_are_reported_with_their_line_and_the_rest_read() -> None:
    text = (
        "iccid,imsi,ki,opc\n"
        f"8988211000000467343,001010000000102,{'11' * 16},{'22' * 16}\n"
        f"8988211000000467344,001010000000103,{'11' * 16},{'22' * 16}\n"
        f"8988211000000467350,001010000000104,{'11' * 15},{'22' * 16}\n"
    )
    rows = list(read_csv(io.StringIO(text)))
    assert isinstance(rows[0][1], CardProfile)
    assert isinstance(rows[1][1], ProfileError) and "line 3: iccid" in str(rows[1][1])
    assert isinstance(rows[2][1], ProfileError) and "line 4: ki" in str(rows[2][1])
    assert "11" * 15 not in str(rows[2][1])


def test_csv_without_identities_is_refused() -> None:
    with pytest.raises(ProfileError, match="lacks iccid"):
        list(read_csv(io.StringIO("imsi,ki\n001010000000102,00\n")))


# Two rows as `pySim-prog --write-csv` appends them (write_params_csv: no header; name, iccid,
# mcc, mnc, imsi, smsp, ki, opc), the first one from pySim's own SJA2 test values.
PYSIM_WRITE_CSV = (
    "Magic,8988211000000467343,001,01,001010000000102,"
    f"e1{'ff' * 12}0581005155f5ffffffffffff000000,aabbccddeeffaabbccddeeffaabbccdd,"
    "12345678901234567890123456789012\r\n"
    "Magic,8988211000000467350,001,01,001010000000103,"
    f"e1{'ff' * 12}0581005155f5ffffffffffff000000,{'11' * 16},{'22' * 16}\r\n"
)


def test_pysim_prog_write_csv_rows_without_a_header_are_read_in_its_column_order() -> None:
    rows = list(read_csv(io.StringIO(PYSIM_WRITE_CSV)))
    assert [line for line, _ in rows] == [1, 2]
    first, second = rows[0][1], rows[1][1]
    assert isinstance(first, CardProfile) and isinstance(second, CardProfile)
    assert (first.spn, first.iccid) == ("Magic", "8988211000000467343")
    assert (first.mcc, first.mnc) == ("001", "01")
    assert first.imsi == "001010000000102" and first.smsc == "0015555"
    assert first.ki_bytes.hex() == "aabbccddeeffaabbccddeeffaabbccdd"
    assert first.opc_bytes is not None and first.opc_bytes.hex().startswith("1234")
    assert first.adm1 is None  # pySim-prog does not write the ADM code to this file
    assert second.iccid == "8988211000000467350"


def test_a_header_less_row_of_the_wrong_width_is_refused_naming_the_columns() -> None:
    with pytest.raises(ProfileError, match=r"line 1: neither a header .* expected 8: name, iccid"):
        list(read_csv(io.StringIO("8988211000000467343,001010000000102\n")))


def test_a_bad_header_less_row_names_its_line_and_the_rest_is_read() -> None:
    bad = PYSIM_WRITE_CSV.replace("001010000000103", "00101000000010X")
    rows = list(read_csv(io.StringIO(bad)))
    assert isinstance(rows[0][1], CardProfile)
    assert isinstance(rows[1][1], ProfileError) and "line 2: imsi" in str(rows[1][1])
