"""Through the real chain: pyscard → private pcscd → vpcd → VpcdLink → UsimCard.

Few and quick on purpose: the card's behaviour is tested in-process; these prove the chain
carries it, and that insertion, removal and pcscd restarts look right to a PC/SC client.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from smartcard.CardConnection import CardConnection
from smartcard.Exceptions import CardConnectionException, NoCardException
from smartcard.System import readers

from emulators.usim.card import ATRS, UsimCard
from emulators.usim.pcscd import PrivatePcscd

pytestmark = pytest.mark.pcsc


def connect(pcsc: PrivatePcscd, slot: int = 0) -> CardConnection:
    reader = next(r for r in readers() if str(r) == pcsc.reader_name(slot))
    connection = reader.createConnection()
    connection.connect()
    return connection


def send(connection: CardConnection, apdu: str) -> tuple[bytes, int]:
    data, sw1, sw2 = connection.transmit(list(bytes.fromhex(apdu.replace(" ", ""))))
    return bytes(data), sw1 << 8 | sw2


@pytest.fixture
def connection(pcsc_chain: PrivatePcscd, pcsc_blank_card: UsimCard) -> Iterator[CardConnection]:
    conn = connect(pcsc_chain)
    yield conn
    conn.release()


def test_card_answers_through_pcscd(
    pcsc_chain: PrivatePcscd, pcsc_blank_card: UsimCard, connection: CardConnection
) -> None:
    assert bytes(connection.getATR()) == ATRS["provgw"]
    assert send(connection, "00 A4 00 04 02 2FE2")[1] == 0x9000
    assert send(connection, "00 B0 00 00 0A") == (b"\xff" * 10, 0x9000)
    assert send(connection, "00 20 00 0A 08 3132333435363738")[1] == 0x9000
    assert send(connection, "00 D6 00 00 0A 988812010000407643f3")[1] == 0x9000
    assert pcsc_chain.card(0) is pcsc_blank_card
    assert send(connection, "00 B0 00 00 0A")[0] == bytes.fromhex("988812010000407643f3")


def test_pulled_card_fails_the_connection_and_empties_the_reader(
    pcsc_chain: PrivatePcscd, connection: CardConnection
) -> None:
    assert send(connection, "00 A4 00 0C 02 3F00")[1] == 0x9000
    pcsc_chain.remove(0)  # returns once pcscd reports the slot empty
    with pytest.raises(CardConnectionException):
        send(connection, "00 A4 00 0C 02 3F00")
    with pytest.raises(NoCardException):
        connect(pcsc_chain)


def test_card_comes_back_after_pcscd_restarts(
    pcsc_chain: PrivatePcscd, pcsc_blank_card: UsimCard
) -> None:
    pcsc_chain.restart()
    pcsc_chain.wait_for_card(0, present=True, timeout=5)
    conn = connect(pcsc_chain)
    try:
        assert send(conn, "00 A4 04 0C 07 A0000000871002")[1] == 0x9000
    finally:
        conn.release()


def test_cli_puts_two_cards_into_two_slots(
    pcsc_chain: PrivatePcscd, pcsc_blank_card: UsimCard
) -> None:
    pcsc_chain.remove(0)
    cli = subprocess.Popen(
        [sys.executable, "-c", "from gateway.cli import main; main()", "emulate", "card",
         "--model", "sja2", "--slot", "0", "--slot", "1", "--port", str(pcsc_chain.base_port)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        for slot in (0, 1):
            pcsc_chain.wait_for_card(slot, present=True, timeout=5)
            conn = connect(pcsc_chain, slot)
            assert bytes(conn.getATR()) == ATRS["sja2"]
            conn.release()
    finally:
        cli.send_signal(signal.SIGINT)
        out, _ = cli.communicate(timeout=10)
    assert cli.returncode == 0
    assert f"slot 1: sja2 card (in memory) joins vpcd at 127.0.0.1:{pcsc_chain.port(1)}" in out
    assert "cards removed" in out
    pcsc_chain.wait_for_card(1, present=False, timeout=5)
