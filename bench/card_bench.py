"""Card benchmark: write + read-back + AUTHENTICATE proof per card through the real PC/SC chain.

    .venv/bin/python bench/card_bench.py [--cards 50] [--model sja2|provgw] [--in-process] [--json]
    .venv/bin/python bench/card_bench.py --ota 200 [--in-process] [--json]

Starts a private pcscd with a vpcd reader (emulators.usim.pcscd: nothing system-wide is
touched), puts a blank emulated card in the slot, and writes one profile per card — pySim-prog's
default sysmoISIM-SJA2 profile (SPN, IMSI, PLMN files, AD, SMSP, MSISDN, Ki/OPc, EHPLMN, UST),
with fresh keys per card — through pyscard → pcscd → vpcd → emulator, exactly the path of a
physical reader. Each card is a fresh blank card swapped into the slot (the clerk's insertion
time is not part of the figure). Reports APDUs and milliseconds per card; the issue's target is
≤ 60 APDUs and ≤ 150 ms, against pySim-prog's 124 APDUs (without ICCID, read-back or proof).

With `--ota N`: SCP80 packets per second in-process (the sender securing a command packet, the
card unwrapping it and securing its PoR, the sender verifying the PoR — AES-128 and 3DES), and
N OTA updates of EF.OPLMNwAcT through the chain as a handset drives it: counter reserved in
SQLite, SMS-PP download ENVELOPE, PoR fetched from the card's SEND SHORT MESSAGE, verified.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from emulators.usim.card import UsimCard
from emulators.usim.pcscd import PrivatePcscd, missing_components
from simcard import rfm
from simcard.batch import generate
from simcard.ota import OtaCard, prepare, read_por
from simcard.ota_counters import SqliteCounters
from simcard.ota_keys import KeySet
from simcard.plmn import Plmn, PlmnAct, PlmnActList, parse_act
from simcard.profile import CardProfile
from simcard.secured_packet import (
    Por,
    PorStatus,
    unwrap_command,
    unwrap_response,
    wrap_command,
    wrap_response,
)
from simcard.sms_pp import Reassembler
from simcard.toolkit import Toolkit
from simcard.transport import InProcessTransport, PcscTransport, Transport
from simcard.writer import write_card

ADM1 = "12345678"  # the emulator's blank-card ADM1


def profiles(count: int) -> list[CardProfile]:
    """pySim-prog's defaults (name "Magic", MCC 901 MNC 55 → here 001/01) with fresh keys."""
    template = {"spn": "Magic", "smsc": "+8613800100500", "msisdn": "+77776336143", "adm1": ADM1}
    return generate(count, "001010000000001", "8988211000000000011", template=template)


def run_card(transport: Transport, profile: CardProfile) -> dict[str, float]:
    started = time.perf_counter()
    transport.connect()
    report = write_card(transport, profile)
    transport.disconnect()
    total = (time.perf_counter() - started) * 1000
    assert report.proof is not None
    return {"apdus": report.apdus, "write_ms": report.elapsed_ms, "total_ms": total}


def bench_pcsc(count: int, model: str) -> list[dict[str, float]]:
    missing = missing_components()
    if missing:
        sys.exit(f"card_bench: not installed: {', '.join(missing)}")
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="card-bench-") as workdir,
        PrivatePcscd(Path(workdir)) as pcsc,
    ):
        pcsc.insert(UsimCard.blank(model=model), slot=0)
        for i, profile in enumerate(profiles(count)):
            if i and not pcsc.swap(UsimCard.blank(model=model), slot=0):
                pcsc.insert(UsimCard.blank(model=model), slot=0)
            results.append(run_card(PcscTransport(pcsc.reader_name(0)), profile))
    return results


def bench_in_process(count: int, model: str) -> list[dict[str, float]]:
    return [run_card(InProcessTransport(UsimCard.blank(model=model)), p) for p in profiles(count)]


def stats(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return {
        "median": round(statistics.median(values), 2),
        "mean": round(statistics.fmean(values), 2),
        "p95": round(p95, 2),
        "max": round(values[-1], 2),
    }


OTA_KEYS = {
    "AES-128": KeySet.aes(1, bytes(range(16)), bytes(range(16, 32))),
    "3DES": KeySet.tdes(2, bytes(range(32, 48)), bytes(range(48, 64))),
}
OPLMN = PlmnActList("EF.OPLMNwAcT").encode(
    (PlmnAct(Plmn("460", "01"), parse_act("E-UTRAN+UTRAN+GSM")),), 60
)
OTA_COMMANDS = [rfm.select(0x6F61), rfm.update_binary(OPLMN)]


def scp80_rate(keys: KeySet, seconds: float = 1.0) -> float:
    """Command packet secured, unwrapped by the card, PoR secured and verified: per second."""
    card = OtaCard("8988211000000467343", keys)
    data = rfm.script(OTA_COMMANDS)
    done, counter, started = 0, 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        counter += 1
        packet = unwrap_command(wrap_command(keys, card.spi, card.tar, counter, data), keys)
        por = Por(card.tar, packet.counter, PorStatus.OK, b"\x02\x90\x00")
        unwrap_response(wrap_response(keys, card.spi, por), keys, card.spi)
        done += 1
    return done / (time.perf_counter() - started)


def ota_update(
    toolkit: Toolkit, card: OtaCard, counters: SqliteCounters, n: int
) -> dict[str, float]:
    started = time.perf_counter()
    request = prepare(card, OTA_COMMANDS, counters, reference=n & 0xFF)
    joiner, por, sms_back = Reassembler(), b"", 0
    for tpdu in request.deliver_tpdus("+8613800138000", datetime.datetime.now(datetime.UTC)):
        for message in toolkit.download_sms(tpdu).messages:
            sms_back += 1
            whole = joiner.add(message.user_data, message.destination)
            if whole is not None:
                por = whole.single_message_form()
    assert read_por(request, por).done
    elapsed = (time.perf_counter() - started) * 1000
    return {"ms": elapsed, "sms": len(request.messages) + sms_back}


def bench_ota(count: int, in_process: bool) -> dict[str, Any]:
    keys = OTA_KEYS["AES-128"]
    card = OtaCard("8988211000000467343", keys)
    results = []
    with tempfile.TemporaryDirectory(prefix="ota-bench-") as workdir:
        counters = SqliteCounters(Path(workdir) / "ota.sqlite")
        emulated = UsimCard.blank(ota_keys=[keys])
        if in_process:
            transport: Transport = InProcessTransport(emulated)
            transport.connect()
            toolkit = Toolkit(transport)
            toolkit.start()
            results = [ota_update(toolkit, card, counters, n) for n in range(count)]
        else:
            missing = missing_components()
            if missing:
                sys.exit(f"card_bench: not installed: {', '.join(missing)}")
            with PrivatePcscd(Path(workdir) / "pcscd") as pcsc:
                pcsc.insert(emulated, slot=0)
                pcsc_transport = PcscTransport(pcsc.reader_name(0))
                pcsc_transport.connect()
                toolkit = Toolkit(pcsc_transport)
                toolkit.start()
                results = [ota_update(toolkit, card, counters, n) for n in range(count)]
                pcsc_transport.disconnect()
    return {
        "scp80_packets_per_s": {name: round(scp80_rate(k)) for name, k in OTA_KEYS.items()},
        "updates": count,
        "path": "in-process" if in_process else "pyscard → pcscd → vpcd → emulator",
        "update_ms": stats([r["ms"] for r in results]),
        "sms_per_update": sorted({int(r["sms"]) for r in results}),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }


def summary(results: list[dict[str, float]], args: argparse.Namespace) -> dict[str, Any]:
    return {
        "cards": len(results),
        "model": args.model,
        "path": "in-process" if args.in_process else "pyscard → pcscd → vpcd → emulator",
        "apdus_per_card": sorted({int(r["apdus"]) for r in results}),
        "write_readback_verify_ms": stats([r["write_ms"] for r in results]),
        "with_connect_ms": stats([r["total_ms"] for r in results]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=50, help="cards to write (default 50)")
    parser.add_argument("--model", choices=["sja2", "provgw"], default="sja2")
    parser.add_argument(
        "--in-process", action="store_true", help="skip pcscd: call the emulator directly"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--ota", type=int, metavar="N", help="instead: SCP80 packets/s and N OTA updates"
    )
    args = parser.parse_args()
    if args.ota:
        ota = bench_ota(args.ota, args.in_process)
        if args.json:
            print(json.dumps(ota, indent=2, ensure_ascii=False))
            return
        rates = ", ".join(f"{k} {v}/s" for k, v in ota["scp80_packets_per_s"].items())
        u = ota["update_ms"]
        print(f"SCP80 in-process (secure, card unwraps and answers, PoR verified): {rates}")
        print(f"{ota['updates']} OTA updates of EF.OPLMNwAcT, {ota['path']}")
        print(f"per update: median {u['median']} ms, p95 {u['p95']} ms, max {u['max']} ms")
        print(f"SMS per update (down + PoR back): {ota['sms_per_update']}")
        print(f"{ota['machine']}; Python {ota['python']}; {ota['date']}")
        return
    run = bench_in_process if args.in_process else bench_pcsc
    result = summary(run(args.cards, args.model), args)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    w, t = result["write_readback_verify_ms"], result["with_connect_ms"]
    print(f"{result['cards']} cards, model {result['model']}, {result['path']}")
    print(f"APDUs per card: {result['apdus_per_card']}")
    print(
        f"write + read-back + verify: median {w['median']} ms, p95 {w['p95']} ms, max {w['max']} ms"
    )
    print(f"including connect/disconnect: median {t['median']} ms, p95 {t['p95']} ms")
    print(f"{result['machine']}; Python {result['python']}; {result['date']}")


if __name__ == "__main__":
    main()
