"""GSM 7-bit / UCS-2 encoding and splitting into concatenated parts (adapters.smpp.sms_text)."""

from __future__ import annotations

import pytest

from adapters.smpp.sms_text import UDHI, DataCoding, encode, gsm_chunks

# 3GPP TS 23.038 code points, read off the standard's tables.
GSM_VECTORS = [
    ("@", b"\x00"),
    ("£$¥", b"\x01\x02\x03"),
    ("Δ_Ω", b"\x10\x11\x15"),
    ("¤", b"\x24"),
    ("¡§¿à", b"\x40\x5f\x60\x7f"),
    ("ÄÖÑÜ", b"\x5b\x5c\x5d\x5e"),
    ("Hello", b"Hello"),
    ("\n\r", b"\x0a\x0d"),
]
# The extension table: ESC (0x1B) + code, two septets each.
EXTENSION_VECTORS = [
    ("€", b"\x1b\x65"),
    ("[", b"\x1b\x3c"),
    ("]", b"\x1b\x3e"),
    ("{", b"\x1b\x28"),
    ("}", b"\x1b\x29"),
    ("^", b"\x1b\x14"),
    ("~", b"\x1b\x3d"),
    ("\\", b"\x1b\x2f"),
    ("|", b"\x1b\x40"),
    ("\f", b"\x1b\x0a"),
]


@pytest.mark.parametrize(("text", "expected"), GSM_VECTORS + EXTENSION_VECTORS)
def test_gsm_code_points(text: str, expected: bytes) -> None:
    sms = encode(text, reference=0)
    assert sms.data_coding is DataCoding.GSM7
    assert sms.parts == (expected,)
    assert sms.esm_class == 0


def test_characters_outside_gsm_make_the_whole_text_ucs2() -> None:
    assert gsm_chunks("`") is None  # the grave accent is not in GSM 03.38
    sms = encode("price 5€ `ok`", reference=0)
    assert sms.data_coding is DataCoding.UCS2
    assert sms.parts == ("price 5€ `ok`".encode("utf-16-be"),)


def test_chinese_is_ucs2_big_endian() -> None:
    sms = encode("你好", reference=0)
    assert sms.data_coding is DataCoding.UCS2
    assert sms.parts == (bytes.fromhex("4f60597d"),)


@pytest.mark.parametrize(
    ("length", "parts"), [(160, 1), (161, 2), (306, 2), (307, 3), (153 * 10, 10)]
)
def test_gsm_boundaries_160_and_153(length: int, parts: int) -> None:
    sms = encode("a" * length, reference=7)
    assert sms.segments == parts
    if parts > 1:
        assert [len(p) - 6 for p in sms.parts[:-1]] == [153] * (parts - 1)


@pytest.mark.parametrize(("euros", "parts"), [(80, 1), (81, 2), (152, 2), (153, 3)])
def test_extension_characters_count_as_two(euros: int, parts: int) -> None:
    # 80 × € = 160 septets (one SMS); beyond, a part holds 76 (152 of its 153 septets).
    assert encode("€" * euros, reference=0).segments == parts


def test_an_escape_pair_is_never_split_across_parts() -> None:
    sms = encode("a" * 152 + "€" + "b" * 10, reference=1)
    first, second = (part[6:] for part in sms.parts)
    assert first == b"a" * 152  # the € (2 septets) would not fit the 153rd position
    assert second == b"\x1b\x65" + b"b" * 10


@pytest.mark.parametrize(("length", "parts"), [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3)])
def test_ucs2_boundaries_70_and_67(length: int, parts: int) -> None:
    sms = encode("中" * length, reference=0)
    assert sms.data_coding is DataCoding.UCS2
    assert sms.segments == parts
    if parts > 1:
        assert [len(p) - 6 for p in sms.parts[:-1]] == [134] * (parts - 1)


def test_a_surrogate_pair_is_never_split_across_parts() -> None:
    # 66 + 2 + 5 = 73 code units: two parts; the emoji's pair would straddle units 67-68.
    sms = encode("中" * 66 + "😀" + "文" * 5, reference=0)
    first, second = (part[6:] for part in sms.parts)
    assert first.decode("utf-16-be") == "中" * 66
    assert second.decode("utf-16-be") == "😀" + "文" * 5


def test_concatenation_header_bytes() -> None:
    sms = encode("x" * 200, reference=0xAB)
    assert sms.esm_class == UDHI == 0x40
    assert [part[:6] for part in sms.parts] == [
        bytes.fromhex("050003ab0201"),
        bytes.fromhex("050003ab0202"),
    ]
    assert b"".join(part[6:] for part in sms.parts) == b"x" * 200


@pytest.mark.parametrize(
    ("text", "kwargs", "field"),
    [
        ("", {}, "text"),
        ("a" * 400, {"max_parts": 2}, "text"),
        ("a", {"reference": 256}, "reference"),
    ],
)
def test_bad_input_names_the_field(text: str, kwargs: dict[str, int], field: str) -> None:
    args = {"reference": 0, **kwargs}
    with pytest.raises(ValueError, match=f"^{field}:"):
        encode(text, **args)
