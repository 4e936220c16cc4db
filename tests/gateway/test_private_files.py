"""Files at rest are the gateway user's alone: the database, its WAL and shared memory, and
the key file are 0600 and the directories the gateway makes 0700 — whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.orders import ORDER_ADAPTER, Recharge, parse_order
from gateway.store import SqliteStore
from gateway.vault import Vault

KEY = bytes(range(32))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask a careless service unit could have."""
    before = os.umask(0o000)
    yield
    os.umask(before)


async def test_database_wal_and_directories_are_private(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "var" / "db" / "provgw.db"
    async with SqliteStore(path, Vault(KEY)) as store:
        await store.run(lambda conn: conn.execute("CREATE TABLE t (x)"))
        files = {p.name: mode(p) for p in path.parent.iterdir()}
    assert {"provgw.db", "provgw.db-wal", "provgw.db-shm"} <= files.keys()
    assert set(files.values()) == {0o600}, files
    assert (mode(tmp_path / "var"), mode(tmp_path / "var" / "db")) == (0o700, 0o700)


async def test_an_older_world_readable_database_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "provgw.db"
    path.touch()
    path.chmod(0o644)
    before = mode(tmp_path)
    async with SqliteStore(path, Vault(KEY)):
        pass
    assert mode(path) == 0o600
    assert mode(tmp_path) == before, "an existing directory is not the gateway's to change"


def test_the_key_file_and_its_directory_are_private(tmp_path: Path, open_umask: None) -> None:
    key_file = tmp_path / "secrets" / "secret.key"
    Vault.from_environment(key_file, create=True)
    assert (mode(key_file), mode(key_file.parent)) == (0o600, 0o700)


def test_a_recharge_voucher_is_sealed_at_rest_and_masked_when_shown() -> None:
    vault = Vault(KEY)
    order = parse_order(
        {
            "kind": "recharge",
            "order_id": "r1",
            "channel": "OUT001",
            "operator": "clerk1",
            "msisdn": "13800000001",
            "amount_cents": 5000,
            "voucher": "12345678901234",
        }
    )
    shown = order.model_dump_json()
    stored = order.model_dump_json(context={"seal": vault.seal})
    assert "12345678901234" not in shown and '"voucher":"****"' in shown
    assert "12345678901234" not in stored and '"voucher":"enc:v1:' in stored
    back = ORDER_ADAPTER.validate_json(stored, context={"unseal": vault.unseal})
    assert isinstance(back, Recharge) and back.voucher is not None
    assert back.voucher.get_secret_value() == "12345678901234"
