"""Every EF codec against its own vectors (worked examples from TS 31.102 / pySim), both ways."""

from __future__ import annotations

from typing import Any

import pytest

from simcard.codec import Codec, CodecError
from simcard.files import DirRecord, Structure, parse_fcp
from simcard.identities import Iccid, Imsi, Msisdn, Smsp
from simcard.plmn import Ad, AdminData, Plmn, PlmnAct, PlmnActList, PlmnList, PlmnTriplet
from simcard.tables import Acc, Sst, Ust
from simcard.text import ServiceProviderName, Spn, decode_alpha

CODECS: list[Codec[Any]] = [
    Iccid(), Imsi(), Msisdn(), Smsp(), PlmnTriplet(), PlmnList(), PlmnActList(), Ad(),
    Spn(), Ust(), Sst(), Acc(), DirRecord(),
]  # fmt: skip

CASES = [
    pytest.param(codec, hexdata, value, id=f"{type(codec).__name__}-{i}")
    for codec in CODECS
    for i, (hexdata, value) in enumerate(type(codec).vectors)
]


def test_every_codec_carries_vectors() -> None:
    subclasses = _all_subclasses(Codec)
    assert subclasses == {type(c) for c in CODECS}
    assert all(type(c).vectors for c in CODECS)


def _all_subclasses(cls: type) -> set[type]:
    out: set[type] = set()
    subs: list[type] = cls.__subclasses__()
    for sub in subs:
        out |= {sub} | _all_subclasses(sub)
    return out


@pytest.mark.parametrize(("codec", "hexdata", "value"), CASES)
def test_vector_encodes_and_decodes(codec: Codec[Any], hexdata: str, value: Any) -> None:
    data = bytes.fromhex(hexdata)
    assert codec.decode(data) == value
    assert codec.encode(value, len(data)).hex() == data.hex()


@pytest.mark.parametrize(
    ("hexdata", "text"),
    [
        ("81029cad41", "中A"),  # pySim writes the compact UCS-2 form when it fits
        ("820200e08281ffff", "\u00e2\u00e1"),
        ("804e2d56fdffff", "中国"),
    ],
)
def test_pysim_ucs2_forms_decode(hexdata: str, text: str) -> None:
    assert decode_alpha(bytes.fromhex(hexdata)) == text


def test_worked_examples_from_the_reference() -> None:
    assert Iccid().encode("8988211000000467343").hex() == "988812010000407643f3"
    assert Imsi().encode("001010000000102").hex() == "080910100000001020"
    assert Msisdn().encode("+77776336143", 14).hex() == "07917777366341f3ffffffffffff"
    assert PlmnTriplet().encode(Plmn("460", "00")).hex() == "64f000"
    assert PlmnTriplet().encode(Plmn("310", "410")).hex() == "130014"
    assert Acc().encode(frozenset({2})).hex() == "0004"


@pytest.mark.parametrize(
    ("codec", "value", "size", "field", "words"),
    [
        (Iccid(), "89882110000004673x", None, "EF.ICCID", "digits"),
        (Imsi(), "0010100000001023", None, "EF.IMSI", "6-15 digits"),
        (Spn(), ServiceProviderName("A very long operator name"), None, "EF.SPN", "16"),
        (Spn(), ServiceProviderName("中国移动通信集团公司"), None, "EF.SPN", "Chinese"),
        (PlmnList("EF.EHPLMN"), (Plmn("460", "00"),) * 5, 12, "EF.EHPLMN", "do not fit"),
        (PlmnActList("EF.OPLMNwAcT"), (PlmnAct(Plmn("460", "00")),) * 3, 10, "EF.OPLMNwAcT", "fit"),
        (Ad(), AdminData(4), None, "EF.AD", "2 or 3"),
        (Acc(), frozenset({16}), None, "EF.ACC", "0 to 15"),
        (Ust(), frozenset({200}), 20, "EF.UST", "does not fit"),
        (Msisdn(), "+1" + "2" * 21, 34, "EF.MSISDN", "digits"),
    ],
)
def test_bad_values_name_the_field(
    codec: Codec[Any], value: Any, size: int | None, field: str, words: str
) -> None:
    with pytest.raises(CodecError) as info:
        codec.encode(value, size)
    assert info.value.field == field
    assert str(info.value).startswith(field)
    assert words in str(info.value)


def test_padding_fills_the_file() -> None:
    assert PlmnList().encode((Plmn("001", "01"),), 12).hex() == "00f110" + "ff" * 9
    assert Ust().encode(frozenset({1}), 4).hex() == "01000000"
    assert Msisdn().encode("+77776336143", 34)[:20] == b"\xff" * 20


def test_imsi_with_inconsistent_length_is_refused() -> None:
    with pytest.raises(CodecError, match=r"EF\.IMSI"):
        Imsi().decode(bytes.fromhex("080110100000001020"))  # even parity, 15 digits


def test_fcp_gives_sizes_and_record_lengths() -> None:
    ef = parse_fcp(bytes.fromhex("62178202412183026f078a01058b036f060180020009880138"))
    assert (ef.structure, ef.size, ef.fid) == (Structure.TRANSPARENT, 9, 0x6F07)
    records = parse_fcp(bytes.fromhex("621a8205422100220283026f408a01058b036f060180020044880100"))
    assert (records.structure, records.record_length, records.record_count) == (
        Structure.LINEAR_FIXED,
        34,
        2,
    )
    assert records.size == 68
    adf = parse_fcp(bytes.fromhex("6219820278218410a0000000871002ff86ff0389ffffffff8a0105"))
    assert adf.structure is Structure.DF and adf.aid == bytes.fromhex(
        "a0000000871002ff86ff0389ffffffff"
    )
    with pytest.raises(ValueError, match="not an FCP"):
        parse_fcp(bytes.fromhex("6f07"))
