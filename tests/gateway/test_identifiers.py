"""Identifier validation: valid and invalid vectors, each invalid one with a clear message."""

import pytest
from pydantic import BaseModel, ValidationError

from gateway.identifiers import (
    HexKey,
    Iccid,
    Imsi,
    Msisdn,
    ResidentId,
    SafeText,
    luhn_check_digit,
    resident_id_check_character,
    to_e164,
)


class Form(BaseModel):
    imsi: Imsi | None = None
    msisdn: Msisdn | None = None
    iccid: Iccid | None = None
    resident_id: ResidentId | None = None
    ki: HexKey | None = None
    name: SafeText | None = None


def error_of(**fields: str) -> tuple[str, str]:
    with pytest.raises(ValidationError) as info:
        Form(**fields)  # type: ignore[arg-type]
    err = info.value.errors()[0]
    return str(err["loc"][0]), err["msg"]


def test_luhn_vectors() -> None:
    # ICCID from shared/reference/sim-cards.md, and the classic ISO/IEC 7812 example.
    assert luhn_check_digit("898821100000046734") == 3
    assert luhn_check_digit("7992739871") == 3


def test_valid_identifiers_normalise() -> None:
    f = Form(
        imsi="460001234567890",
        msisdn="+86 138-0013-8000",
        iccid="8988211000000467343",
        resident_id="11010519491231002x",
        ki="465B5CE8B199B49FAA5F0A2EE238A6BC",
    )
    assert f.msisdn == "13800138000"
    assert to_e164(f.msisdn) == "8613800138000"
    assert f.resident_id == "11010519491231002X"
    assert f.ki is not None and f.ki.get_secret_value() == "465b5ce8b199b49faa5f0a2ee238a6bc"


def test_gb11643_check_character() -> None:
    # The standard's worked example: 11010519491231002X.
    assert resident_id_check_character("11010519491231002") == "X"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("imsi", "46000123456789A", "digits only"),
        ("imsi", "46000123456789", "15 digits"),
        ("imsi", "060001234567890", "country code"),
        ("msisdn", "1280013800", "11 digits"),
        ("msisdn", "12800138000", "11 digits starting 13"),
        ("msisdn", "1380013800a", "digits only"),
        ("iccid", "8988211000000467344", "check digit is wrong: last digit should be 3"),
        ("iccid", "898821100000046", "19 or 20 digits"),
        ("iccid", "1988211000000467343", "start with 89"),
        ("resident_id", "110105194912310021", "check character is wrong: should be X"),
        ("resident_id", "110105194913310021", "impossible birth date"),
        ("resident_id", "11010519491231002", "18 characters"),
        ("ki", "465b5ce8b199b49faa5f0a2ee238a6b", "32 hexadecimal"),
        ("ki", "zz5b5ce8b199b49faa5f0a2ee238a6bc", "32 hexadecimal"),
        ("name", 'Wang"; RMV SUB:', "not allowed"),
        ("name", "Li\nLGO:;", "not allowed"),
    ],
)
def test_invalid_identifiers_name_the_problem(field: str, value: str, message: str) -> None:
    loc, msg = error_of(**{field: value})
    assert loc == field
    assert message in msg


def test_bad_key_message_does_not_echo_the_key() -> None:
    _, msg = error_of(ki="465b5ce8b199b49faa5f0a2ee238a6")
    assert "465b5ce8" not in msg


def test_an_order_validation_error_never_echoes_the_key() -> None:
    from tests.gateway.orders_factory import open_account

    with pytest.raises(ValidationError) as info:
        open_account("x", ki="465b5ce8b199b49faa5f0a2ee238a6b")
    assert "465b5ce8" not in str(info.value)
