"""The benchmarks run what they say: every order through the gateway to a real NE, completed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest


def _bench(*args: str, which: str = "orders", n: int = 40) -> dict[str, object]:
    run = subprocess.run(
        [sys.executable, "-m", "gateway", "bench", which, "-n", str(n), "--json", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result: dict[str, object] = json.loads(run.stdout)
    return result


def test_every_order_completes_and_the_emulator_gets_a_core_of_its_own() -> None:
    result = _bench("--ne-latency-ms", "2")
    assert (result["orders"], result["completed"]) == (40, 40)
    assert result["bound_orders_per_s"] == 1333.3  # 8 sessions ÷ 2 ms ÷ 3 commands
    assert result["pinned"] is (len(os.sched_getaffinity(0)) >= 2)


def test_no_pin_leaves_the_cores_to_the_scheduler() -> None:
    result = _bench("--no-pin", "--no-access-control")
    assert (result["completed"], result["pinned"], result["access_control"]) == (40, False, False)


def test_the_osmo_hlr_bench_runs_every_order_through_the_gateway() -> None:
    if shutil.which("osmo-hlr") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("osmo-hlr is required under CI (scripts/install-system-deps installs it)")
        pytest.skip("osmo-hlr not installed")
    run = subprocess.run(
        [sys.executable, "-m", "gateway", "bench", "osmo", "-n", "30", "--rounds", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    (only,) = json.loads(run.stdout)["rounds"]
    assert (only["gateway_completed"], only["direct_errors"]) == (30, 0)
    assert only["gateway_orders_per_s"] > 0


def test_the_bus_bench_runs_every_order_over_the_bus_and_directly() -> None:
    if shutil.which("mosquitto", path="/usr/sbin:/usr/bin") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mosquitto (Debian package mosquitto) is required under CI")
        pytest.skip("mosquitto (Debian package mosquitto) not installed")
    result = _bench(which="bus", n=50)
    assert (result["orders"], result["bus_completed"]) == (50, 50)
    assert result["bus_orders_per_s"] > 0 and result["direct_orders_per_s"] > 0
