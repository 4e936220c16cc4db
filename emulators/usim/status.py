"""Status words the emulated card refuses commands with.

The same refusal reads differently depending on the command class: a UICC command (CLA 00/80,
ETSI TS 102 221) gets `6A82`, the classic GSM command (CLA A0, TS 51.011) gets `9404` for the
same missing file. Handlers raise one `CardError` carrying both, and the dispatcher picks the
word for the class the command came in with, so no handler needs to know which dialect it
serves.
"""

from __future__ import annotations

from enum import Enum


class CardError(Exception):
    """A command refused: `uicc` is the SW for CLA 00/80, `gsm` the SW for CLA A0."""

    def __init__(self, uicc: int, gsm: int) -> None:
        super().__init__(f"SW {uicc:04X} / GSM {gsm:04X}")
        self.uicc = uicc
        self.gsm = gsm


class Sw(Enum):
    """The fixed refusals as (TS 102 221 status word, TS 51.011 status word)."""

    FILE_NOT_FOUND = (0x6A82, 0x9404)
    RECORD_NOT_FOUND = (0x6A83, 0x9402)
    OFFSET_OUTSIDE_FILE = (0x6B00, 0x9402)
    WRONG_LENGTH = (0x6700, 0x6700)
    WRONG_P1_P2 = (0x6A86, 0x6B00)
    WRONG_DATA = (0x6A80, 0x6B00)
    SECURITY_NOT_SATISFIED = (0x6982, 0x9804)
    PIN_BLOCKED = (0x6983, 0x9840)
    INCOMPATIBLE_FILE = (0x6981, 0x9408)
    NO_EF_SELECTED = (0x6986, 0x9400)
    CONDITIONS_NOT_SATISFIED = (0x6985, 0x9808)
    REFERENCE_NOT_FOUND = (0x6A88, 0x9802)
    CHANNEL_NOT_SUPPORTED = (0x6881, 0x6E00)
    INS_NOT_SUPPORTED = (0x6D00, 0x6D00)
    CLA_NOT_SUPPORTED = (0x6E00, 0x6E00)
    AUTH_MAC_FAILURE = (0x9862, 0x9862)

    def error(self) -> CardError:
        uicc, gsm = self.value
        return CardError(uicc, gsm)


def wrong_le(available: int) -> CardError:
    """Le does not fit: `6Cxx` (T=0 "repeat with Le=xx") / GSM `67xx`."""
    return CardError(0x6C00 | (available & 0xFF), 0x6700 | (available & 0xFF))


def pin_rejected(tries_left: int) -> CardError:
    """A wrong PIN/ADM/PUK: `63Cx` with the tries left / GSM `9804`."""
    return CardError(0x63C0 | tries_left, 0x9804)
