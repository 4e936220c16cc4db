"""Profile validation: every bad field named, nothing secret ever echoed."""

from __future__ import annotations

import pytest

from simcard.profile import CardProfile, ProfileError, adm_code, luhn_digit
from tests.simcard.conftest import KI, OPC, PROFILE_FIELDS


def _create(**changes: object) -> CardProfile:
    return CardProfile.create({**PROFILE_FIELDS, **changes})


def test_defaults_follow_the_imsi() -> None:
    p = _create(imsi="460001234567897")
    assert (p.mcc, p.mnc) == ("460", "00")
    assert p.acc == "0080"  # class 7 = last IMSI digit
    assert p.access_classes == frozenset({7})
    assert [str(x) for x in p.ehplmn_list] == ["460-00"]


def test_three_digit_mnc_is_kept() -> None:
    p = _create(imsi="310410123456789", mnc="410")
    assert str(p.home) == "310-410"


def test_luhn_digit_of_the_reference_iccid() -> None:
    assert luhn_digit("898821100000046734") == "3"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"iccid": "8988211000000467344"}, "iccid", "Luhn"),
        ({"iccid": "89882110000004673"}, "iccid", "19 to 20 digits"),
        (
            {"imsi": "460001234567890", "mcc": "001"},
            "imsi",
            "does not start with the profile's MCC 001",
        ),
        ({"mnc": "011"}, "imsi", "MNC 011"),
        ({"mnc": "1"}, "mnc", "2 to 3 digits"),
        ({"ki": KI[:-2]}, "ki", "32 hex digits"),
        ({"opc": OPC + "00"}, "opc", "32 hex digits"),
        ({"opc": "z" * 32}, "opc", "32 hex digits"),
        ({"opc": None}, "opc", "exactly one of OPc and OP"),
        ({"op": OPC}, "opc", "exactly one of OPc and OP"),
        ({"spn": "Operator With A Long Name"}, "spn", "the file holds 16"),
        ({"spn": "中国移动通信集团"}, "spn", "7 Chinese characters"),
        ({"msisdn": "+7777x"}, "msisdn", "decimal digits"),
        ({"acc": "04"}, "acc", "4 hex digits"),
        ({"pin1": "12"}, "pin1", "4 to 8 digits"),
        ({"puk1": "1234"}, "puk1", "8 digits"),
        ({"adm1": "123456789"}, "adm1", "up to 8 characters"),
    ],
)
def test_bad_fields_are_named(changes: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(ProfileError) as info:
        _create(**changes)
    assert f"{field}: " in str(info.value)
    assert words in str(info.value)


def test_errors_and_reprs_never_show_secrets() -> None:
    secret = "0123456789abcdef0123456789abcdeX"  # one bad digit
    with pytest.raises(ProfileError) as info:
        _create(ki=secret, adm1="1234567890")
    assert secret not in str(info.value)
    assert "1234567890" not in str(info.value)
    p = _create()
    for text in (repr(p), str(p), str(p.public())):
        assert KI not in text and OPC not in text and "12345678" not in text
    assert p.public()["ki"] == "****"


def test_opc_is_derived_from_op() -> None:
    p = _create(opc=None, op="cdc202d5123e20f62b6d676ac72cb318")  # TS 35.208 set 1
    assert p.opc_bytes == bytes.fromhex(OPC)


def test_adm_codes_are_sent_as_pysim_sends_them() -> None:
    assert adm_code("12345678").hex() == "3132333435363738"
    assert adm_code("1234").hex() == "31323334ffffffff"
    assert adm_code("0011223344556677").hex() == "0011223344556677"


def test_comp128v1_profiles_need_no_opc() -> None:
    p = _create(algorithm="comp128v1", opc=None)
    assert p.opc_bytes is None
