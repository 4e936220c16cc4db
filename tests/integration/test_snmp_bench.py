"""bench/snmp_poll.py runs as documented: every poll answered, the costs reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "snmp_poll.py"


def test_the_poll_benchmark_polls_every_ne_and_reports_its_costs() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--nes", "3", "--rounds", "2", "--alarms", "9", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert (result["nes"], result["polls"], result["alarms_per_ne"]) == (3, 6, 9)
    assert result["manager_cpu_ms_per_poll"] > 0 and result["agent_cpu_ms_per_poll"] > 0
