"""Fixtures of the USIM emulator tests: a blank in-memory card and a terminal for it."""

from __future__ import annotations

import pytest

from emulators.usim.card import UsimCard
from tests.emulators.usim.usim_terminal import Terminal


@pytest.fixture
def card() -> UsimCard:
    return UsimCard.blank()


@pytest.fixture
def term(card: UsimCard) -> Terminal:
    return Terminal(card)
