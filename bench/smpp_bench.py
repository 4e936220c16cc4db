"""SMPP benchmark: submit_sm per second through the adapter (`SmppClient`) to the SMSC emulator.

    .venv/bin/python bench/smpp_bench.py [--messages 20000] [--window 10] [--receipts]
                                         [--chinese] [--in-process] [--json]

By default the emulator runs as its own process (`python -m emulators.smsc`), as an SMSC would
be on another host, so the client and the server each have a core of the 2-core machine. The
client binds once as a transceiver and keeps every message of the run queued (the gateway
with many notifications due), so the window — submit_sm awaiting their response — is the only
limit. `--receipts` asks for delivery receipts (a deliver_sm and its response per message on
top of the submit); `--chinese` sends 60-character UCS-2 texts instead of short GSM ones.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any

from adapters.smpp.client import DeliveryReceipt, SmppClient, SmppSettings
from emulators.smsc import Faults, SmscEmulator

GSM_TEXT = "Recharge successful: 50 CNY added to 13800138000. Balance: 73.20 CNY."
CHINESE_TEXT = (
    "充值成功：您的号码13800138000已充值50元，当前余额73.20元。感谢您的使用，祝您生活愉快！"
)


async def run(args: argparse.Namespace, port: int) -> dict[str, Any]:
    receipts = 0
    done = asyncio.Event()

    def on_receipt(receipt: DeliveryReceipt) -> None:
        nonlocal receipts
        receipts += 1
        if receipts >= args.messages:
            done.set()

    settings = SmppSettings(
        port=port,
        system_id="provgw",
        password="provgw",  # noqa: S106 - the emulator's default account
        window=args.window,
        registered_delivery=1 if args.receipts else 0,
        submit_timeout=300,
    )
    text = CHINESE_TEXT if args.chinese else GSM_TEXT

    async def one(n: int, phase: str) -> float:
        number, reference = f"86138{n:08d}", f"{phase}-{n}"  # a reference names one message
        result = await client.submit(number, text, sender="provgw", reference=reference)
        assert result.ok, result
        return result.elapsed_ms

    async with SmppClient(settings, on_receipt=on_receipt) as client:
        await client.wait_bound(5)
        await asyncio.gather(
            *(one(n, "warm-up") for n in range(min(200, args.messages)))
        )  # warm-up
        receipts = 0
        done.clear()
        started = time.perf_counter()
        await asyncio.gather(*(one(n, "run") for n in range(args.messages)))
        submitted = time.perf_counter() - started
        if args.receipts:
            await asyncio.wait_for(done.wait(), 60)
        total = time.perf_counter() - started
        # One at a time: the round trip of a submit_sm with nothing queued before it.
        alone = sorted([await one(n, "alone") for n in range(200)])
    return {
        "messages": args.messages,
        "window": args.window,
        "text": "UCS-2" if args.chinese else "GSM 7-bit",
        "receipts": args.receipts,
        "emulator": "in-process" if args.in_process else "separate process",
        "submit_sm_per_s": round(args.messages / submitted),
        "with_receipts_per_s": round(args.messages / total) if args.receipts else None,
        "round_trip_ms_median": round(statistics.median(alone), 3),
        "round_trip_ms_p99": round(alone[int(len(alone) * 0.99) - 1], 3),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }


async def in_process(args: argparse.Namespace) -> dict[str, Any]:
    faults = Faults(receipt_delay_ms=0)
    async with SmscEmulator(port=0, admin_port=None, faults=faults) as smsc:
        return await run(args, smsc.port)


def separate_process(args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, "-m", "emulators.smsc", "--port", "0", "--no-admin", "--json"]
    command += ["--receipt-delay-ms", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = json.loads(process.stdout.readline())["port"]
        return asyncio.run(run(args, port))
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--receipts", action="store_true", help="ask for delivery receipts")
    parser.add_argument("--chinese", action="store_true", help="UCS-2 texts")
    parser.add_argument("--in-process", action="store_true", help="emulator in the same loop")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    result = asyncio.run(in_process(args)) if args.in_process else separate_process(args)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    for key, value in result.items():
        print(f"{key:>20}: {value}")


if __name__ == "__main__":
    main()
