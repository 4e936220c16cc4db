"""Instructions the gateway executes per open-account order: a yardstick that does not drift.

    .venv/bin/python bench/order_instructions.py [--small 300] [--large 1300]
                                                 [--no-access-control] [--json]

`provgw bench orders` measures orders per second, which is what the targets are stated in,
but on the shared virtual machine the same commit measures anywhere between 700 and 930 orders/s
within an hour. Comparing two builds of the gateway needs a figure that does not move with the
machine: this runs the same benchmark (`gateway.bench.run_bench`, real SSH to the HLR emulator
in its own process) under valgrind's cachegrind, twice — with ``--small`` and with ``--large``
orders — and divides the difference in instructions by the difference in orders, so start-up,
imports and seeding cancel out. Only the gateway process is counted (valgrind does not follow
the emulator). Repeated runs agree to about 0.1 %; one run takes about a minute.

Under valgrind the gateway runs ~10× slower than the emulator, so its event loop always finds
replies waiting and works in large batches: the count is per order at full load, a little
below what a loop that is sometimes idle spends. Needs valgrind (``apt install valgrind``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = """
import asyncio, sys
from gateway.bench import run_bench
asyncio.run(run_bench(int(sys.argv[1]), sessions=8, ne_latency_ms=0, window=256,
                      show_progress=False, access_control=sys.argv[2] == "1"))
"""


def instructions(orders: int, access_control: bool) -> int:
    """Instructions the gateway process executed for a whole benchmark run of ``orders``."""
    with tempfile.TemporaryDirectory(prefix="provgw-cachegrind-") as tmp:
        out = Path(tmp) / "cachegrind.out"
        run = subprocess.run(
            [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=no",
                f"--cachegrind-out-file={out}",
                sys.executable,
                "-c",
                _CHILD,
                str(orders),
                "1" if access_control else "0",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if run.returncode != 0 or found is None:
        sys.exit(f"the benchmark failed under valgrind:\n{run.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=300, help="orders in the first run")
    parser.add_argument("--large", type=int, default=1300, help="orders in the second run")
    parser.add_argument(
        "--no-access-control",
        dest="access_control",
        action="store_false",
        help="leave out the intake checks of channel, operator and hours (issue 2's path)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    if args.large <= args.small:
        parser.error("--large must be more than --small")
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt install valgrind)")
    small = instructions(args.small, args.access_control)
    large = instructions(args.large, args.access_control)
    per_order = (large - small) / (args.large - args.small)
    result = {
        "instructions_per_order": round(per_order),
        "orders": [args.small, args.large],
        "instructions": [small, large],
        "access_control": args.access_control,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{per_order / 1e6:.3f} million instructions per open-account order (gateway)")


if __name__ == "__main__":
    main()
