"""`MmlOverSsh` through real SSH against the in-process HLR emulator.

Each test starts its own emulator on a free port and checks the emulator's state, not only
the replies: a reply can lie, the HLR's records cannot.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from adapters.huawei_mml.mml_ssh import MmlOverSsh, MmlSshSettings
from adapters.rate_limit import TokenBucket
from emulators.hlr import Account, HlrEmulator
from emulators.hlr.session import Answer, MmlSession
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
    Lookup,
    NetworkAccess,
    Operation,
    Outcome,
    RegisterForwarding,
    RemoveApn,
    RemoveAuth,
    RemoveCug,
    RemoveSubscriber,
    SetData,
    SetImsSubscription,
    SetIncomingBarring,
    SetLock,
    SetNetworkAccess,
    SetOutgoingBarring,
    SetPushToTalk,
    SetRoamingBarring,
    SetSmsService,
    SetVolte,
    SubscriberView,
    SwapImsi,
)

IMSI = "460001234567890"
IMSI2 = "460001234567891"
ISDN = "8613800000001"
ISDN2 = "8613800000002"
FTN = "8613900000009"
KI = "465b5ce8b199b49faa5f0a2ee238a6bc"  # TS 35.208 test set 1
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
SSH_USER, SSH_PASSWORD = "gw", "ssh-secret-1"
OPERATOR, OPERATOR_PASSWORD = "ops", "mml-secret-2"

Connect = Callable[..., AbstractAsyncContextManager[MmlOverSsh]]


class SessionLog:
    """What the emulator's MML sessions were asked, recorded by wrapping `MmlSession.handle`."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.live: set[int] = set()
        self.most_live = 0

    def record(self, session: MmlSession, text: str) -> None:
        verb = text.strip().split(":", 1)[0].upper()
        self.commands.append(verb)
        if verb == "LGI":
            self.live.add(id(session))
            self.most_live = max(self.most_live, len(self.live))
        elif verb == "LGO":
            self.live.discard(id(session))


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionLog]:
    log = SessionLog()
    handle = MmlSession.handle

    def recording(self: MmlSession, text: str) -> Answer:
        log.record(self, text)
        return handle(self, text)

    monkeypatch.setattr(MmlSession, "handle", recording)
    yield log


@pytest.fixture
async def emu() -> AsyncIterator[HlrEmulator]:
    async with HlrEmulator(
        host="127.0.0.1",
        port=0,
        users={SSH_USER: Account(SSH_PASSWORD)},
        operators={OPERATOR: Account(OPERATOR_PASSWORD)},
    ) as emulator:
        yield emulator


def settings(port: int, **overrides: Any) -> MmlSshSettings:
    values: dict[str, Any] = {
        "name": "hlr-test",
        "port": port,
        "username": SSH_USER,
        "password": SSH_PASSWORD,
        "operator": OPERATOR,
        "operator_password": OPERATOR_PASSWORD,
        "host_key_policy": "accept-any",
        "sessions": 2,
        "command_timeout": 2.0,
        "connect_timeout": 2.0,
        **overrides,
    }
    return MmlSshSettings(**values)


@pytest.fixture
def connect(emu: HlrEmulator) -> Connect:
    @asynccontextmanager
    async def opened(**overrides: Any) -> AsyncIterator[MmlOverSsh]:
        async with MmlOverSsh(settings(emu.port, **overrides)) as ne:
            yield ne

    return opened


@pytest.fixture
async def ne(connect: Connect) -> AsyncIterator[MmlOverSsh]:
    async with connect() as adapter:
        yield adapter


async def ok(ne: MmlOverSsh, op: Operation) -> None:
    reply = await ne.execute(op)
    assert reply.outcome is Outcome.OK, reply


async def provisioned(ne: MmlOverSsh) -> None:
    await ok(ne, LoadAuth(imsi=IMSI, ki=KI, opc=OPC))
    await ok(ne, CreateSubscriber(imsi=IMSI, msisdn=ISDN, template_id=1))


def subscriber(emu: HlrEmulator, imsi: str = IMSI) -> dict[str, Any]:
    found: dict[str, Any] = emu.state.snapshot()["subscribers"][imsi]
    return found


async def test_load_auth_and_create(emu: HlrEmulator, ne: MmlOverSsh) -> None:
    await provisioned(ne)
    secrets = emu.state.snapshot(reveal_secrets=True)["ki"][IMSI]
    assert (secrets["ki"].lower(), secrets["opc"].lower()) == (KI, OPC)
    assert (secrets["cardtype"], secrets["alg"]) == ("USIM", "MILENAGE")
    assert subscriber(emu)["isdn"] == ISDN


async def test_comp128_card(emu: HlrEmulator, ne: MmlOverSsh) -> None:
    await ok(ne, LoadAuth(imsi=IMSI, ki=KI, algorithm="comp128v3"))
    record = emu.state.snapshot()["ki"][IMSI]
    assert (record["cardtype"], record["alg"], record["opc"]) == ("SIM", "COMP128_3", None)


SERVICE_CHANGES: list[tuple[Operation, dict[str, Any]]] = [
    (
        SetLock(msisdn=ISDN, lock=Lock(incoming=True, data=True)),
        {"ic": True, "oc": False, "gprslock": True},
    ),
    (SetIncomingBarring(msisdn=ISDN, barring=BarIncoming.WHEN_ROAMING), {"odbic": "BICROAM"}),
    (SetOutgoingBarring(msisdn=ISDN, barring=BarOutgoing.INTERNATIONAL), {"odboc": "BOIC"}),
    (
        SetRoamingBarring(msisdn=ISDN, barring=BarRoaming.DATA_OUTSIDE_HOME_PLMN),
        {"odbroam": "BROHPLMNCGPRS"},
    ),
    (RegisterForwarding(msisdn=ISDN, kind=ForwardingKind.NO_REPLY, forward_to=FTN), {"cfnry": FTN}),
    (SetData(msisdn=ISDN, enabled=True, template_id=1), {"gprs": True, "gprstplid": 1}),
    (SetNetworkAccess(msisdn=ISDN, mode=NetworkAccess.CS_ONLY), {"nam": "MSC"}),
]  # fmt: skip


@pytest.mark.parametrize(("op", "expected"), SERVICE_CHANGES, ids=lambda v: getattr(v, "op", ""))
async def test_service_change(
    emu: HlrEmulator, ne: MmlOverSsh, op: Operation, expected: dict[str, Any]
) -> None:
    await provisioned(ne)
    await ok(ne, op)
    after = subscriber(emu)
    assert {name: after[name] for name in expected} == expected
    assert op.applied_in(await ne.read(op.lookup()))


INTERNET = ApnProfile(
    context_id=1, apn="cmnet", qci=9, ambr_ul_bps=50_000_000, ambr_dl_bps=100_000_000
)
GROUP_CUG = Cug(index=10, interlock="0460A001")
HSS_STEPS: list[tuple[list[Operation], Operation, dict[str, Any]]] = [
    ([], ChangeTemplate(msisdn=ISDN, template_id=2), {"tplid": 2}),
    ([], SetSmsService(msisdn=ISDN, mo=False, mt=True), {"ts21": True, "ts22": False}),
    (
        [],
        AddApn(msisdn=ISDN, profile=INTERNET),
        {"pdncntx": [
            {"cntxid": 1, "apn": "cmnet", "qci": 9, "ambrul": 50_000_000, "ambrdl": 100_000_000}
        ]},
    ),
    ([AddApn(msisdn=ISDN, profile=INTERNET)], RemoveApn(msisdn=ISDN, context_id=1),
     {"pdncntx": []}),
    ([], SetImsSubscription(msisdn=ISDN, enabled=True), {"imstplid": 1}),
    ([AddApn(msisdn=ISDN, profile=INTERNET), SetImsSubscription(msisdn=ISDN, enabled=True)],
     SetVolte(msisdn=ISDN, enabled=True), {"volte": True}),
    (
        [],
        AddCug(msisdn=ISDN, cug=GROUP_CUG),
        {"cugs": [
            {"cugindex": 10, "interlock": "0460A001", "restrict": "NONE", "access": "OAIA"}
        ]},
    ),
    ([AddCug(msisdn=ISDN, cug=GROUP_CUG)], RemoveCug(msisdn=ISDN, index=10), {"cugs": []}),
    ([], SetPushToTalk(msisdn=ISDN, group="G-1"), {"pttgrp": "G-1"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("before", "op", "expected"), HSS_STEPS, ids=lambda v: getattr(v, "op", "")
)
async def test_an_hss_step_whose_reply_is_lost_reads_back_as_done(
    emu: HlrEmulator,
    ne: MmlOverSsh,
    before: list[Operation],
    op: Operation,
    expected: dict[str, Any],
) -> None:
    """What the engine does with an UNKNOWN step: read the subscriber back and ask the step
    whether its effect is there, instead of sending it again."""
    await provisioned(ne)
    for step in before:
        await ok(ne, step)
    assert not op.applied_in(await ne.read(op.lookup()))
    emu.faults.update(drop_rate=1.0)  # it runs, and the connection goes before the reply
    reply = await ne.execute(op)
    assert (reply.outcome, reply.unreachable) == (Outcome.UNKNOWN, True), reply
    emu.faults.clear()
    after = subscriber(emu)
    assert {name: after[name] for name in expected} == expected
    assert op.applied_in(await ne.read(op.lookup()))


async def test_erase_forwarding_and_data_off(emu: HlrEmulator, ne: MmlOverSsh) -> None:
    await provisioned(ne)
    await ok(ne, RegisterForwarding(msisdn=ISDN, kind=ForwardingKind.BUSY, forward_to=FTN))
    await ok(ne, EraseForwarding(msisdn=ISDN, kind=ForwardingKind.BUSY))
    await ok(ne, SetData(msisdn=ISDN, enabled=True))
    await ok(ne, SetData(msisdn=ISDN, enabled=False))
    after = subscriber(emu)
    assert (after["cfb"], after["gprs"]) == (None, False)


async def test_change_number_swap_card_and_cancel(emu: HlrEmulator, ne: MmlOverSsh) -> None:
    await provisioned(ne)
    await ok(ne, ChangeMsisdn(msisdn=ISDN, new_msisdn=ISDN2))
    assert subscriber(emu)["isdn"] == ISDN2
    await ok(ne, LoadAuth(imsi=IMSI2, ki=KI, opc=OPC))
    await ok(ne, SwapImsi(msisdn=ISDN2, new_imsi=IMSI2))
    state = emu.state.snapshot()
    assert list(state["subscribers"]) == [IMSI2]
    assert set(state["ki"]) == {IMSI, IMSI2}  # the old card's KI stays until RMV KI
    await ok(ne, RemoveAuth(imsi=IMSI))
    await ok(ne, RemoveSubscriber(imsi=IMSI2))
    await ok(ne, RemoveAuth(imsi=IMSI2))
    assert emu.state.snapshot() == {"ki": {}, "subscribers": {}}


async def test_read_back(ne: MmlOverSsh) -> None:
    assert await ne.read(Lookup(imsi=IMSI)) == SubscriberView(exists=False)
    await ok(ne, LoadAuth(imsi=IMSI, ki=KI, opc=OPC))
    assert await ne.read(Lookup(imsi=IMSI)) == SubscriberView(
        exists=False, auth_loaded=True, imsi=IMSI
    )
    await ok(ne, CreateSubscriber(imsi=IMSI, msisdn=ISDN, template_id=2))
    view = await ne.read(Lookup(msisdn=ISDN))
    assert view == SubscriberView(
        exists=True,
        auth_loaded=True,
        imsi=IMSI,
        msisdn=ISDN,
        template_id=2,
        data_enabled=True,  # template 2 carries packet data
    )
    assert await ne.read(Lookup(msisdn=ISDN2)) == SubscriberView(exists=False)


@pytest.mark.parametrize(
    ("op", "code"),
    [
        (CreateSubscriber(imsi=IMSI, msisdn=ISDN, template_id=1), "3007"),
        (SetLock(msisdn=ISDN, lock=Lock(incoming=True)), "3001"),
        (RemoveAuth(imsi=IMSI), "3007"),
        (EraseForwarding(msisdn=ISDN, kind=ForwardingKind.UNCONDITIONAL), "3001"),
    ],
    ids=lambda v: getattr(v, "op", v),
)
async def test_refusals_are_permanent(
    emu: HlrEmulator, ne: MmlOverSsh, op: Operation, code: str
) -> None:
    reply = await ne.execute(op)
    assert (reply.outcome, reply.code) == (Outcome.PERMANENT, code)
    assert reply.text.startswith(f"ERR{code}:")
    assert reply.command == ne.render(op)
    assert emu.state.snapshot() == {"ki": {}, "subscribers": {}}


async def test_duplicates_are_permanent(ne: MmlOverSsh) -> None:
    await provisioned(ne)
    again = await ne.execute(LoadAuth(imsi=IMSI, ki=KI, opc=OPC))
    assert (again.outcome, again.code) == (Outcome.PERMANENT, "3008")
    taken = await ne.execute(CreateSubscriber(imsi=IMSI2, msisdn=ISDN, template_id=1))
    assert taken.outcome is Outcome.PERMANENT


async def test_secrets_stay_masked(
    ne: MmlOverSsh, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    op = LoadAuth(imsi=IMSI, ki=KI, opc=OPC)
    first = await ne.execute(op)
    second = await ne.execute(op)  # refused: 3008, the error path
    await ne.read(Lookup(imsi=IMSI))
    for reply in (first, second):
        assert 'KIVALUE="****"' in reply.command and 'KIVALUE="****"' in reply.response
        text = reply.model_dump_json()
        assert KI not in text and OPC not in text and OPERATOR_PASSWORD not in text
    logged = caplog.text + "".join(capsys.readouterr())
    assert "LST KI" in logged  # the debug log did see the traffic…
    for secret in (KI, OPC, OPERATOR_PASSWORD, SSH_PASSWORD):
        assert secret not in logged  # …but none of the secrets


async def test_transient_codes_are_configurable(emu: HlrEmulator, connect: Connect) -> None:
    emu.faults.update(error_rate=1.0, error_code=5001)
    async with connect(transient_codes=frozenset({5002})) as ne:
        reply = await ne.execute(LoadAuth(imsi=IMSI, ki=KI))
    assert (reply.outcome, reply.code) == (Outcome.PERMANENT, "5001")


async def test_dropped_connection_is_unknown_then_reconnects(
    emu: HlrEmulator, ne: MmlOverSsh, sessions: SessionLog
) -> None:
    await ok(ne, LoadAuth(imsi=IMSI, ki=KI, opc=OPC))
    emu.faults.update(drop_rate=1.0)
    reply = await ne.execute(CreateSubscriber(imsi=IMSI, msisdn=ISDN, template_id=1))
    assert reply.outcome is Outcome.UNKNOWN
    assert IMSI in emu.state.snapshot()["subscribers"]  # it did run: hence "unknown"
    emu.faults.clear()
    await ok(ne, SetNetworkAccess(msisdn=ISDN, mode=NetworkAccess.PS_ONLY))
    assert subscriber(emu)["nam"] == "SGSN"
    assert sessions.commands.count("LGI") == 2  # a fresh connection, logged in again


async def test_stuck_session_times_out_and_the_pool_recovers(
    emu: HlrEmulator, connect: Connect, sessions: SessionLog
) -> None:
    async with connect(sessions=1, command_timeout=0.3) as ne:
        await ok(ne, LoadAuth(imsi=IMSI, ki=KI, opc=OPC))
        emu.faults.update(stuck_after=1)
        stuck = await ne.execute(CreateSubscriber(imsi=IMSI, msisdn=ISDN, template_id=1))
        assert (stuck.outcome, stuck.code, stuck.unreachable) == (Outcome.UNKNOWN, "timeout", True)
        emu.faults.clear()
        await ok(ne, CreateSubscriber(imsi=IMSI, msisdn=ISDN, template_id=1))
    assert subscriber(emu)["isdn"] == ISDN
    assert sessions.commands.count("LGI") == 2


async def test_late_reply_never_answers_the_next_command(
    emu: HlrEmulator, connect: Connect
) -> None:
    async with connect(sessions=1) as ne:
        await ok(ne, LoadAuth(imsi=IMSI, ki=KI, opc=OPC))
        emu.faults.update(latency_ms=300)
        slow = asyncio.create_task(ne.execute(RemoveAuth(imsi=IMSI)))
        await asyncio.sleep(0.05)
        slow.cancel()
        emu.faults.clear()
        reply = await ne.execute(LoadAuth(imsi=IMSI2, ki=KI))
    assert reply.ok and "LST" not in reply.response
    assert f'IMSI="{IMSI2}"' in reply.response


async def test_garbled_reply_is_unknown_and_the_channel_replaced(
    emu: HlrEmulator, ne: MmlOverSsh, monkeypatch: pytest.MonkeyPatch, sessions: SessionLog
) -> None:
    recording = MmlSession.handle

    def garbling(self: MmlSession, text: str) -> Answer:
        answer = recording(self, text)
        if text.startswith("LGI") or answer.reply is None:
            return answer
        return Answer(answer.reply.replace("RETCODE = 0", "RETCODE = ?"))

    monkeypatch.setattr(MmlSession, "handle", garbling)
    reply = await ne.execute(LoadAuth(imsi=IMSI, ki=KI))
    assert (reply.outcome, reply.code) == (Outcome.UNKNOWN, "garbled")
    assert not reply.unreachable  # the HLR answered, badly: not an outage
    assert "RETCODE = ?" in reply.response
    monkeypatch.setattr(MmlSession, "handle", recording)
    assert (await ne.read(Lookup(imsi=IMSI))).auth_loaded
    assert sessions.commands.count("LGI") == 2


async def test_unreadable_subscriber_record_is_no_view(
    ne: MmlOverSsh, monkeypatch: pytest.MonkeyPatch
) -> None:
    await provisioned(ne)
    handle = MmlSession.handle

    def without_nam(self: MmlSession, text: str) -> Answer:
        answer = handle(self, text)
        return Answer(answer.reply.replace("NAM  =  BOTH\n", "") if answer.reply else None)

    monkeypatch.setattr(MmlSession, "handle", without_nam)
    with pytest.raises(ConnectionError, match="NAM"):
        await ne.read(Lookup(imsi=IMSI))


async def test_lgo_on_close(ne: MmlOverSsh, sessions: SessionLog) -> None:
    await asyncio.gather(*(ne.read(Lookup(imsi=IMSI)) for _ in range(4)))
    assert sessions.commands.count("LGI") == 2
    await ne.close()
    assert sessions.commands.count("LGO") == 2
    assert not sessions.live


async def test_pool_size_is_respected(
    emu: HlrEmulator, connect: Connect, sessions: SessionLog
) -> None:
    emu.faults.update(latency_ms=5)
    async with connect(sessions=3) as ne:
        replies = await asyncio.gather(*(ne.read(Lookup(imsi=IMSI)) for _ in range(30)))
    assert len(replies) == 30
    assert sessions.most_live == 3


async def test_wrong_mml_password_is_transient_not_sent_and_backs_off(
    emu: HlrEmulator, connect: Connect, sessions: SessionLog
) -> None:
    async with connect(operator_password="wrong", reconnect_backoff=30.0) as ne:
        reply = await ne.execute(LoadAuth(imsi=IMSI, ki=KI))
        again = await ne.execute(LoadAuth(imsi=IMSI, ki=KI))
    assert (reply.outcome, reply.code) == (Outcome.TRANSIENT, "not-sent")
    assert "1018" in reply.text and "wrong" not in reply.text
    assert again.outcome is Outcome.TRANSIENT and "next attempt" in again.text
    assert next_attempt_s(again.text) > 29, "a refused login waits long: NEs lock operators out"
    assert sessions.commands == ["LGI"]  # one try only
    assert emu.state.snapshot()["ki"] == {}


async def test_wrong_ssh_password_is_transient(connect: Connect) -> None:
    async with connect(password="wrong") as ne:
        reply = await ne.execute(LoadAuth(imsi=IMSI, ki=KI))
    assert (reply.outcome, reply.code) == (Outcome.TRANSIENT, "not-sent")


async def test_unreachable_ne_backs_off(emu: HlrEmulator) -> None:
    port = emu.port
    await emu.stop()
    async with MmlOverSsh(settings(port, reconnect_backoff=30.0)) as ne:
        first = await ne.execute(RemoveAuth(imsi=IMSI))
        second = await ne.execute(RemoveAuth(imsi=IMSI))
        with pytest.raises(ConnectionError):
            await ne.read(Lookup(imsi=IMSI))
    assert first.outcome is second.outcome is Outcome.TRANSIENT
    assert first.unreachable and second.unreachable
    assert "next attempt" in second.text  # failed fast, no second connection attempt
    # A down NE is tried again soon: its breaker spaces the probes, and a restarted NE must
    # have its sessions back within one probe interval.
    assert next_attempt_s(second.text) <= 1.0


def next_attempt_s(text: str) -> float:
    """The wait a fail-fast reply states ("… next attempt in 1.0s")."""
    match = re.search(r"next attempt in ([0-9.]+)s", text)
    assert match is not None, text
    return float(match.group(1))


async def test_rate_limit_spaces_the_commands(
    connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays: list[float] = []

    class StillClock(TokenBucket):
        """The adapter's bucket on a clock that stands still: its delays are exact."""

        def __init__(self, rate: float, burst: int = 1) -> None:
            super().__init__(rate, burst, clock=lambda: 100.0)

        def reserve(self) -> float:
            delays.append(super().reserve())
            return delays[-1]

    monkeypatch.setattr("adapters.huawei_mml.mml_ssh.TokenBucket", StillClock)
    async with connect(rate_limit=20.0, sessions=2) as ne:
        # Six commands at once (LST SUB, LST KI each) on two sessions: still 20/s at most.
        views = await asyncio.gather(*(ne.read(Lookup(imsi=IMSI)) for _ in range(3)))
    assert len(views) == 3
    # One slot per command (none for LGI), each 50 ms after the one before.
    assert delays == pytest.approx([0.0, 0.05, 0.10, 0.15, 0.20, 0.25])


async def test_closed_adapter_sends_nothing(emu: HlrEmulator, ne: MmlOverSsh) -> None:
    await ne.close()
    reply = await ne.execute(LoadAuth(imsi=IMSI, ki=KI))
    assert (reply.outcome, reply.code) == (Outcome.TRANSIENT, "closed")
    assert emu.state.snapshot()["ki"] == {}


def test_settings_refuse_unquotable_credentials() -> None:
    with pytest.raises(ValueError, match="operator_password") as caught:
        settings(22, operator_password='pw";RMV SUB:')
    assert "RMV SUB" not in str(caught.value)
    with pytest.raises(ValueError, match="operator"):
        settings(22, operator="a\nb")
