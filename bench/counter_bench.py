"""Counter benchmark: from "card inserted" to "order completed and proven", in the demo setup.

    .venv/bin/python bench/counter_bench.py [--orders 20] [--json]

Starts what `make run` starts for the counter: a private pcscd with a vpcd reader and the USIM
emulator (emulators.usim.pcscd), the HLR/HSS emulator in its own process (real SSH), and the
gateway's engine with a SQLite store and a card station on that reader. For each order a fresh
blank card goes into the reader, and the clock runs from the moment pcscd reports it present
to the moment the open-account order is completed and proven (write card → ADD KI → ADD TPLSUB
→ MOD TPLGPRS → vector from the HLR's AuC → AUTHENTICATE → RES = XRES). Target: ≤ 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from emulators.usim.pcscd import PrivatePcscd, missing_components
from gateway.config import CardStationConfig, load_config
from gateway.identifiers import luhn_check_digit
from gateway.orders import OpenAccount, parse_order
from gateway.resources.demo import seed_demo
from gateway.resources.service import Resources
from gateway.runtime import emulator_ne, hlr_emulator_process, running_gateway
from gateway.store import OrderState

CUSTOMER = {
    "name": "Bench",
    "id_number": "11010519491231002X",
    "address": "Benchmark Road 1",
    "contact": "13900000000",
}


def counter_order(i: int) -> OpenAccount:
    body = f"898600{i:012d}"
    order = parse_order(
        {
            "kind": "open_account",
            "order_id": f"counter-{i}",
            "channel": "OUT001",
            "operator": "clerk1",
            "msisdn": f"138{i:08d}",
            "imsi": f"46000{i:010d}",
            "iccid": body + str(luhn_check_digit(body)),
            "product": "4g-basic",
            "customer": CUSTOMER,
            "card": {"station": "counter-1"},
        }
    )
    assert isinstance(order, OpenAccount)
    return order


async def bench(count: int, workdir: Path) -> list[float]:
    timings: list[float] = []
    with PrivatePcscd(workdir / "pcsc") as pcsc:
        async with hlr_emulator_process() as hlr:
            station = CardStationConfig(
                name="counter-1", reader=pcsc.reader_name(0), blank_adm1="12345678"
            )
            config = load_config(None).model_copy(
                update={
                    "database": workdir / "counter.db",
                    "secret_key_file": workdir / "secret.key",
                    "network_elements": [emulator_ne(hlr)],
                    "card_stations": [station],
                }
            )
            async with running_gateway(config, create_key=True) as engine:
                await seed_demo(engine.store)  # the outlet OUT001, its clerk, its numbers
                numbers = Resources.open(engine.store).numbers
                for i in range(1, count + 1):
                    order = counter_order(i)
                    await numbers.hold(order.msisdn, "clerk1", "OUT001")  # 预占, before the card
                    await asyncio.to_thread(pcsc.insert)  # returns once pcscd sees the card
                    started = time.perf_counter()
                    await engine.submit(order)
                    await engine.drain()
                    rec = await engine.store.get(order.order_id, full=False)
                    assert rec is not None and rec.state is OrderState.COMPLETED, rec
                    timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    missing = missing_components()
    if missing:
        sys.exit(f"counter_bench: not installed: {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="counter-bench-") as tmp:
        timings = asyncio.run(bench(args.orders, Path(tmp)))
    result = {
        "orders": len(timings),
        "inserted_to_proven_ms_median": round(statistics.median(timings), 1),
        "inserted_to_proven_ms_p95": round(sorted(timings)[int(0.95 * (len(timings) - 1))], 1),
        "inserted_to_proven_ms_max": round(max(timings), 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:32} {value}")


if __name__ == "__main__":
    main()
