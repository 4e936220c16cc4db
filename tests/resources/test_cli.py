"""The resource commands against a real HTTP server, with their exit codes."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gateway.api import create_app
from gateway.cli import main
from gateway.config import load_config
from gateway.engine import Engine
from gateway.resources.demo import DEMO_PASSWORDS
from gateway.resources.service import Resources
from gateway.store import SqliteStore
from tests.resources.conftest import served
from tests.resources.test_vendor_file import extended_line, iccid, vendor_file


@pytest.fixture
async def url(demo: Resources, store: SqliteStore) -> AsyncIterator[str]:
    app = create_app(Engine(store, load_config(None), {}), demo)
    async with served(app) as found:
        yield found


async def provgw(
    url: str,
    *args: str,
    operator: str = "clerk1",
    password: str | None = None,
    channel: str = "OUT001",
) -> Result:
    env = {
        "PROVGW_URL": url,
        "PROVGW_OPERATOR": operator,
        "PROVGW_PASSWORD": password or DEMO_PASSWORDS[operator],
        "PROVGW_CHANNEL": channel,
        "COLUMNS": "200",
    }
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


async def test_search_hold_and_conflict(url: str) -> None:
    found = await provgw(
        url, "numbers", "search", "--pattern", "1380000?888", "--available", "--json"
    )
    assert found.exit_code == 0, found.output
    assert [n["msisdn"] for n in json.loads(found.output)][:2] == ["13800000888", "13800001888"]
    no_channel = await provgw(url, "numbers", "hold", "13800008888", channel="")
    assert no_channel.exit_code == 2 and "--channel" in no_channel.output
    held = await provgw(url, "numbers", "hold", "13800008888", "--channel", "OUT001", "--json")
    assert held.exit_code == 0, held.output
    hold = json.loads(held.output)
    assert hold["fee_rule"] == "tail AAAA"
    taken = await provgw(
        url, "numbers", "hold", "13800008888", "--channel", "OUT001", operator="admin1"
    )
    assert taken.exit_code == 4 and "held (预占) by clerk1" in taken.output
    released = await provgw(url, "numbers", "release", "13800008888", "--token", hold["token"])
    assert released.exit_code == 0 and "released" in released.output
    table = await provgw(url, "numbers", "search", "--contains", "8888", "--limit", "3")
    assert table.exit_code == 0 and "13800008888" in table.output and "tail AAAA" in table.output
    shown = await provgw(url, "numbers", "hold", "13800001888", "--channel", "OUT001")
    assert shown.exit_code == 0, shown.output
    assert re.search(r"fee +¥200\.00\n", shown.output), shown.output  # the clerk's terms
    assert re.search(r"expires_at +2026-11-23 10:30 Asia/Shanghai", shown.output)


async def test_exit_codes_for_refusals(url: str) -> None:
    wrong = await provgw(url, "numbers", "show", "13800000001", password="not-the-password")
    assert wrong.exit_code == 6 and "wrong operator or password" in wrong.output
    role = await provgw(url, "numbers", "import", "--prefix", "1390000")
    assert role.exit_code == 6 and "stock permission" in role.output
    bad = await provgw(url, "numbers", "import", "--prefix", "2390000", operator="engineer1")
    assert bad.exit_code == 2 and "11 digits starting 13–19" in bad.output
    missing = await provgw(url, "numbers", "show", "13700000000")
    assert missing.exit_code == 3 and "not in the pool" in missing.output
    gone = await provgw("http://127.0.0.1:9", "numbers", "show", "13800000001")
    assert gone.exit_code == 5 and "cannot reach the gateway" in gone.output


async def test_vendor_file_import_with_a_bad_line(url: str, tmp_path: Path) -> None:
    lines = [extended_line(n) for n in range(1, 6)]
    good = tmp_path / "batch.out"
    good.write_text(vendor_file(lines, batch="CLI1"))
    bad = tmp_path / "bad.out"
    bad.write_text(
        vendor_file([*lines[:3], lines[3].replace(iccid(4), iccid(2)), lines[4]], batch="CLI1")
    )
    refused = await provgw(url, "sims", "import", str(bad), operator="engineer1")
    assert refused.exit_code == 2
    assert f"line 5: ICCID {iccid(2)} repeats line 3" in refused.output
    done = await provgw(url, "sims", "import", str(good), operator="engineer1")
    assert done.exit_code == 0, done.output
    assert "CLI1" in done.output and "personalised" in done.output
    listed = await provgw(url, "sims", "list", "--batch", "CLI1", "--json")
    assert [c["iccid"] for c in json.loads(listed.output)] == [iccid(n) for n in range(1, 6)]
    assert f"{1:032x}" not in listed.output


async def test_customers_and_channels(url: str) -> None:
    registered = await provgw(
        url,
        "customers",
        "register",
        "--id-number",
        "11010519491231002X",
        "--name",
        "王小明",
        "--json",
    )
    assert registered.exit_code == 0, registered.output
    customer = json.loads(registered.output)
    assert customer["missing"] == ["address", "contact"]
    incomplete = await provgw(url, "customers", "may-open", str(customer["id"]))
    assert incomplete.exit_code == 6 and "incomplete" in incomplete.output
    added = await provgw(
        url, "channels", "add", "--kind", "bank", "--name", "ICBC Wangfujing",
        "--city", "Beijing", "--area", "Dongcheng",
        "--hours", "mon-fri 09:00-17:00", "--hours", "sat 10:00-12:00", "--json",
        operator="admin1",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    channel = json.loads(added.output)
    assert channel["id"] == "BNK001"
    assert (
        channel["hours_text"] == "mon–fri 09:00-17:00; sat 10:00-12:00; sun closed (Asia/Shanghai)"
    )
    bad_hours = await provgw(
        url, "channels", "change", "BNK001", "--hours", "someday 09:00-17:00", operator="admin1"
    )
    assert bad_hours.exit_code == 2 and "days are mon … sun" in bad_hours.output
    trail = await provgw(url, "audit", "--on", "BNK001", "--json", operator="admin1")
    assert [a["action"] for a in json.loads(trail.output)] == ["create channel"]
