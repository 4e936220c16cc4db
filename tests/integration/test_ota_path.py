"""Over the air through the whole real path, every part its own process where a user has one:

    gateway (OTA target, SMPP client; in this process)
      → SMPP → SMSC emulator (`python -m emulators.smsc`)
      → handset link → emulated handset (`python -m emulators.handset`)
      → PC/SC → pcscd + vpcd of the card reader emulator (`provgw emulate reader`)
      → the emulated card — and back: PoR, menu SMS and texts as MO, deliver_sm to the gateway.

An OPLMNwAcT list written over the air is read back by the card layer (`provgw card read`,
through that pcscd); a menu written over the air is selected on the handset and its SMS reaches
the SMSC and the gateway; a text the subscriber sends reaches the gateway's MO handler; a PoR
lost inside the SMSC makes the update UNKNOWN and reading the card back settles it.

The same through orders (`ota_update`, `stk_activate`) in a running gateway (`running_gateway`:
engine, SIM stock, OTA target): the card's OTA keys come from the stock, the roaming list an
order sets is read back by the card layer, an STK activation's menu is selected on the handset
and its SMS reaches the SMSC, and an order whose PoR is lost completes once the read-back over
the air shows the update on the card — without sending it again.

Without pcscd/vsmartcard-vpcd the module is skipped naming what is missing (failed under
CI=true, where `scripts/install-system-deps` provides them).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.ota_path import (
    ICCID,
    KIC,
    KID,
    MSISDN,
    NUMBER,
    SERVICE,
    OtaPath,
    Unavailable,
    gateway_config,
    order_gateway,
    ota_path,
)
from gateway.engine import Engine
from gateway.network import MobileOriginated, build_targets, close_targets
from gateway.operations import (
    AccessTechnology,
    MenuEntry,
    OtaCard,
    OtaKeys,
    OtaUpdate,
    Outcome,
    PlmnEntry,
    RoamingListFile,
    StkMenuFile,
)
from gateway.orders import parse_order
from gateway.store import OrderRecord, OrderState
from gateway.targets import Targets
from tests.fixtures.pcsc import _unavailable
from tests.integration.conftest import served

pytestmark = pytest.mark.pcsc

CARD = OtaCard(iccid=ICCID, msisdn=MSISDN, keys=OtaKeys(version=1, kic=KIC, kid=KID))
ROAMING = RoamingListFile(
    networks=(
        PlmnEntry(mcc="460", mnc="01", technologies=(AccessTechnology.E_UTRAN,)),
        PlmnEntry(mcc="454", mnc="00"),
        PlmnEntry(
            mcc="310", mnc="410", technologies=(AccessTechnology.UTRAN, AccessTechnology.GSM)
        ),
    )
)
MENU = StkMenuFile(
    title="中国移动",
    items=(
        MenuEntry(id=1, label="话费查询", destination=SERVICE, text="CXHF"),
        MenuEntry(id=2, label="携号转网查询", destination=SERVICE, text="CXXZ"),
    ),
)


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OtaPath]:
    try:
        with ota_path(tmp_path_factory.mktemp("ota-path")) as started:
            yield started
    except Unavailable as exc:
        _unavailable(str(exc))


@dataclass
class Gateway:
    targets: Targets
    mo: asyncio.Queue[MobileOriginated]

    async def execute(self, op: OtaUpdate) -> Any:
        return await self.targets.execute("ota", op)

    async def applied(self, op: OtaUpdate) -> bool:
        return op.applied_in(await self.targets.read("ota", op, op.lookup()))


@contextlib.asynccontextmanager
async def open_gateway(path: OtaPath, tmp_path: Path, por_timeout: float) -> AsyncIterator[Gateway]:
    """The gateway's side as `gateway.runtime` builds it: SMSC element and OTA target on one
    bind, MO to service numbers to a handler (here a queue), the bind opened at once."""
    config = gateway_config(path, tmp_path / "gw.db", por_timeout=por_timeout)
    received: asyncio.Queue[MobileOriginated] = asyncio.Queue()
    targets = build_targets(config, mobile_originated=received.put, listen=True)
    try:
        yield Gateway(targets, received)
    finally:
        await close_targets(targets)


@pytest.fixture
async def gateway(path: OtaPath, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with open_gateway(path, tmp_path, por_timeout=10.0) as opened:
        yield opened


def card_read(path: OtaPath) -> dict[str, Any]:
    """What the card layer reads through the reader's pcscd (`provgw card read`)."""
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "card", "read", "--reader", path.reader["reader"],
         "--shared", "--json"],
        capture_output=True, text=True, env=path.pcsc_env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    files: dict[str, Any] = json.loads(done.stdout)["files"]
    return files


async def test_a_roaming_list_updated_over_the_air_reads_back_through_pcscd(
    path: OtaPath, gateway: Gateway
) -> None:
    op = OtaUpdate(card=CARD, files=(ROAMING,))
    reply = await gateway.execute(op)
    assert (reply.outcome, reply.code) == (Outcome.OK, "por-00"), reply
    assert KIC not in reply.model_dump_json() and "KIc/KID ****" in reply.command
    files = await asyncio.to_thread(card_read, path)
    entries = files["oplmnwact"]["value"]
    assert [e["plmn"] for e in entries[:3]] == ["460-01", "454-00", "310-410"]
    assert await gateway.applied(op)  # and over the air, as the engine reconciles


async def test_a_menu_sent_over_the_air_is_selected_and_its_sms_reaches_the_gateway(
    path: OtaPath, gateway: Gateway
) -> None:
    reply = await gateway.execute(OtaUpdate(card=CARD, files=(MENU,)))
    assert reply.ok, reply
    async with httpx.AsyncClient(base_url=path.phone) as phone:
        menu = (await phone.get("/menu")).json()
        assert menu == {
            "title": "中国移动",
            "items": [{"id": 1, "text": "话费查询"}, {"id": 2, "text": "携号转网查询"}],
        }
        [sent] = (await phone.post("/menu/2")).json()["sent"]
    assert (sent["to"], sent["text"], sent["by"]) == (SERVICE, "CXXZ", "card")
    message = await asyncio.wait_for(gateway.mo.get(), 10)
    assert (message.source, message.destination, message.text) == (MSISDN, SERVICE, "CXXZ")
    async with httpx.AsyncClient(base_url=path.smsc_admin, auth=("provgw", "provgw")) as smsc:
        at_smsc = (await smsc.get("/messages", params={"destination": SERVICE})).json()
    assert [m["text"] for m in at_smsc["messages"] if m["origin"] == "mobile"][-1] == "CXXZ"


async def test_a_text_from_the_handset_reaches_the_gateways_handler(
    path: OtaPath, gateway: Gateway
) -> None:
    text = "CXXZ#张三#110101199003074578"
    async with httpx.AsyncClient(base_url=path.phone) as phone:
        response = await phone.post("/sms", json={"to": SERVICE, "text": text})
    assert response.status_code == 200 and response.json()["sent"][0]["message_id"]
    message = await asyncio.wait_for(gateway.mo.get(), 10)
    assert (message.source, message.text, message.data_coding) == (MSISDN, text, 0x08)


async def test_a_lost_por_is_unknown_and_reading_the_card_back_settles_it(
    path: OtaPath, tmp_path: Path
) -> None:
    op = OtaUpdate(card=CARD, files=(RoamingListFile(networks=(PlmnEntry(mcc="450", mnc="05"),)),))
    async with (
        open_gateway(path, tmp_path, por_timeout=2.0) as gateway,
        httpx.AsyncClient(base_url=path.smsc_admin, auth=("provgw", "provgw")) as smsc,
    ):
        assert not await gateway.applied(op)
        await smsc.patch("/faults", json={"mo_loss_rate": 1.0})  # the PoR dies in the SMSC
        reply = await gateway.execute(op)
        assert (reply.outcome, reply.code, reply.unreachable) == (Outcome.UNKNOWN, "no-por", False)
        lost = (await smsc.get("/status")).json()["mo_lost"]
        await smsc.patch("/faults", json={"mo_loss_rate": 0.0})
        assert lost >= 1
        assert await gateway.applied(op)  # the card had it: the engine would mark the step done


# -- the same as orders, through a running gateway -------------------------------------------


@dataclass
class RunningGateway:
    engine: Engine
    mo: asyncio.Queue[MobileOriginated]

    async def order(self, kind: str, order_id: str, **fields: Any) -> OrderRecord:
        """Submit an order as POST /orders does, and run it to its end."""
        body = {"kind": kind, "order_id": order_id, "channel": "OUT001", "operator": "clerk1"}
        await self.engine.submit(parse_order(body | {"msisdn": NUMBER} | fields))
        await self.engine.drain()
        record = await self.engine.store.get(order_id)
        assert record is not None
        return record


@contextlib.asynccontextmanager
async def running(
    path: OtaPath, tmp_path: Path, por_timeout: float
) -> AsyncIterator[RunningGateway]:
    received: asyncio.Queue[MobileOriginated] = asyncio.Queue()
    async with order_gateway(path, tmp_path, por_timeout, MENU, received.put) as engine:
        yield RunningGateway(engine, received)


async def test_an_ota_update_order_sets_the_roaming_list_the_card_layer_reads_back(
    path: OtaPath, tmp_path: Path
) -> None:
    async with running(path, tmp_path, por_timeout=10.0) as gateway:
        record = await gateway.order(
            "ota_update",
            "ota-1",
            roaming_networks=[
                {"mcc": "460", "mnc": "00", "technologies": ["e-utran"]},
                {"mcc": "452", "mnc": "04"},
            ],
        )
        assert record.state is OrderState.COMPLETED, record.reason
        [line] = await gateway.engine.store.transcript("ota-1")
    assert (line.outcome, line.code) == ("ok", "por-00")
    assert KIC not in line.command and "KIc/KID ****" in line.command
    entries = (await asyncio.to_thread(card_read, path))["oplmnwact"]["value"]
    assert [e["plmn"] for e in entries[:2]] == ["460-00", "452-04"]
    assert len([e for e in entries if e.get("plmn")]) == 2, entries  # the old list is gone


async def test_an_stk_activation_provisions_the_menu_and_a_selection_sends_its_sms(
    path: OtaPath, tmp_path: Path
) -> None:
    async with (
        running(path, tmp_path, por_timeout=10.0) as gateway,
        httpx.AsyncClient(base_url=path.phone) as phone,
    ):
        record = await gateway.order("stk_activate", "stk-1")
        assert record.state is OrderState.COMPLETED, record.reason
        menu = (await phone.get("/menu")).json()
        assert menu == {
            "title": "中国移动",
            "items": [{"id": 1, "text": "话费查询"}, {"id": 2, "text": "携号转网查询"}],
        }
        [sent] = (await phone.post("/menu/1")).json()["sent"]
        assert (sent["to"], sent["text"], sent["by"]) == (SERVICE, "CXHF", "card")
        message = await asyncio.wait_for(gateway.mo.get(), 10)
    assert (message.source, message.destination, message.text) == (MSISDN, SERVICE, "CXHF")
    async with httpx.AsyncClient(base_url=path.smsc_admin, auth=("provgw", "provgw")) as smsc:
        at_smsc = (await smsc.get("/messages", params={"destination": SERVICE})).json()
    assert [m["text"] for m in at_smsc["messages"] if m["origin"] == "mobile"][-1] == "CXHF"


async def test_an_ota_order_whose_por_is_lost_completes_once_the_card_reads_back_updated(
    path: OtaPath, tmp_path: Path
) -> None:
    networks = [{"mcc": "440", "mnc": "10"}, {"mcc": "450", "mnc": "08"}]
    async with (
        running(path, tmp_path, por_timeout=2.0) as gateway,
        httpx.AsyncClient(base_url=path.smsc_admin, auth=("provgw", "provgw")) as smsc,
    ):
        await smsc.patch("/faults", json={"mo_loss_rate": 1.0})  # every PoR dies in the SMSC
        body = {"kind": "ota_update", "order_id": "ota-lost", "channel": "OUT001",
                "operator": "clerk1", "msisdn": NUMBER, "roaming_networks": networks}  # fmt: skip
        await gateway.engine.submit(parse_order(body))
        for _ in range(200):  # until the update's PoR has been waited for in vain
            lines = await gateway.engine.store.transcript("ota-lost")
            if lines:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(3.0)  # a read-back in vain too: its PoR is lost as well
        await smsc.patch("/faults", json={"mo_loss_rate": 0.0})
        await gateway.engine.drain()
        record = await gateway.engine.store.get("ota-lost")
        lines = await gateway.engine.store.transcript("ota-lost")
    assert record is not None and record.state is OrderState.COMPLETED, record
    assert (lines[0].outcome, lines[0].code) == ("unknown", "no-por")
    assert lines[-1].outcome == "ok" and "reconciled by reading back" in lines[-1].text
    assert sum(1 for t in lines if t.code == "no-por") == 1, "the update was sent once"
    entries = (await asyncio.to_thread(card_read, path))["oplmnwact"]["value"]
    assert [e["plmn"] for e in entries[:2]] == ["440-10", "450-08"]


async def provgw(url: str, *args: str) -> tuple[int, Any]:
    """`provgw …` as an operator runs it (in a process of its own: the API is served here)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", *args, "--url", url, "--json",
        "--channel", "OUT001", "--operator", "clerk1",
        stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return await process.wait(), json.loads(out) if out.strip() else None


async def test_the_ota_commands_place_orders_with_the_order_exit_codes(
    path: OtaPath, tmp_path: Path
) -> None:
    async with running(path, tmp_path, por_timeout=10.0) as gateway, served(gateway.engine) as url:
        code, done = await provgw(url, "ota", "update", NUMBER, "--spn", "CMCC HK",
                                  "--roaming", "454-12:e-utran+utran,454-00", "--wait")  # fmt: skip
        assert code == 0 and (done["kind"], done["state"]) == ("ota_update", "completed"), done
        code, bad = await provgw(url, "ota", "update", NUMBER, "--roaming", "4540-12")
        assert code == 2 and [e["field"] for e in bad["errors"]] == ["roaming_networks.0.mcc"]
        code, failed = await provgw(url, "ota", "stk-activate", "13900000009", "--wait")
        assert code == 1 and failed["reason"] == "number 13900000009 has no active line"
    files = await asyncio.to_thread(card_read, path)
    assert files["spn"]["value"]["name"] == "CMCC HK", files["spn"]
    assert [e["plmn"] for e in files["oplmnwact"]["value"][:2]] == ["454-12", "454-00"]
