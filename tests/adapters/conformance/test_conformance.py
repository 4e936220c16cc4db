"""What every dialect promises the engine, checked against each dialect's real peer.

The promises are those of `adapters.network_element.NetworkElement` and `Reply.unreachable`:
renders hide secrets; what `execute` reports done reads back as done; refusals are permanent
and a busy NE transient, neither of them an outage; `check` refuses exactly what `render`
refuses; a peer dying mid-command gives UNKNOWN (or TRANSIENT when nothing went out) marked as
an outage, and reads fail while it is down; `probe` tells up from down. The dialects and their
peers are in conftest.py.
"""

from __future__ import annotations

import logging
from typing import get_args

import pytest

from adapters.network_element import NotSupported
from gateway.operations import (
    AddApn,
    AddCug,
    ApnProfile,
    BarIncoming,
    BarOutgoing,
    BarRoaming,
    ChangeMsisdn,
    ChangeTemplate,
    CreateSubscriber,
    Cug,
    EraseForwarding,
    ForwardingKind,
    LoadAuth,
    Lock,
    MenuEntry,
    NetworkAccess,
    NetworkOperation,
    Operation,
    OtaRead,
    OtaUpdate,
    Outcome,
    PlmnEntry,
    RegisterForwarding,
    RemoveApn,
    RemoveAuth,
    RemoveCug,
    RemoveSubscriber,
    RoamingListFile,
    SendSms,
    SetData,
    SetImsSubscription,
    SetIncomingBarring,
    SetLock,
    SetNetworkAccess,
    SetOutgoingBarring,
    SetPushToTalk,
    SetRoamingBarring,
    SetSmsBarring,
    SetSmsService,
    SetVolte,
    SmsCentreFile,
    SpnFile,
    StkMenuFile,
    SwapImsi,
)
from tests.adapters.conformance.conftest import (
    IMSI,
    KI,
    MSISDN,
    OPC,
    OTA_CARD,
    OTA_KIC,
    OTA_KID,
    Harness,
)

IMSI2 = "001010000012346"
MSISDN2 = "8613800000002"
FTN = "8613900000009"
INTERNET = ApnProfile(
    context_id=1, apn="cmnet", qci=9, ambr_ul_bps=50_000_000, ambr_dl_bps=100_000_000
)
IMS = ApnProfile(context_id=2, apn="ims", qci=5, ambr_ul_bps=256_000, ambr_dl_bps=256_000)
GROUP_CUG = Cug(index=10, interlock="0460A001")

STK_MENU = StkMenuFile(
    title="中国移动", items=(MenuEntry(id=1, label="话费查询", destination="10086", text="CXHF"),)
)

LIFECYCLE: list[Operation] = [
    LoadAuth(imsi=IMSI, ki=KI, opc=OPC),
    CreateSubscriber(imsi=IMSI, msisdn=MSISDN, template_id=1),
    SetData(msisdn=MSISDN, enabled=True),
    ChangeTemplate(msisdn=MSISDN, template_id=2),
    SetSmsService(msisdn=MSISDN, mo=False, mt=False),
    SetSmsService(msisdn=MSISDN, mo=True, mt=True),
    AddApn(msisdn=MSISDN, profile=INTERNET),
    AddApn(msisdn=MSISDN, profile=IMS),
    SetImsSubscription(msisdn=MSISDN, enabled=True),
    SetVolte(msisdn=MSISDN, enabled=True),
    SetVolte(msisdn=MSISDN, enabled=False),
    SetImsSubscription(msisdn=MSISDN, enabled=False),
    RemoveApn(msisdn=MSISDN, context_id=2),
    AddCug(msisdn=MSISDN, cug=GROUP_CUG),
    SetPushToTalk(msisdn=MSISDN, group="G-1"),
    SetPushToTalk(msisdn=MSISDN, group=None),
    RemoveCug(msisdn=MSISDN, index=GROUP_CUG.index),
    SetLock(msisdn=MSISDN, lock=Lock(incoming=True, outgoing=True)),
    SetLock(msisdn=MSISDN, lock=Lock()),
    SetIncomingBarring(msisdn=MSISDN, barring=BarIncoming.WHEN_ROAMING),
    SetOutgoingBarring(msisdn=MSISDN, barring=BarOutgoing.INTERNATIONAL),
    SetRoamingBarring(msisdn=MSISDN, barring=BarRoaming.OUTSIDE_HOME_COUNTRY),
    RegisterForwarding(msisdn=MSISDN, kind=ForwardingKind.BUSY, forward_to=FTN),
    EraseForwarding(msisdn=MSISDN, kind=ForwardingKind.BUSY),
    SetNetworkAccess(msisdn=MSISDN, mode=NetworkAccess.CS_ONLY),
    SetSmsBarring(msisdn=MSISDN, barred=True),
    SetSmsBarring(msisdn=MSISDN, barred=False),
    ChangeMsisdn(msisdn=MSISDN, new_msisdn=MSISDN2),
    RemoveSubscriber(imsi=IMSI),
    RemoveAuth(imsi=IMSI),
    OtaUpdate(card=OTA_CARD, files=(RoamingListFile(networks=(PlmnEntry(mcc="460", mnc="01"),)),)),
    OtaUpdate(
        card=OTA_CARD,
        files=(SpnFile(name="中国移动"), SmsCentreFile(address="8613800100500")),
    ),
]
"""A subscriber's life, in an order every HLR accepts, and the card's over the air; each
dialect runs what it supports."""

CATALOGUE: list[Operation] = [
    *LIFECYCLE,
    LoadAuth(imsi=IMSI, ki=KI),  # Milenage without an OPc
    LoadAuth(imsi=IMSI, ki=KI, algorithm="comp128v1"),
    LoadAuth(imsi=IMSI, ki=KI, opc=OPC, algorithm="comp128v3"),  # an OPc for a 2G card
    LoadAuth(imsi=IMSI, ki=KI, opc=OPC, k4sno=3),  # Ki encrypted under a transport key
    SetLock(msisdn=MSISDN, lock=Lock(incoming=True)),
    SetLock(msisdn=MSISDN, lock=Lock(data=True)),
    SetData(msisdn=MSISDN, enabled=True, template_id=2),
    SetNetworkAccess(msisdn=MSISDN, mode=NetworkAccess.PS_ONLY),
    SwapImsi(msisdn=MSISDN, new_imsi=IMSI2),
    SendSms(msisdn=MSISDN, text="Welcome", sender="provgw", reference="c-2"),
    OtaUpdate(card=OTA_CARD, files=(STK_MENU,)),
    OtaRead(card=OTA_CARD, files=("oplmnwact", "stk_menu")),
]
"""Every kind of operation, with the values some dialects cannot take."""

UNDONE: list[tuple[Operation, Operation]] = [
    (ChangeTemplate(msisdn=MSISDN, template_id=2), ChangeTemplate(msisdn=MSISDN, template_id=1)),
    (SetSmsService(msisdn=MSISDN, mo=False, mt=True),
     SetSmsService(msisdn=MSISDN, mo=True, mt=True)),
    (AddApn(msisdn=MSISDN, profile=INTERNET), RemoveApn(msisdn=MSISDN, context_id=1)),
    (AddApn(msisdn=MSISDN, profile=IMS), RemoveApn(msisdn=MSISDN, context_id=2)),
    (SetImsSubscription(msisdn=MSISDN, enabled=True),
     SetImsSubscription(msisdn=MSISDN, enabled=False)),
    (SetVolte(msisdn=MSISDN, enabled=True), SetVolte(msisdn=MSISDN, enabled=False)),
    (AddCug(msisdn=MSISDN, cug=GROUP_CUG), RemoveCug(msisdn=MSISDN, index=GROUP_CUG.index)),
    (SetPushToTalk(msisdn=MSISDN, group="G-1"), SetPushToTalk(msisdn=MSISDN, group=None)),
    (SetPushToTalk(msisdn=MSISDN, group="G-2"), SetPushToTalk(msisdn=MSISDN, group="G-1")),
    (SetPushToTalk(msisdn=MSISDN, group=None), SetPushToTalk(msisdn=MSISDN, group="G-2")),
    (RemoveCug(msisdn=MSISDN, index=GROUP_CUG.index), AddCug(msisdn=MSISDN, cug=GROUP_CUG)),
    (SetVolte(msisdn=MSISDN, enabled=False), SetVolte(msisdn=MSISDN, enabled=True)),
    (SetImsSubscription(msisdn=MSISDN, enabled=False),
     SetImsSubscription(msisdn=MSISDN, enabled=True)),
    (RemoveApn(msisdn=MSISDN, context_id=2), AddApn(msisdn=MSISDN, profile=IMS)),
]  # fmt: skip
"""Each service step and its compensation (what a process plans, from the line's previous
value), in an order that builds a 4G group member and takes it apart again."""

KEYS = (KI, OPC, KI.upper(), OPC.upper(), OTA_KIC, OTA_KID, OTA_KIC.upper(), OTA_KID.upper())


def test_the_catalogue_holds_every_kind_of_operation() -> None:
    assert {type(op) for op in CATALOGUE} == set(get_args(NetworkOperation))


def test_the_dialect_refuses_exactly_the_kinds_it_says(harness: Harness) -> None:
    """Refused kinds are refused whatever the values, with a reason for the clerk; every other
    kind is carried out for some values (the LoadAuth variants show the value-dependent)."""
    accepted = set()
    for op in CATALOGUE:
        if type(op) in harness.refuses:
            with pytest.raises(NotSupported) as caught:
                harness.ne.check(op)
            assert str(caught.value), f"{op.op}: refused without a reason"
            continue
        try:
            harness.ne.check(op)
        except NotSupported:
            continue
        accepted.add(type(op))
    assert accepted == set(get_args(NetworkOperation)) - harness.refuses


def test_render_masks_secrets(harness: Harness) -> None:
    rendered = []
    for op in CATALOGUE:
        try:
            rendered.append(harness.ne.render(op))
        except NotSupported:
            continue
    assert rendered, "the dialect renders nothing"
    for text in rendered:
        for secret in KEYS + harness.credentials:
            assert secret not in text


@pytest.mark.parametrize("op", CATALOGUE, ids=lambda op: op.op)
def test_check_agrees_with_render(harness: Harness, op: Operation) -> None:
    try:
        harness.ne.render(op)
    except NotSupported:
        with pytest.raises(NotSupported):
            harness.ne.check(op)
    else:
        harness.ne.check(op)  # must not raise


async def test_what_execute_does_reads_back_as_applied(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ran = []
    for op in LIFECYCLE:
        try:
            harness.ne.check(op)
        except NotSupported:
            continue
        reply = await harness.ne.execute(op)
        assert reply.ok and not reply.unreachable, reply
        assert op.applied_in(await harness.ne.read(op.lookup())), op
        ran.append(reply)
    assert len(ran) >= 2, "too little of a subscriber's life to prove anything"
    shown = caplog.text + "".join(r.model_dump_json() for r in ran)
    for secret in KEYS + harness.credentials:
        assert secret not in shown


async def test_each_compensation_puts_the_subscriber_back(harness: Harness) -> None:
    """For every service step the dialect carries out: done, it reads back as applied; undone
    by its compensation, the subscriber reads back exactly as before. A step and its
    compensation are carried out alike (the engine checks both before an order runs)."""
    for op in LIFECYCLE[:2]:  # keys and subscriber, where the dialect holds them
        if type(op) not in harness.refuses:
            assert (await harness.ne.execute(op)).ok, op
    undone = 0
    for op, undo in UNDONE:
        if type(op) in harness.refuses:
            assert type(undo) in harness.refuses, (op, undo)
            continue
        before = await harness.ne.read(op.lookup())
        assert (await harness.ne.execute(op)).ok, op
        assert op.applied_in(await harness.ne.read(op.lookup())), op
        assert (await harness.ne.execute(undo)).ok, undo
        assert await harness.ne.read(op.lookup()) == before, (op, undo)
        assert (await harness.ne.execute(op)).ok, op  # on to the next step
        undone += 1
    assert undone in (0, len(UNDONE))


async def test_a_refusal_is_permanent_and_not_an_outage(harness: Harness) -> None:
    op = await harness.refusal()
    reply = await harness.ne.execute(op)
    assert (reply.outcome, reply.unreachable) == (Outcome.PERMANENT, False), reply
    assert reply.command and reply.code not in ("0", "")


async def test_a_busy_ne_is_transient_and_not_an_outage(busy_harness: Harness) -> None:
    ne, op = busy_harness.ne, busy_harness.busy_op
    assert busy_harness.busy is not None and op is not None
    busy_harness.busy(True)
    reply = await ne.execute(op)
    busy_harness.busy(False)
    assert (reply.outcome, reply.unreachable) == (Outcome.TRANSIENT, False), reply
    if not isinstance(op, SendSms):  # a notice is never "applied": nothing to read back
        assert not op.applied_in(await ne.read(op.lookup())), "a busy NE changed nothing"


async def test_the_peer_dying_mid_command_is_an_outage(harness: Harness) -> None:
    op, reply = await harness.die_mid_command()
    assert reply.unreachable, reply
    assert reply.outcome in (Outcome.UNKNOWN, Outcome.TRANSIENT), reply
    if reply.outcome is Outcome.TRANSIENT:
        assert reply.code in ("not-sent", "not-bound"), "TRANSIENT only when nothing went out"
    with pytest.raises(ConnectionError):
        await harness.ne.read(op.lookup())


async def test_probe_tells_up_from_down(harness: Harness) -> None:
    await harness.ne.probe()  # up: returns
    await harness.kill()
    with pytest.raises((ConnectionError, TimeoutError)):
        await harness.ne.probe()
