"""Remote file management over the air, as the sender does it: from RFM commands to the short
messages that carry them, and from the messages that come back to a verified PoR.

    card = OtaCard("8988211000000467343", KeySet.aes(1, kic, kid))
    request = prepare(card, [*rfm.select_path(0x6F61), rfm.update_binary(oplmn)], counters,
                      reference=7)
    request.messages          # TP-UD of each SMS (PID 7F, DCS F6, UDHI): hand them to SMPP
    ...                       # the PoR comes back in one or more SMS (or an RP-ACK)
    outcome = read_por(request, Reassembler().add(user_data).single_message_form())
    outcome.done              # PoR OK, authenticated, every command executed

The counter is reserved (and persisted) by `prepare`, before anything is sent: a request that
is lost or refused has used its counter all the same. A PoR is only believed when it verifies
with the card's keys and answers this very request (TAR and counter).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from simcard.ota_counters import Counters
from simcard.ota_keys import KeySet
from simcard.rfm import TAR_USIM_RFM, Format, RfmResult, read_result, script
from simcard.secured_packet import (
    CounterMode,
    Integrity,
    Por,
    PorMode,
    Spi,
    unwrap_response,
    wrap_command,
)
from simcard.sms_pp import IEI_COMMAND_PACKET, SmsDeliver, segment, timestamp

DEFAULT_SPI = Spi(
    integrity=Integrity.CC,
    ciphered=True,
    counter=CounterMode.HIGHER,
    por=PorMode.ALWAYS,
    por_integrity=Integrity.CC,
    por_ciphered=True,
    por_by_submit=True,
)
"""Signed, ciphered, counted; PoR always, signed and ciphered, sent by the card as an SMS-SUBMIT
(an RP-ACK's user data rarely makes it back through an SMSC's SMPP interface)."""


class PorMismatchError(ValueError):
    """A PoR that verifies but answers another request (other TAR or counter)."""


@dataclass(frozen=True)
class OtaCard:
    """Where and how to reach one card's RFM application: its ICCID, key set, TAR, SPI."""

    iccid: str
    keys: KeySet
    tar: bytes = TAR_USIM_RFM
    spi: Spi = DEFAULT_SPI
    fmt: Format = Format.COMPACT


@dataclass(frozen=True)
class OtaRequest:
    """One secured command packet, ready to send: its counter and the messages carrying it."""

    card: OtaCard
    counter: int
    commands: tuple[bytes, ...]
    messages: tuple[bytes, ...]

    def deliver_tpdus(self, originator: str, when: dt.datetime) -> list[bytes]:
        """The SMS-DELIVER TPDUs an SMSC delivers for these messages (to a handset)."""
        return [
            SmsDeliver(
                originator, ud, scts=timestamp(when), more_messages=i + 1 < len(self.messages)
            ).encode()
            for i, ud in enumerate(self.messages)
        ]


def prepare(
    card: OtaCard, commands: Sequence[bytes], counters: Counters, *, reference: int
) -> OtaRequest:
    """Reserve the next counter, secure the RFM script, split it into messages.

    `reference` numbers the concatenated messages when the packet needs more than one.
    """
    data = script(list(commands), card.fmt)
    counted = card.spi.counter is not CounterMode.NONE
    counter = counters.reserve(card.iccid, card.keys.version) if counted else 0
    packet = wrap_command(card.keys, card.spi, card.tar, counter, data)
    return OtaRequest(
        card, counter, tuple(commands), tuple(segment(packet, IEI_COMMAND_PACKET, reference))
    )


@dataclass(frozen=True)
class OtaOutcome:
    """The PoR and, when the card ran the script, what each command answered."""

    por: Por
    rfm: RfmResult | None
    commands: int

    @property
    def done(self) -> bool:
        """Proven: PoR OK and authenticated, and every command executed successfully."""
        return (
            self.por.ok
            and self.por.authenticated
            and self.rfm is not None
            and self.rfm.completed(self.commands)
        )

    def describe(self) -> str:
        if not self.por.ok:
            trust = "" if self.por.authenticated else " (unauthenticated PoR)"
            return f"card refused the packet: {self.por.status.meaning}{trust}"
        if self.rfm is None:
            return "PoR OK without RFM results"
        last = self.rfm.last
        sw = f"{last.sw:04X}" if last else "none"
        ran = f"{self.rfm.executed} of {self.commands} commands executed, last status word {sw}"
        return f"{ran}; {self.rfm.problem}" if self.rfm.problem else ran


def read_por(request: OtaRequest, user_data: bytes) -> OtaOutcome:
    """Verify and read the PoR for `request` (user data from `02 71 00` on, reassembled).

    Raises SecuredPacketError when it does not verify, PorMismatchError when it answers
    another request.
    """
    card = request.card
    por = unwrap_response(user_data, card.keys, card.spi)
    # A card that could not decipher the packet cannot echo its counter: only the TAR of an
    # unauthenticated error PoR can be matched.
    if por.tar != card.tar or (por.authenticated and por.counter != request.counter):
        raise PorMismatchError(
            f"PoR for TAR {por.tar.hex()} counter {por.counter}, expected TAR {card.tar.hex()} "
            f"counter {request.counter}"
        )
    rfm = read_result(por.data, card.fmt) if por.ok and por.data else None
    return OtaOutcome(por, rfm, len(request.commands))
