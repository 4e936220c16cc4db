"""Transports: T=0 chores (61xx, 6Cxx, 9Fxx) and counting; reader choice by name."""

from __future__ import annotations

import pytest

from simcard.errors import ReaderError
from simcard.transport import InProcessTransport, resolve_reader


class ScriptedCard:
    """A test double that answers from a script and records what it was sent."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = [bytes.fromhex(a) for a in answers]
        self.sent: list[bytes] = []

    def power_on(self) -> bytes:
        return bytes.fromhex("3b00")

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        return self.answers.pop(0)


def test_61xx_fetches_the_response_and_counts_it() -> None:
    card = ScriptedCard(["6112", "62108202412183026f07800200098a0105" + "9000"])
    t = InProcessTransport(card)
    t.connect()
    data, sw = t.transmit(bytes.fromhex("00a4000402" + "6f07"))
    assert sw == 0x9000 and data[:2] == b"\x62\x10"
    assert card.sent[1] == bytes.fromhex("00c0000012")
    assert t.apdu_count == 2


def test_6cxx_repeats_with_the_right_le() -> None:
    card = ScriptedCard(["6c09", "080910100000001020" + "9000"])
    t = InProcessTransport(card)
    data, sw = t.transmit(bytes.fromhex("00b0000000"))
    assert (data.hex(), sw) == ("080910100000001020", 0x9000)
    assert card.sent[1] == bytes.fromhex("00b0000009")
    assert t.apdu_count == 2


def test_gsm_class_9fxx_uses_get_response_in_class_a0() -> None:
    card = ScriptedCard(["9f0f", "00" * 15 + "9000"])
    t = InProcessTransport(card)
    data, sw = t.transmit(bytes.fromhex("a0a40000027f20"))
    assert sw == 0x9000 and len(data) == 15
    assert card.sent[1] == bytes.fromhex("a0c000000f")


def test_case_3_apdu_gets_le_appended_on_6cxx() -> None:
    card = ScriptedCard(["6c04", "01020304" + "9000"])
    t = InProcessTransport(card)
    t.transmit(bytes.fromhex("00880080111000112233445566778899aabbccddeeff00"[:-2]))
    assert card.sent[1][-1] == 0x04 and len(card.sent[1]) == len(card.sent[0]) + 1


READERS = ["Virtual PCD 00 00", "Virtual PCD 00 01", "ACS ACR39U ICC Reader 00 00"]


def test_reader_by_exact_name_or_unique_part() -> None:
    assert resolve_reader("Virtual PCD 00 01", READERS) == "Virtual PCD 00 01"
    assert resolve_reader("acr39", READERS) == "ACS ACR39U ICC Reader 00 00"
    assert resolve_reader(None, READERS[:1]) == READERS[0]


@pytest.mark.parametrize(
    ("wanted", "readers", "words"),
    [
        ("Virtual", READERS, "matches several readers"),
        ("omnikey", READERS, "no reader matches"),
        (None, READERS, "several readers, choose one"),
        (None, [], "no PC/SC reader found"),
    ],
)
def test_reader_choice_errors(wanted: str | None, readers: list[str], words: str) -> None:
    with pytest.raises(ReaderError, match=words):
        resolve_reader(wanted, readers)
