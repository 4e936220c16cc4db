"""A database made by provgw before migrations existed upgrades in place, nothing lost.

``tests/fixtures/provgw-489b79c.db`` was made by the code of main at 489b79c (the last commit
before versioned migrations): the demo's channel, operators, fee rules and blank cards, a block
of 100 numbers, a registered customer; orders completed (three open-account orders taking held
numbers, a suspension), one compensated, one refused at the NE, and three left unfinished —
accepted, mid-plan with its first intent recorded, waiting for an NE — leased to a gateway that
is gone. Its key is ``bytes(range(32))``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import GatewayConfig
from gateway.engine import Engine
from gateway.store import OrderState, SqliteStore
from gateway.store.migrations import latest, migrations
from gateway.vault import Vault
from tests.gateway.conftest import KEY
from tests.gateway.fake_ne import FakeNe

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "provgw-489b79c.db"
OUTAGE_COLUMNS = ("waiting_for", "waiting_since", "deadline_at", "note")


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    path = tmp_path / "provgw.db"
    shutil.copy(FIXTURE, path)
    return path


def snapshot(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table the old code made, as it made them (tables that later
    migrations add are not the old code's)."""
    with sqlite3.connect(path) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                " AND name NOT IN ('schema_version', 'bus_outbox') ORDER BY name"
            )
        ]
        out = {}
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            if table == "orders":
                columns = [c for c in columns if c != "lease_epoch"]
            rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1, 2")  # noqa: S608
            out[table] = rows.fetchall()
    return out


async def test_a_file_made_by_main_at_489b79c_upgrades_in_place_with_nothing_lost(
    old_db: Path, config: GatewayConfig
) -> None:
    before = snapshot(old_db)
    assert before["orders"] and before["numbers"] and before["customers"] and before["audit"]
    async with SqliteStore(old_db, Vault(KEY)) as store:
        assert store.upgraded is not None
        assert (store.upgraded.before, store.upgraded.after) == (0, latest("sqlite"))
        assert await store.counts() == {
            "completed": 5,
            "compensated": 1,
            "accepted": 2,
            "waiting_for_ne": 1,
        }
        done = await store.get("done-1")
        assert done is not None and done.plan is not None and done.order is not None
        assert done.order.ki.get_secret_value() == "465b5ce8b199b49faa5f0a2ee238a6bc"  # type: ignore[union-attr]
        assert [s.state.value for s in done.steps] == ["done"] * len(done.plan.steps)
        assert len(await store.transcript("done-1")) == len(done.plan.steps)
        assert len(await store.all_lines()) == 4
    assert snapshot(old_db) == before, "the upgrade changed or lost a row"
    with sqlite3.connect(old_db) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version")]
        epochs = {r[0] for r in conn.execute("SELECT lease_epoch FROM orders")}
    assert versions == [m.version for m in migrations("sqlite")] and epochs == {0}


async def test_the_unfinished_orders_of_the_old_file_run_to_their_end(
    old_db: Path, config: GatewayConfig
) -> None:
    async with SqliteStore(old_db, Vault(KEY)) as store:
        await store.release_leases("ghost:1")  # the gateway that left them is gone
        engine = Engine(store, config, {"hlr1": FakeNe()})
        await engine.start()
        await engine.drain()
        await engine.stop()
        for order_id in ("accepted-1", "midway-1", "waiting-1"):
            rec = await store.get(order_id)
            assert rec is not None and rec.state is OrderState.COMPLETED, order_id


async def test_a_file_from_before_outage_handling_gains_its_columns(old_db: Path) -> None:
    with sqlite3.connect(old_db) as conn:
        for column in OUTAGE_COLUMNS:
            conn.execute(f"ALTER TABLE orders DROP COLUMN {column}")
    async with SqliteStore(old_db, Vault(KEY)) as store:
        assert await store.counts() != {}
    with sqlite3.connect(old_db) as conn:
        have = {r[1] for r in conn.execute("PRAGMA table_info(orders)")}
    assert set(OUTAGE_COLUMNS) <= have


def provgw(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )


def test_db_upgrade_migrates_once_and_says_what_it_did(old_db: Path) -> None:
    first = provgw("db", "upgrade", "--database", str(old_db), "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {
        "database": str(old_db),
        "backend": "sqlite",
        "before": 0,
        "after": latest("sqlite"),
        "applied": [m.name for m in migrations("sqlite")],
    }
    again = provgw("db", "upgrade", "--database", f"sqlite:///{old_db}", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["applied"] == []


@pytest.mark.parametrize(
    ("database", "code", "reason"),
    [
        ("mysql://db/provgw", 2, "unsupported database"),
        ("postgresql://127.0.0.1:5x/provgw", 2, "bad database URL"),
        ("postgresql://127.0.0.1:5432", 2, "names no database"),
        ("postgresql://postgres@127.0.0.1:1/provgw", 5, "cannot connect to the database"),
    ],
)
def test_a_bad_or_unreachable_database_is_one_line_and_an_exit_code(
    database: str, code: int, reason: str
) -> None:
    commands = [["db", "upgrade"]]
    if code == 5 or "unsupported" in reason:
        commands.append(["serve", "--demo"])  # the gateway itself refuses to start
    for command in commands:
        done = provgw(*command, "--database", database)
        assert done.returncode == code, (command, done.stderr)
        assert reason in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_a_schema_newer_than_the_code_stops_the_gateway_with_exit_2(old_db: Path) -> None:
    assert provgw("db", "upgrade", "--database", str(old_db)).returncode == 0
    with sqlite3.connect(old_db) as conn:
        conn.execute("INSERT INTO schema_version VALUES (999, '0999_future', 0)")
    for command in (["db", "upgrade"], ["serve", "--demo"]):
        done = provgw(*command, "--database", str(old_db))
        assert done.returncode == 2 and "newer than this provgw" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
