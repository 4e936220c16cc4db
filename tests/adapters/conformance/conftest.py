"""Every dialect, against its real peer, behind one `Harness`.

A dialect joins the conformance suite with one fixture here, decorated ``@dialect``: it starts
the real peer (the HLR emulator over real SSH, a real osmo-hlr, the SMSC emulator), builds the
adapter the way `gateway.network` would, and yields a `Harness` that says how to upset that
peer. The suite's tests take ``harness`` (every dialect) or ``busy_harness`` (the dialects whose
peer can answer "busy") and know nothing else of the dialect.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, get_args

import pytest

from adapters.huawei_mml.mml_ssh import MmlOverSsh, MmlSshSettings
from adapters.network_element import NetworkElement
from adapters.osmo_hlr.osmo_ctrl import OsmoCtrlSettings, OsmoHlrCtrl
from adapters.ota.transport import OtaSettings, OtaTransport
from adapters.smpp.client import SmppClient, SmppSettings
from adapters.smpp.smsc import Smsc, SmscAdminSettings
from emulators.handset import Handset
from emulators.hlr import Account, HlrEmulator
from emulators.smsc import SmscEmulator
from emulators.usim.card import UsimCard
from emulators.usim.pcscd import PrivatePcscd
from gateway.network import MobileOriginatedRouter
from gateway.operations import (
    AddApn,
    AddCug,
    ChangeTemplate,
    CreateSubscriber,
    EraseForwarding,
    LoadAuth,
    Lock,
    NetworkOperation,
    Operation,
    OtaCard,
    OtaKeys,
    OtaRead,
    OtaUpdate,
    RegisterForwarding,
    RemoveApn,
    RemoveCug,
    Reply,
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
    SpnFile,
    SwapImsi,
)
from simcard.ota_counters import SqliteCounters
from simcard.ota_keys import KeySet
from simcard.transport import PcscTransport
from tests.fixtures.osmo_hlr import OsmoHlr, osmo_hlr

__all__ = ["osmo_hlr"]  # the fixture, imported for pytest

IMSI = "001010000012345"
MSISDN = "8613800000001"
UNKNOWN_MSISDN = "8613800009999"
KI = "465b5ce8b199b49faa5f0a2ee238a6bc"  # TS 35.208 test set 1
OPC = "cd63cb71954a9f4e48a5994e37a02baf"


@dataclass
class Harness:
    """One dialect's adapter, connected to its running peer, and what the suite may do to it.

    ``credentials`` must never show in a render, a reply or a log line (the keys of the
    operations are checked by the suite itself). ``refusal`` prepares the peer and returns an
    operation it refuses; ``busy`` switches the peer's "busy, try later" answer on and off, and
    ``busy_op`` is what is sent meanwhile. ``die_mid_command`` sends a changing operation and
    kills the peer while it is on its way, returning both; the peer stays down. ``kill``
    takes the peer down. ``refuses`` are the kinds of operation the dialect cannot carry out
    whatever their values (`NotSupported`, refused at intake); it accepts every other kind for
    some values.
    """

    ne: NetworkElement
    credentials: tuple[str, ...]
    refusal: Callable[[], Awaitable[Operation]]
    die_mid_command: Callable[[], Awaitable[tuple[Operation, Reply]]]
    kill: Callable[[], Awaitable[None]]
    refuses: frozenset[type[Any]]
    busy: Callable[[bool], None] | None = None
    busy_op: Operation | None = None


SMS_CENTRE_OPERATIONS = frozenset({SetSmsBarring, SendSms})
OTA_OPERATIONS = frozenset({OtaUpdate, OtaRead})
HSS_SERVICES = frozenset(
    {
        ChangeTemplate,
        SetSmsService,
        AddApn,
        RemoveApn,
        SetImsSubscription,
        SetVolte,
        AddCug,
        RemoveCug,
        SetPushToTalk,
    }
)
"""What an HSS keeps beyond CS/PS access: templates, SMS teleservices, EPS, IMS, CUG, PTT."""

DIALECTS: list[Any] = []
"""The fixtures below that yield a `Harness`, one per dialect (as `pytest.param`s)."""
BUSY: list[Any] = []
"""Those whose peer can be made to answer "busy"."""


def dialect(*, busy: bool, marks: tuple[pytest.MarkDecorator, ...] = ()) -> Callable[[Any], Any]:
    """Register a harness fixture (see the module docstring); ``marks`` go on its tests."""

    def register(fixture: Any) -> Any:
        param = pytest.param(fixture.__name__, marks=marks, id=fixture.__name__)
        DIALECTS.append(param)
        if busy:
            BUSY.append(param)
        return pytest.fixture(fixture)

    return register


async def _wait_for(condition: Callable[[], bool], what: str, within: float = 10.0) -> None:
    """Poll ``condition`` (bounded: the test fails rather than hangs)."""
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


# -- huawei-mml: MmlOverSsh against the HLR emulator, over real SSH ---------------------------

SSH_PASSWORD, MML_PASSWORD = "ssh-Secret-41", "mml-Secret-42"


@dialect(busy=True)
async def huawei_mml() -> AsyncIterator[Harness]:
    async with HlrEmulator(
        host="127.0.0.1",
        port=0,
        users={"gw": Account(SSH_PASSWORD)},
        operators={"ops": Account(MML_PASSWORD)},
    ) as emu:
        settings = MmlSshSettings(
            name="hlr-conformance",
            port=emu.port,
            username="gw",
            password=SSH_PASSWORD,
            operator="ops",
            operator_password=MML_PASSWORD,
            host_key_policy="accept-any",
            sessions=2,
            command_timeout=5.0,
            connect_timeout=5.0,
        )

        async def refusal() -> Operation:
            return SetLock(msisdn=UNKNOWN_MSISDN, lock=Lock(incoming=True, outgoing=True))

        def busy(on: bool) -> None:
            if on:
                emu.faults.update(error_rate=1.0, error_code=5001)  # "system busy"
            else:
                emu.faults.clear()

        async def die_mid_command() -> tuple[Operation, Reply]:
            assert (await ne.execute(LoadAuth(imsi=IMSI, ki=KI, opc=OPC))).ok
            op = CreateSubscriber(imsi=IMSI, msisdn=MSISDN, template_id=1)
            emu.faults.update(drop_rate=1.0)  # the connection goes right after the command runs
            reply = await ne.execute(op)
            await emu.stop()
            return op, reply

        async with MmlOverSsh(settings) as ne:
            yield Harness(
                ne=ne,
                credentials=(SSH_PASSWORD, MML_PASSWORD),
                refusal=refusal,
                busy=busy,
                busy_op=LoadAuth(imsi=IMSI, ki=KI, opc=OPC),
                die_mid_command=die_mid_command,
                kill=emu.stop,
                refuses=SMS_CENTRE_OPERATIONS | OTA_OPERATIONS,
            )


# -- osmo-hlr-ctrl: OsmoHlrCtrl against a real osmo-hlr ---------------------------------------


# osmo-hlr has no "busy" answer: every CTRL ERROR is a refusal.
@dialect(busy=False, marks=(pytest.mark.osmohlr,))
async def osmo_hlr_ctrl(osmo_hlr: OsmoHlr) -> AsyncIterator[Harness]:
    hlr = osmo_hlr
    settings = OsmoCtrlSettings(
        name="osmo-conformance",
        host=hlr.address,
        port=hlr.ctrl_port,
        gsup_port=hlr.gsup_port,
        command_timeout=5.0,
        reconnect_backoff=0.05,
    )

    async def refusal() -> Operation:
        return SetLock(msisdn=UNKNOWN_MSISDN, lock=Lock(incoming=True, outgoing=True))

    def signal_hlr(number: signal.Signals) -> None:
        assert hlr.process is not None, "osmo-hlr is not running"
        hlr.process.send_signal(number)

    async def kill() -> None:
        signal_hlr(signal.SIGKILL)
        hlr.stop()  # reaps it

    async def die_mid_command() -> tuple[Operation, Reply]:
        assert (await ne.execute(LoadAuth(imsi=IMSI, ki=KI, opc=OPC))).ok
        assert (await ne.execute(CreateSubscriber(imsi=IMSI, msisdn=MSISDN, template_id=1))).ok
        op = SetData(msisdn=MSISDN, enabled=True)  # its first command changes the record
        signal_hlr(signal.SIGSTOP)
        sending = asyncio.create_task(ne.execute(op))
        await asyncio.sleep(0.05)  # the command is written; osmo-hlr, frozen, cannot answer
        await kill()
        return op, await sending

    async with OsmoHlrCtrl(settings) as ne:
        yield Harness(
            ne=ne,
            credentials=(),  # CTRL has no login
            refusal=refusal,
            die_mid_command=die_mid_command,
            kill=kill,
            refuses=SMS_CENTRE_OPERATIONS
            | HSS_SERVICES
            | OTA_OPERATIONS
            | {
                SetIncomingBarring,
                SetOutgoingBarring,
                SetRoamingBarring,
                RegisterForwarding,
                EraseForwarding,
                SetNetworkAccess,
                SwapImsi,
            },
        )


# -- the SMSC element: Smsc (admin API and SMPP) against the SMSC emulator ---------------------


def _smsc_busy(emu: SmscEmulator, on: bool) -> None:
    if on:
        emu.faults.update(refuse_rate=1.0)  # ESME_RTHROTTLED
    else:
        emu.faults.clear()


async def _smsc_dies_over_a_submit(emu: SmscEmulator, ne: NetworkElement, op: Operation) -> Reply:
    """The SMSC stores the submit, cuts the bind before answering, and is gone before the
    client can bind again."""
    emu.faults.update(drop_rate=1.0, drop_stage="stored")
    sending = asyncio.create_task(ne.execute(op))
    await _wait_for(lambda: emu.stats.drops > 0, "the SMSC dropped the bind")
    await emu.stop()
    return await sending


SMPP_PASSWORD, ADMIN_PASSWORD = "Smpp-7pw", "admin-Secret-43"


@dialect(busy=True)
async def smsc() -> AsyncIterator[Harness]:
    async with SmscEmulator(
        port=0, admin_port=0, accounts={"provgw": SMPP_PASSWORD}, admin_password=ADMIN_PASSWORD
    ) as emu:
        smpp = SmppSettings(
            port=emu.port,
            system_id="provgw",
            password=SMPP_PASSWORD,
            submit_timeout=1.0,
            response_timeout=1.0,
        )
        admin = SmscAdminSettings(
            port=emu.admin_port, username="provgw", password=ADMIN_PASSWORD, request_timeout=2.0
        )
        note = SendSms(msisdn=MSISDN, text="您的号码已停机。", sender="provgw", reference="c-1")

        async def refusal() -> Operation:
            assert (await ne.execute(SetSmsBarring(msisdn=MSISDN, barred=True))).ok
            return note  # SMS to a barred number

        async def die_mid_command() -> tuple[Operation, Reply]:
            return note, await _smsc_dies_over_a_submit(emu, ne, note)

        async with SmppClient(smpp) as client:
            ne = Smsc(admin, sms=client)
            try:
                yield Harness(
                    ne=ne,
                    credentials=(SMPP_PASSWORD, ADMIN_PASSWORD),
                    refusal=refusal,
                    busy=partial(_smsc_busy, emu),
                    busy_op=note,
                    die_mid_command=die_mid_command,
                    kill=emu.stop,
                    refuses=frozenset(get_args(NetworkOperation)) - SMS_CENTRE_OPERATIONS,
                )
            finally:
                await ne.close()


# -- ota-scp80: OtaTransport through the SMSC emulator, a handset, pcscd and an emulated card --

OTA_KIC, OTA_KID = "200102030405060708090a0b0c0d0e0f", "201102030405060708090a0b0c0d0e0f"
OTA_CARD = OtaCard(
    iccid="8988211000000467343",
    msisdn=MSISDN,
    keys=OtaKeys(version=1, algorithm="aes", kic=OTA_KIC, kid=OTA_KID),
)
OTA_ADDRESS = "10658800"
OTA_SLOT = 1


@dialect(busy=True, marks=(pytest.mark.pcsc,))
async def ota_scp80(pcsc_chain: PrivatePcscd, tmp_path: Path) -> AsyncIterator[Harness]:
    keys = KeySet.aes(1, bytes.fromhex(OTA_KIC), bytes.fromhex(OTA_KID))
    card = UsimCard.blank(ota_keys=[keys])
    if not pcsc_chain.swap(card, OTA_SLOT):  # a fresh card behind the live link: no 0.4 s wait
        await asyncio.to_thread(pcsc_chain.insert, card, OTA_SLOT)
    async with SmscEmulator(
        port=0,
        admin_port=None,
        accounts={"provgw": SMPP_PASSWORD},
        service_numbers=(OTA_ADDRESS,),
    ) as emu:
        transport = PcscTransport(pcsc_chain.reader_name(OTA_SLOT), shared=True)
        phone = Handset(MSISDN, transport, ("127.0.0.1", emu.handset_port))
        await phone.start()
        smpp = SmppSettings(
            port=emu.port,
            system_id="provgw",
            password=SMPP_PASSWORD,
            submit_timeout=1.0,
            response_timeout=1.0,
            bind_timeout=1.0,
            throttled_backoff_max=0.1,
        )
        router = MobileOriginatedRouter((), None)
        async with SmppClient(smpp, on_mo=router) as client:
            ne = OtaTransport(
                OtaSettings(address=OTA_ADDRESS, por_timeout=5.0),
                client,
                SqliteCounters(tmp_path / "ota.sqlite"),
            )
            router.ota = ne
            update = OtaUpdate(card=OTA_CARD, files=(SpnFile(name="provgw"),))

            async def refusal() -> Operation:
                wrong = OtaKeys(version=1, kic="00" * 16, kid="00" * 16)
                return update.model_copy(
                    update={"card": OTA_CARD.model_copy(update={"keys": wrong})}
                )

            async def die_mid_command() -> tuple[Operation, Reply]:
                return update, await _smsc_dies_over_a_submit(emu, ne, update)

            try:
                await client.wait_bound(5)
                await phone.link.wait_attached(5)
                yield Harness(
                    ne=ne,
                    credentials=(SMPP_PASSWORD, OTA_KIC, OTA_KID),
                    refusal=refusal,
                    busy=partial(_smsc_busy, emu),
                    busy_op=update,
                    die_mid_command=die_mid_command,
                    kill=emu.stop,
                    refuses=frozenset(get_args(NetworkOperation)) - OTA_OPERATIONS,
                )
            finally:
                await ne.close()
                await phone.stop()


# -- what the tests take ----------------------------------------------------------------------


@pytest.fixture(params=DIALECTS)
def harness(request: pytest.FixtureRequest) -> Harness:
    """Each dialect in turn."""
    found: Harness = request.getfixturevalue(request.param)
    return found


@pytest.fixture(params=BUSY)
def busy_harness(request: pytest.FixtureRequest) -> Harness:
    """Each dialect whose peer can answer "busy"."""
    found: Harness = request.getfixturevalue(request.param)
    return found
