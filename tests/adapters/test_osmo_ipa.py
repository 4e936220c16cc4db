"""IPA framing and the CCM identity exchange, byte for byte as seen on osmo-hlr's wire."""

from __future__ import annotations

import pytest

from adapters.osmo_hlr import ipa

H = bytes.fromhex


def test_ctrl_frame_as_observed_on_the_wire() -> None:
    # shared/reference/osmo-hlr.md §3: len counts the 0x00 extension and the text.
    frame = ipa.ctrl("GET 1 subscriber.by-imsi-901700000000001.info")
    assert frame[:5] == H("002eee0047")
    assert frame[4:] == b"GET 1 subscriber.by-imsi-901700000000001.info"
    assert int.from_bytes(frame[:2], "big") == len(frame) - 3


def test_gsup_frame_as_observed_on_the_wire() -> None:
    message = H("08010809710000000040f2280102520103")  # SAI_REQ, IMSI, CN=cs, 3 vectors
    assert ipa.gsup(message) == H("0012ee05") + message


def test_id_resp_is_the_minimal_one_osmo_hlr_accepts() -> None:
    expected = H("0015fe05") + H("000708") + b"0/0/0\0" + H("000900") + b"MINIMAL\0"
    assert ipa.id_resp({ipa.IdTag.UNIT: "0/0/0", ipa.IdTag.SERNR: "MINIMAL"}) == expected


def test_id_get_lists_the_requested_tags() -> None:
    id_get = H("0011fe0401080107010201030104010501010100")
    (frame,) = ipa.Decoder().feed(id_get)
    assert ipa.ccm_type(frame) == ipa.Ccm.ID_GET
    assert ipa.requested_tags(frame.payload[1:]) == [
        ipa.IdTag.UNIT,
        ipa.IdTag.MACADDR,
        ipa.IdTag.LOCATION1,
        ipa.IdTag.LOCATION2,
        ipa.IdTag.EQUIPVERS,
        ipa.IdTag.SWVERSION,
        ipa.IdTag.UNITNAME,
        ipa.IdTag.SERNR,
    ]


def test_decoder_reassembles_frames_split_anywhere() -> None:
    stream = ipa.ctrl("SET_REPLY 1 subscriber.create 2") + ipa.ccm(ipa.Ccm.PING)
    stream += ipa.ctrl("ERROR 2 No such subscriber.")
    for cut in range(len(stream) + 1):
        decoder = ipa.Decoder()
        frames = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:])
        assert [(f.proto, f.ext) for f in frames] == [
            (ipa.Proto.OSMO, ipa.Ext.CTRL),
            (ipa.Proto.CCM, None),
            (ipa.Proto.OSMO, ipa.Ext.CTRL),
        ], cut
        assert frames[0].payload == b"SET_REPLY 1 subscriber.create 2"
        assert ipa.ccm_type(frames[1]) == ipa.Ccm.PING
        assert ipa.ccm_type(frames[0]) is None


def test_an_osmocom_frame_without_its_extension_byte_is_a_framing_error() -> None:
    with pytest.raises(ipa.FramingError):
        ipa.Decoder().feed(H("0000ee"))


def test_malformed_id_get_is_refused() -> None:
    with pytest.raises(ipa.FramingError):
        ipa.requested_tags(H("0208"))
    with pytest.raises(ipa.FramingError):
        ipa.requested_tags(H("010801"))


def test_a_body_over_64_kib_cannot_be_framed() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        ipa.encode(ipa.Proto.OSMO, bytes(0x10000), ipa.Ext.CTRL)
