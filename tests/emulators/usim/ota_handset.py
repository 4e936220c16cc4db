"""What a handset does with OTA messages, for the tests: each SMS-DELIVER to the card as an
ENVELOPE through `simcard.toolkit`, the PoR taken from the RP-ACK data or from the SEND SHORT
MESSAGE commands the card issues (reassembled when concatenated)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from simcard.ota import OtaOutcome, OtaRequest, read_por
from simcard.sms_pp import Reassembler, SmsSubmit
from simcard.toolkit import Outcome, Toolkit

SERVER = "+8613800138000"  # the OTA server's number: the card sends its PoR there
WHEN = dt.datetime(2026, 5, 1, 10, 0, tzinfo=dt.UTC)


@dataclass
class Delivery:
    """Every ENVELOPE outcome of one request, and the PoR user data they yielded."""

    outcomes: list[Outcome] = field(default_factory=list)
    por: bytes | None = None
    submits: list[SmsSubmit] = field(default_factory=list)


def deliver(toolkit: Toolkit, request: OtaRequest, tpdus: list[bytes] | None = None) -> Delivery:
    delivery = Delivery()
    joiner = Reassembler()
    for tpdu in tpdus if tpdus is not None else request.deliver_tpdus(SERVER, WHEN):
        outcome = toolkit.download_sms(tpdu)
        delivery.outcomes.append(outcome)
        if outcome.acknowledgement:
            delivery.por = outcome.acknowledgement
        for sms in outcome.messages:
            delivery.submits.append(sms)
            whole = joiner.add(sms.user_data, sms.destination)
            if whole is not None:
                delivery.por = whole.single_message_form()
    return delivery


def run(toolkit: Toolkit, request: OtaRequest) -> OtaOutcome:
    delivery = deliver(toolkit, request)
    assert delivery.por is not None, "the card sent no PoR"
    return read_por(request, delivery.por)
