"""Shared fixtures: a valid profile, blank emulated cards, and the real PC/SC chain."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.usim.card import UsimCard
from simcard.profile import CardProfile
from simcard.transport import InProcessTransport

KI = "465b5ce8b199b49faa5f0a2ee238a6bc"  # TS 35.208 set 1
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
ADM1 = "12345678"

# pySim-prog's default profile for a sysmoISIM-SJA2, as the benchmark uses it.
PROFILE_FIELDS: dict[str, Any] = {
    "iccid": "8988211000000467343",
    "imsi": "001010000000102",
    "ki": KI,
    "opc": OPC,
    "spn": "Magic",
    "msisdn": "+77776336143",
    "smsc": "+8613800100500",
    "adm1": ADM1,
}


@pytest.fixture
def profile() -> CardProfile:
    return CardProfile.create(PROFILE_FIELDS)


def connected(card: UsimCard) -> InProcessTransport:
    transport = InProcessTransport(card)
    transport.connect()
    return transport
