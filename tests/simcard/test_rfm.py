"""RFM scripts and answers (ETSI TS 102 226), compact and expanded.

Golden vectors marked [pySim] are from osmocom/pysim tests/unittests/test_ota.py (expanded
format; the indefinite-length ones "captured from live eUICC over SCP81"); [SJA5] is the
compact answer sysmoISIM-SJA5 cards gave to SELECT MF in the same file.
"""

from __future__ import annotations

import pytest

from simcard import rfm
from simcard.rfm import Format, RApdu, RfmError, RfmResult, read_result, read_script, script

H = bytes.fromhex


def test_expanded_scripts_as_pysim_builds_them() -> None:  # [pySim]
    assert script([H("80f24002024f0000")], Format.EXPANDED).hex() == "aa0a220880f24002024f0000"
    two = script([H("80f24002024f0000"), H("00a40004023f0000")], Format.EXPANDED)
    assert two.hex() == "aa14220880f24002024f0000220800a40004023f0000"
    capdu = H("80f24000") + bytes([195]) + bytes(range(195))
    long = script([capdu], Format.EXPANDED)
    assert long[:6].hex() == "aa81cb2281c8" and long[6:] == capdu


def test_indefinite_expanded_scripts() -> None:  # [pySim]
    get_data = script([H("80ca00e000")], Format.EXPANDED, indefinite=True)
    assert get_data.hex() == "ae80220580ca00e0000000"
    rfm_read = [H("00a4000c023f00"), H("00a4000c022fe2"), H("00b000000a")]
    out = script(rfm_read, Format.EXPANDED, indefinite=True)
    assert out.hex() == "ae80220700a4000c023f00220700a4000c022fe2220500b000000a0000"
    parsed = read_script(out)
    assert parsed.apdus == tuple(rfm_read) and parsed.indefinite


def test_compact_scripts_split_by_what_p3_means() -> None:
    commands = [
        rfm.select(0x3F00),
        rfm.select(0x2FE2),
        rfm.read_binary(10),  # P3 is Le: no data follows
        rfm.update_binary(H("0102")),
        rfm.read_record(1, 34),
        rfm.update_record(2, bytes(34)),
    ]
    assert read_script(script(commands)).apdus == tuple(commands)
    assert rfm.select(0x6F61).hex() == "00a4000c026f61"
    assert rfm.read_binary(10, offset=0x123).hex() == "00b001230a"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (H("00b000"), 3),  # header cut short
        (H("00d600000401"), 2),  # announces 4 bytes, 1 follows
        (H("aa0490020000"), 1),  # a tag other than C-APDU in the template
        (H("aa0522"), 2),  # length overruns
    ],
)
def test_broken_scripts_name_the_bad_format_reason(data: bytes, reason: int) -> None:
    with pytest.raises(RfmError) as err:
        read_script(data)
    assert err.value.bad_format == reason


def test_compact_answers() -> None:
    assert read_result(H("016132"), Format.COMPACT) == RfmResult(1, (RApdu(b"", 0x6132),))  # [SJA5]
    read = read_result(H("039000") + b"\x01\x02", Format.COMPACT)
    assert read.executed == 3 and read.last == RApdu(b"\x01\x02", 0x9000)
    assert read.completed(3) and not read.completed(4)
    failed = read_result(H("026982"), Format.COMPACT)
    assert not failed.completed(2)  # executed both, the last was refused
    with pytest.raises(RfmError):
        read_result(H("01"), Format.COMPACT)


def test_expanded_answers() -> None:  # [pySim]
    assert read_result(H("ab0780010123026132"), Format.EXPANDED).last == RApdu(b"", 0x6132)
    registry = bytes(range(198))
    answer = read_result(H("ab81ce8001012381c8") + registry + H("9000"), Format.EXPANDED)
    assert answer.executed == 1 and answer.last == RApdu(registry, 0x9000)
    indefinite = H("af802302900023029000230c9888120100004086081490000000")
    eicc = read_result(indefinite, Format.EXPANDED)
    assert eicc.executed == 3 and eicc.last == RApdu(H("98881201000040860814"), 0x9000)
    assert read_result(H("ab06800101900101"), Format.EXPANDED).problem == "bad format: unknown tag"
    assert "immediate action" in read_result(H("ab06800101810101"), Format.EXPANDED).problem
    assert "chaining" in read_result(H("ab06800101830102"), Format.EXPANDED).problem
    with pytest.raises(RfmError):
        read_result(H("af8023029000"), Format.EXPANDED)  # no end-of-contents


def test_card_side_answers_read_back() -> None:
    responses = [RApdu(b"", 0x9000), RApdu(H("0011"), 0x9000)]
    for indefinite in (False, True):
        data = rfm.expanded_response(responses, indefinite=indefinite)
        assert read_result(data, Format.EXPANDED) == RfmResult(2, tuple(responses))
    assert rfm.expanded_response([RApdu(b"", 0x6132)]).hex() == "ab0780010123026132"  # [pySim]
    bad = rfm.expanded_response([], problem=(rfm.BAD_FORMAT, b"\x01"))
    assert read_result(bad, Format.EXPANDED).problem == "bad format: unknown tag"
    assert rfm.compact_response(1, RApdu(b"", 0x6132)).hex() == "016132"
