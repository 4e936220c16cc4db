"""Vendor output files: both column sets, transport-encrypted Ki, and bad lines by number."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from gateway.identifiers import luhn_check_digit
from gateway.resources.refusals import Invalid
from gateway.resources.service import Resources
from gateway.resources.stock import CardKind, CardState
from gateway.resources.transport_keys import TransportKeys
from gateway.resources.vendor_file import parse_vendor_file
from gateway.store import SqliteStore

# 3GPP TS 35.208 test set 1 K and OPc: realistic, random-looking card keys.
K1 = "465b5ce8b199b49faa5f0a2ee238a6bc"
OPC1 = "cd63cb71954a9f4e48a5994e37a02baf"
# FIPS-197 appendix C.1: AES-128 of 00112233…eeff under 000102…0f.
FIPS_KEY = bytes(range(16))
FIPS_PLAIN = "00112233445566778899aabbccddeeff"
FIPS_CIPHER = "69c4e0d86a7b0430d8cdb78070b4c55a"
KEYS = TransportKeys({1: FIPS_KEY})


def iccid(n: int) -> str:
    body = f"898601{n:012d}"
    return body + str(luhn_check_digit(body))


def simple_line(n: int, ki: str | None = None) -> str:
    return f"46001{n:010d} {iccid(n)} 1234 12345678 5678 87654321 0001 {ki or f'{n:032x}'}"


def extended_line(n: int, ki: str | None = None, opc: str | None = None) -> str:
    return simple_line(n, ki) + f" {opc or f'{n + 1:032x}'} Adm{n:05d}"


def vendor_file(
    lines: list[str], *, batch: str = "B1", key: int = 0, count: int | None = None
) -> str:
    header = f"{batch} 20261121T101500 {len(lines) if count is None else count} usim-4g 1 {key} 0"
    return "\n".join([header, *lines]) + "\n"


def test_simple_form_with_clear_keys() -> None:
    batch = parse_vendor_file(vendor_file([simple_line(1), simple_line(2)]), KEYS)
    assert batch.header.batch_id == "B1" and batch.header.quantity == 2
    assert not batch.programmable
    first = batch.cards[0]
    assert (first.line, first.iccid, first.imsi, first.acc) == (
        2,
        iccid(1),
        "460010000000001",
        "0001",
    )
    assert first.secrets == {
        "pin1": "1234",
        "puk1": "12345678",
        "pin2": "5678",
        "puk2": "87654321",
        "ki": f"{1:032x}",
    }
    assert FIPS_PLAIN not in repr(first) and f"{1:032x}" not in repr(batch)


def test_transport_encrypted_ki_is_opened_with_the_indexed_key() -> None:
    text = vendor_file([extended_line(1, ki=FIPS_CIPHER.upper())], key=1)
    (card,) = parse_vendor_file(text, KEYS).cards
    assert card.secrets["ki"] == FIPS_PLAIN
    assert card.secrets["opc"] == f"{2:032x}"
    assert card.secrets["adm1"] == "Adm00001", "an ASCII ADM1 keeps its case"
    assert KEYS.encrypt(1, [bytes.fromhex(FIPS_PLAIN)]) == [bytes.fromhex(FIPS_CIPHER)]


def test_columns_named_in_a_comment_line_and_blank_cards() -> None:
    text = "\n".join(
        [
            "# made by the vendor",
            "BLANK1 20261121 2 usim-blank 1",
            "# ICCID IMSI ADM1",
            f"{iccid(1)} 460010000000001 11112222",
            "",
            f"{iccid(2)} 460010000000002 33334444",
        ]
    )
    batch = parse_vendor_file(text, KEYS)
    assert batch.programmable and batch.columns == ("ICCID", "IMSI", "ADM1")
    assert [c.secrets for c in batch.cards] == [{"adm1": "11112222"}, {"adm1": "33334444"}]


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (
            simple_line(2).replace(iccid(2), iccid(2)[:-1] + str((int(iccid(2)[-1]) + 1) % 10)),
            "ICCID check digit is wrong",
        ),
        (simple_line(2).replace("460010000000002", "46001000000002"), "IMSI must be 15 digits"),
        (simple_line(2).replace("460010000000002", "100010000000002"), "country code"),
        (simple_line(2, ki="00" * 15), "KI must be 32 hexadecimal digits (128 bits), got 30"),
        (simple_line(2, ki="zz" * 16), "KI must be hexadecimal"),
        (simple_line(2).replace(" 1234 ", " 12 "), "PIN1 must be 4 to 8 digits"),
        (simple_line(2).replace(" 0001 ", " 01 "), "ACC must be 4 hexadecimal digits"),
        (simple_line(2).rsplit(" ", 1)[0], "expected 8 fields"),
        (
            simple_line(1).replace("460010000000001", "460010000000002"),
            f"ICCID {iccid(1)} repeats line 2",
        ),
        (
            simple_line(3).replace("460010000000003", "460010000000001"),
            "IMSI 460010000000001 repeats line 2",
        ),
    ],
)
def test_a_bad_line_is_reported_by_its_number(bad: str, words: str) -> None:
    text = vendor_file([simple_line(1), bad, simple_line(4)])
    with pytest.raises(Invalid) as caught:
        parse_vendor_file(text, KEYS)
    (error,) = caught.value.errors
    assert error["field"] == "line 3"
    assert words in error["message"]
    assert f"{2:032x}" not in str(caught.value), "a key is never echoed"


def test_every_bad_line_is_listed() -> None:
    text = vendor_file(
        [simple_line(1), simple_line(2, ki="00"), simple_line(3), simple_line(4, ki="11")]
    )
    with pytest.raises(Invalid) as caught:
        parse_vendor_file(text, KEYS)
    assert [e["field"] for e in caught.value.errors] == ["line 3", "line 5"]


@pytest.mark.parametrize(
    ("header", "words"),
    [
        ("B1 20261121 3 usim 1 0 0", "header says 3 cards, the file has 2"),
        ("B1 20261121 2 usim 2 0 0", "cards with 2 IMSIs each are not supported"),
        ("B1 20261121 2 usim 1 7 0", "transport key 7 is not configured"),
        ("B1 20261121 2 usim", "header must be"),
        ("B1 20261121 two usim 1", "whole numbers"),
        ("B/1 20261121 2 usim 1", "batchID"),
    ],
)
def test_header_problems_name_the_header_line(header: str, words: str) -> None:
    text = "\n".join([header, simple_line(1), simple_line(2)])
    with pytest.raises(Invalid) as caught:
        parse_vendor_file(text, KEYS)
    assert caught.value.errors[0]["field"] == "line 1"
    assert words in caught.value.errors[0]["message"]


def test_transport_keys_from_the_environment_and_a_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "transport-keys"
    key_file.write_text(f"# vendor A\n1 {FIPS_KEY.hex()}\n2 {'22' * 16}\n")
    key_file.chmod(0o600)
    monkeypatch.setenv("PROVGW_TRANSPORT_KEY_2", "33" * 16)
    keys = TransportKeys.from_environment(key_file)
    assert 1 in keys and 2 in keys and 0 in keys and 3 not in keys
    assert keys.decrypt(1, [bytes.fromhex(FIPS_CIPHER)]) == [bytes.fromhex(FIPS_PLAIN)]
    assert keys.encrypt(2, [bytes(16)]) == TransportKeys({2: bytes.fromhex("33" * 16)}).encrypt(
        2, [bytes(16)]
    )
    key_file.chmod(0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        TransportKeys.from_environment(key_file)
    key_file.chmod(0o600)
    key_file.write_text(f"1 {FIPS_KEY.hex()[:-2]}\n")
    with pytest.raises(ValueError, match="line 1") as caught:
        TransportKeys.from_environment(key_file)
    assert FIPS_KEY.hex()[:-2] not in str(caught.value)


async def test_import_takes_every_card_into_stock_sealed(
    res: Resources, store: SqliteStore
) -> None:
    card2 = extended_line(2, ki=KEYS.encrypt(1, [bytes.fromhex(K1)])[0].hex(), opc=OPC1)
    text = vendor_file([extended_line(1, ki=FIPS_CIPHER), card2], key=1)
    result = await res.stock.import_vendor_file(text, by="engineer1", keys=KEYS)
    assert (result.batch, result.cards, result.kind) == ("B1", 2, CardKind.PERSONALISED)
    cards = await res.stock.cards()
    assert [(c.iccid, c.state, c.batch, c.product) for c in cards] == [
        (iccid(1), CardState.IN_STOCK, "B1", "usim-4g"),
        (iccid(2), CardState.IN_STOCK, "B1", "usim-4g"),
    ]
    await res.stock.reserve_card(iccid(1), "clerk1")
    keys = await res.stock.card_keys(iccid(1))
    assert keys.ki.get_secret_value() == FIPS_PLAIN
    assert keys.adm1 is not None and keys.adm1.get_secret_value() == "Adm00001"
    await store.close()
    raw = b"".join(p.read_bytes() for p in store.path.parent.glob("provgw.db*"))
    for secret in (FIPS_PLAIN, FIPS_CIPHER, K1, OPC1):
        assert secret.encode() not in raw and secret.upper().encode() not in raw
        assert bytes.fromhex(secret) not in raw
    assert b"87654321" not in raw and b"Adm00002" not in raw, "PUK and ADM1 sealed too"
    await store.open()


async def test_a_bad_line_leaves_the_stock_unchanged(res: Resources, store: SqliteStore) -> None:
    await res.stock.import_vendor_file(vendor_file([simple_line(1)], batch="B0"), by="e", keys=KEYS)
    lines = [simple_line(n) for n in range(2, 50)]
    lines[30] = simple_line(32, ki="abc")
    with pytest.raises(Invalid, match="line 32: KI must be 32 hexadecimal digits"):
        await res.stock.import_vendor_file(vendor_file(lines), by="e", keys=KEYS)

    def counts(conn: sqlite3.Connection) -> tuple[int, int]:
        return (
            conn.execute("SELECT count(*) FROM sims").fetchone()[0],
            conn.execute("SELECT count(*) FROM sim_batches").fetchone()[0],
        )

    assert await store.run(counts) == (1, 1)


async def test_cards_already_in_stock_are_refused_by_line(
    res: Resources, store: SqliteStore
) -> None:
    await res.stock.import_vendor_file(vendor_file([simple_line(5)], batch="B0"), by="e", keys=KEYS)
    text = vendor_file([simple_line(4), simple_line(5), simple_line(6)])
    with pytest.raises(Invalid) as caught:
        await res.stock.import_vendor_file(text, by="e", keys=KEYS)
    assert {(e["field"], e["message"].split(" ")[0]) for e in caught.value.errors} == {
        ("line 3", "ICCID"),
        ("line 3", "IMSI"),
    }
    assert len(await res.stock.cards()) == 1
    with pytest.raises(Exception, match="batch B0 was imported already"):
        await res.stock.import_vendor_file(
            vendor_file([simple_line(9)], batch="B0"), by="e", keys=KEYS
        )
    assert len(await res.stock.cards()) == 1


async def test_the_environment_is_clean_of_transport_keys() -> None:
    """The tests above set keys only through monkeypatch; nothing leaks into later tests."""
    assert not [k for k in os.environ if k.startswith("PROVGW_TRANSPORT_KEY_")]


def test_ota_keys_are_opened_under_the_ota_transport_key_or_refused_without_it() -> None:
    columns = "# IMSI ICCID PIN1 PUK1 PIN2 PUK2 ACC KI OPC ADM1 KIC KID"
    card = extended_line(1) + f" {FIPS_CIPHER} {FIPS_CIPHER}"
    header = "B1 20261121T101500 1 usim-4g 1 0 {ota}"
    batch = parse_vendor_file("\n".join([header.format(ota=1), columns, card]), KEYS)
    secrets = batch.cards[0].secrets
    assert (secrets["kic"], secrets["kid"]) == (FIPS_PLAIN, FIPS_PLAIN)  # FIPS-197 C.1
    with pytest.raises(Invalid) as refused:
        parse_vendor_file("\n".join([header.format(ota=3), columns, card]), KEYS)
    assert refused.value.errors == [
        {
            "field": "line 1",
            "message": "header: OTA transport key 3"
            " is not configured (set $PROVGW_TRANSPORT_KEY_3 or add it to the transport key file)",
        }
    ]
    clear = parse_vendor_file("\n".join([header.format(ota=0), columns, card]), KEYS)
    assert clear.cards[0].secrets["kic"] == FIPS_CIPHER  # index 0: the file has them in clear
