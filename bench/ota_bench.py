"""OTA benchmark: card updates over the air and MO messages, through the whole path.

    .venv/bin/python bench/ota_bench.py [--updates 100] [--menus 20] [--texts 100]
                                        [--orders 100] [--json]

Starts the path as separate processes (`bench.ota_path`: card reader emulator with its private
pcscd, SMSC emulator, emulated handset) and the gateway's side in this process, as
`gateway.runtime` builds it (SMSC element and OTA target on one SMPP bind). Measures:

* **OTA update, submitted → PoR verified**: `OtaTransport.execute` of an `OtaUpdate` — the
  counter reserved in SQLite, the secured packet submitted over SMPP, the SMSC delivering it to
  the handset, the ENVELOPE through pcscd to the card, the card's PoR back as MO through the
  SMSC, verified — for an EF.OPLMNwAcT list (the lists alternate, so each update changes the
  card), and for the STK menu file (8 records: several SMS each way); SMS per update counted
  both ways;
* **OTA order, accepted → PoR verified**: `ota_update` orders (an EF.OPLMNwAcT list each)
  through a running gateway (`bench.ota_path.order_gateway`: engine, SIM stock, OTA target),
  from `Engine.submit` (the order durably accepted) until the order is completed — planning
  with the card's keys from the stock, the step's intent, the update as above, its PoR, the
  outcome and completion recorded; SMS per order counted at the SMSC (submit_sm and MO);
* **MO round trip, transport part**: a text the subscriber sends on the handset (its control
  API) until the gateway's MO handler has it (deliver_sm in, reassembled, handed over).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from ota_path import (
    ICCID,
    KIC,
    KID,
    MSISDN,
    NUMBER,
    SERVICE,
    OtaPath,
    gateway_config,
    order_gateway,
    ota_path,
)

from gateway.network import MobileOriginated, build_targets, close_targets
from gateway.operations import (
    MenuEntry,
    OtaCard,
    OtaKeys,
    OtaUpdate,
    PlmnEntry,
    RoamingListFile,
    StkMenuFile,
)
from gateway.orders import parse_order
from gateway.store import OrderState

CARD = OtaCard(iccid=ICCID, msisdn=MSISDN, keys=OtaKeys(version=1, kic=KIC, kid=KID))
LISTS = [
    RoamingListFile(networks=(PlmnEntry(mcc="460", mnc="01"), PlmnEntry(mcc="454", mnc="00"))),
    RoamingListFile(networks=(PlmnEntry(mcc="310", mnc="410"), PlmnEntry(mcc="450", mnc="05"))),
]
MENU = StkMenuFile(
    title="中国移动",
    items=tuple(
        MenuEntry(id=n, label=label, destination=SERVICE, text=text)
        for n, (label, text) in enumerate(
            [("话费查询", "CXHF"), ("流量查询", "CXLL"), ("携号转网查询", "CXXZ")], start=1
        )
    ),
)


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(ordered[max(int(len(ordered) * 0.95) - 1, 0)], 1),
        "max": round(ordered[-1], 1),
    }


async def updates(targets: Any, files: list[Any], count: int) -> dict[str, Any]:
    elapsed, sms = [], []
    for n in range(count):
        reply = await targets.execute("ota", OtaUpdate(card=CARD, files=(files[n % len(files)],)))
        if not reply.ok:
            raise RuntimeError(f"update {n} failed: {reply.code} {reply.text}")
        elapsed.append(reply.elapsed_ms)
        sms.append(int(reply.fields["sms_sent"]) + int(reply.fields["sms_received"]))
    return {"updates": count, "ms": quantiles(elapsed), "sms_per_update": statistics.mean(sms)}


async def orders(path: OtaPath, workdir: Path, count: int) -> dict[str, Any]:
    elapsed = []
    async with (
        order_gateway(path, workdir, 10.0, MENU) as engine,
        httpx.AsyncClient(base_url=path.smsc_admin, auth=("provgw", "provgw")) as smsc,
    ):
        before = (await smsc.get("/status")).json()
        for n in range(-3, count):  # three to warm up
            networks = [e.model_dump(exclude_none=True) for e in LISTS[n % len(LISTS)].networks]
            order = parse_order(
                {"kind": "ota_update", "order_id": f"bench-{n + 3}", "channel": "OUT001",
                 "operator": "clerk1", "msisdn": NUMBER, "roaming_networks": networks}
            )  # fmt: skip
            if n == 0:
                before = (await smsc.get("/status")).json()
            started = time.perf_counter()
            await engine.submit(order)
            await engine.drain()
            took = (time.perf_counter() - started) * 1000.0
            record = await engine.store.get(order.order_id, full=False)
            if record is None or record.state is not OrderState.COMPLETED:
                raise RuntimeError(f"order {order.order_id} did not complete: {record}")
            if n >= 0:
                elapsed.append(took)
        after = (await smsc.get("/status")).json()
    sms = sum(after[k] - before[k] for k in ("submit_sm", "mo_received"))
    return {"orders": count, "ms": quantiles(elapsed), "sms_per_update": sms / count}


async def texts(path: OtaPath, received: asyncio.Queue[MobileOriginated], count: int) -> Any:
    elapsed = []
    async with httpx.AsyncClient(base_url=path.phone) as phone:
        for n in range(count):
            started = time.perf_counter()
            response = await phone.post("/sms", json={"to": SERVICE, "text": f"CXXZ#{n}"})
            response.raise_for_status()
            message = await asyncio.wait_for(received.get(), 10)
            elapsed.append((time.perf_counter() - started) * 1000.0)
            assert message.text == f"CXXZ#{n}", message
    return {"texts": count, "ms": quantiles(elapsed)}


async def run(args: argparse.Namespace, path: OtaPath, workdir: Path) -> dict[str, Any]:
    received: asyncio.Queue[MobileOriginated] = asyncio.Queue()
    config = gateway_config(path, workdir / "gw.db", por_timeout=10.0)
    targets = build_targets(config, mobile_originated=received.put, listen=True)
    try:
        await updates(targets, LISTS, 3)  # warm-up: bind, card session, caches
        roaming = await updates(targets, LISTS, args.updates)
        menu = await updates(targets, [MENU], args.menus)
        mo = await texts(path, received, args.texts)
    finally:
        await close_targets(targets)
    # The orders' gateway opens its own bind: one gateway at a time, as MO goes to one bind.
    placed = await orders(path, workdir, args.orders)
    return {
        "ota_update_order": placed,
        "ota_update_oplmnwact": roaming,
        "ota_update_stk_menu": menu,
        "mo_to_handler": mo,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=100, help="EF.OPLMNwAcT updates")
    parser.add_argument("--menus", type=int, default=20, help="STK menu updates")
    parser.add_argument("--texts", type=int, default=100, help="MO texts from the handset")
    parser.add_argument("--orders", type=int, default=100, help="ota_update orders")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="provgw-ota-bench-") as scratch,
        ota_path(Path(scratch)) as path,
    ):
        result = asyncio.run(run(args, path, Path(scratch)))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name in ("ota_update_oplmnwact", "ota_update_stk_menu"):
        part = result[name]
        ms = part["ms"]
        print(
            f"{name}: {part['updates']} updates, median {ms['median']} ms, p95 {ms['p95']} ms, "
            f"max {ms['max']} ms, {part['sms_per_update']:.1f} SMS per update (both ways)"
        )
    part = result["ota_update_order"]
    ms = part["ms"]
    print(
        f"ota_update orders, accepted → PoR verified (completed): {part['orders']} orders, "
        f"median {ms['median']} ms, p95 {ms['p95']} ms, max {ms['max']} ms, "
        f"{part['sms_per_update']:.1f} SMS per order at the SMSC"
    )
    ms = result["mo_to_handler"]["ms"]
    print(f"MO text → gateway handler: median {ms['median']} ms, p95 {ms['p95']} ms")
    print(f"{result['machine']}, Python {result['python']}, {result['date']}")


if __name__ == "__main__":
    main()
