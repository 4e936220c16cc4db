"""What SELECT and STATUS answer: the UICC FCP template and the classic GSM response.

FCP (ETSI TS 102 221 §11.1.1.3): tag 62 holding 82 file descriptor, 83 file id, 84 AID (ADF),
A5 proprietary (MF), 8A life cycle, 8B reference to the EF.ARR record with the access rule,
C6 PIN status (DFs), 80 file size (EFs) or 81 total size (DFs), 88 SFI (EFs).
GSM response (TS 51.011 §9.2.1): the fixed-position layout CLA A0 tools expect after 9Fxx.
"""

from __future__ import annotations

from emulators.usim.layout import (
    ADM1_REF,
    PIN1_REF,
    Access,
    Df,
    Ef,
    FileSystem,
    Node,
    arr_record_number,
)
from emulators.usim.state import PinCounter

_OPERATIONAL_ACTIVATED = 0x05
_UICC_CHARACTERISTICS = 0x71  # clock stop allowed, no preferred level; 3 V and 1.8 V


def tlv(tag: int, value: bytes) -> bytes:
    """BER-TLV with a one-tag-byte and short or 81-form length (FCPs never exceed 255)."""
    if len(value) < 0x80:
        return bytes([tag, len(value)]) + value
    return bytes([tag, 0x81, len(value)]) + value


def _total_size(df: Df) -> int:
    return sum(c.size if isinstance(c, Ef) else _total_size(c) for c in df.children)


def uicc_fcp(fs: FileSystem, node: Node, *, pin1_enabled: bool) -> bytes:
    arr = fs.arr_fid(node).to_bytes(2, "big")
    if isinstance(node, Ef):
        if node.record_len:
            descriptor = bytes([0x42, 0x21, 0x00, node.record_len, node.records])
        else:
            descriptor = bytes([0x41, 0x21])
        body = (
            tlv(0x82, descriptor)
            + tlv(0x83, node.fid.to_bytes(2, "big"))
            + tlv(0x8A, bytes([_OPERATIONAL_ACTIVATED]))
            + tlv(0x8B, arr + bytes([arr_record_number(node)]))
            + tlv(0x80, node.size.to_bytes(2, "big"))
            + tlv(0x88, bytes([node.sfi << 3]) if node.sfi is not None else b"")
        )
        return tlv(0x62, body)
    # PS_DO bitmap: one bit per key reference listed after it, MSB first (PIN1, ADM1).
    pin_status = tlv(0x90, bytes([(0x80 if pin1_enabled else 0) | 0x40]))
    pin_status += tlv(0x83, bytes([PIN1_REF])) + tlv(0x83, bytes([ADM1_REF]))
    body = tlv(0x82, bytes([0x78, 0x21])) + tlv(0x83, node.fid.to_bytes(2, "big"))
    if node.aid is not None:
        body += tlv(0x84, node.aid)
    if node is fs.mf:
        body += tlv(0xA5, tlv(0x80, bytes([_UICC_CHARACTERISTICS])))
    body += (
        tlv(0x8A, bytes([_OPERATIONAL_ACTIVATED]))
        + tlv(0x8B, arr + b"\x01")
        + tlv(0xC6, pin_status)
        + tlv(0x81, _total_size(node).to_bytes(2, "big"))
    )
    return tlv(0x62, body)


_GSM_ACCESS = {Access.ALWAYS: 0x0, Access.PIN1: 0x1, Access.ADM1: 0xA, Access.NEVER: 0xF}


def _chv_status(pin: PinCounter) -> int:
    """b8: secret code initialised; b1-b4: tries left."""
    return 0x80 | pin.tries


def gsm_response(fs: FileSystem, node: Node, *, pin1: PinCounter, puk1: PinCounter) -> bytes:
    """The TS 51.011 answer to SELECT (read with GET RESPONSE after `9Fxx`)."""
    fid = node.fid.to_bytes(2, "big")
    if isinstance(node, Ef):
        structure = 0x01 if node.record_len else 0x00
        access = bytes(
            [
                _GSM_ACCESS[node.read] << 4 | _GSM_ACCESS[node.update],
                0xF0,  # INCREASE never; RFU
                0xAA,  # REHABILITATE / INVALIDATE: ADM
            ]
        )
        return (
            b"\x00\x00"
            + node.size.to_bytes(2, "big")
            + fid
            + b"\x04\x00"
            + access
            + b"\x01\x02"
            + bytes([structure, node.record_len])
        )
    dfs = sum(isinstance(c, Df) for c in node.children)
    efs = len(node.children) - dfs
    characteristics = 0x01 | (0x00 if pin1.enabled else 0x80)  # clock stop; b8 = CHV1 disabled
    return (
        b"\x00\x00\x00\x00"
        + fid
        + (b"\x01" if node is fs.mf else b"\x02")
        + bytes(5)
        + b"\x09"  # length of the GSM-specific data that follows
        + bytes([characteristics, dfs, efs, 0x04, 0x00])
        + bytes([_chv_status(pin1), _chv_status(puk1), 0x00, 0x00])
    )
