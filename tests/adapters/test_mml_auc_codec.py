"""The AuC extension of the MML codec: GEN AUTHVEC / MOD AUTHSQN text, vector parsing, masking.

The reply below is the contract's layout written out by hand (TS 35.208 test set 1 values),
not produced by the emulator: the codec must read the contract, not the emulator's habits.
"""

from __future__ import annotations

import pytest

from adapters.huawei_mml import mml
from gateway.operations import AuthVector

IMSI = "460001234567890"
RAND = "23553CBE9637A89D218AE64DAE47BF35"
AUTS = "0123456789ABCDEF0123456789AB"
XRES = "A54211D5E3BA50BF"
CK = "B40BA9A3C58B2A05BBF0D987B21BF8CB"
IK = "F769BCD751044604127672711C6D3441"
AUTN = "55F328B43577B9B94A9FFAC354DFAFB3"
REPLY = f"""\
+++    HLR9820        2026-11-21 10:00:00
O&M    #77
%%GEN AUTHVEC:HLRSN=1,IMSI="{IMSI}";%%
RETCODE = 0  Operation succeeded

The result is as follows
------------------------
IMSI  =  {IMSI}
RAND  =  {RAND}
XRES  =  {XRES}
CK  =  {CK}
IK  =  {IK}
AUTN  =  {AUTN}

There is together 1 report
---    END"""


def test_request_vector_text() -> None:
    assert mml.request_vector(IMSI).text() == f'GEN AUTHVEC:HLRSN=1,IMSI="{IMSI}";'
    assert mml.request_vector(IMSI, hlrsn=3).text() == f'GEN AUTHVEC:HLRSN=3,IMSI="{IMSI}";'


def test_resynchronise_text_in_upper_case_hex() -> None:
    command = mml.resynchronise(IMSI, RAND.lower(), AUTS.lower())
    assert command.text() == (f'MOD AUTHSQN:HLRSN=1,IMSI="{IMSI}",RAND="{RAND}",AUTS="{AUTS}";')


@pytest.mark.parametrize(
    ("imsi", "rand", "auts", "field"),
    [
        ("46000123456789", RAND, AUTS, "imsi"),
        ('460001234567890",X="', RAND, AUTS, "imsi"),
        (IMSI, RAND[:-2], AUTS, "rand"),
        (IMSI, RAND[:-1] + "G", AUTS, "rand"),
        (IMSI, RAND, AUTS + "00", "auts"),
        (IMSI, RAND, '0123456789ABCDEF01234567";X', "auts"),
    ],
)
def test_bad_values_are_refused_naming_the_field(
    imsi: str, rand: str, auts: str, field: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field}: expected"):
        mml.resynchronise(imsi, rand, auts)


def test_request_vector_refuses_a_bad_imsi() -> None:
    with pytest.raises(ValueError, match=r"^imsi: expected 15 digits"):
        mml.request_vector("4600012345678901")


def test_vector_from_a_reply() -> None:
    vector = mml.vector_from_fields(mml.parse_reply(REPLY).fields)
    assert vector == AuthVector(
        rand=RAND.lower(), autn=AUTN.lower(), xres=XRES.lower(), ck=CK.lower(), ik=IK.lower()
    )


@pytest.mark.parametrize("name", ["RAND", "XRES", "CK", "IK", "AUTN"])
def test_vector_missing_a_field_names_it(name: str) -> None:
    fields = mml.parse_reply(REPLY).fields
    del fields[name]
    with pytest.raises(ValueError, match=f"no {name} field"):
        mml.vector_from_fields(fields)


@pytest.mark.parametrize(
    ("name", "value", "size"),
    [
        ("CK", CK[:-2], "32"),
        ("IK", "Z" + IK[1:], "32"),
        ("XRES", XRES[:6], "8 to 32"),
        ("XRES", XRES + "0", "8 to 32"),
        ("AUTN", AUTN + "00", "32"),
    ],
)
def test_malformed_vector_field_is_named_but_not_shown(name: str, value: str, size: str) -> None:
    fields = {**mml.parse_reply(REPLY).fields, name: value}
    with pytest.raises(ValueError, match=f"field {name} is not {size} hexadecimal") as info:
        mml.vector_from_fields(fields)
    assert value not in str(info.value)


def test_xres_of_16_bytes_is_accepted() -> None:
    fields = {**mml.parse_reply(REPLY).fields, "XRES": CK}
    assert mml.vector_from_fields(fields).xres == CK.lower()


def test_mask_hides_xres_ck_ik_and_keeps_rand_autn() -> None:
    masked = mml.mask(REPLY)
    for secret in (XRES, CK, IK):
        assert secret not in masked
    assert "XRES  =  ****\nCK  =  ****\nIK  =  ****\n" in masked
    assert f"RAND  =  {RAND}" in masked and f"AUTN  =  {AUTN}" in masked
    assert mml.parse_reply(masked).fields["IMSI"] == IMSI


def test_mask_hides_whole_names_only() -> None:
    more = REPLY.replace(f"AUTN  =  {AUTN}", f"AUTN  =  {AUTN}\nLCK  =  TRUE\nCKSN  =  7")
    masked = mml.mask(more)
    assert "LCK  =  TRUE\nCKSN  =  7\n" in masked and CK not in masked
