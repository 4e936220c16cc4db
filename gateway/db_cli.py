"""`provgw db …`: the gateway's database without a running gateway; ``--database`` for the
commands that open it.

``--database`` (``PROVGW_DATABASE``) is a SQLite file path or a ``postgresql://`` URL; the
configuration's ``database``/``database_url`` otherwise. A wrong URL is a usage error (exit 2),
a database that cannot be reached exit 5, a schema newer than this provgw exit 2 — each one
line, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import click
from rich.console import Console

from gateway.config import GatewayConfig, load_config
from gateway.store import DatabaseUnavailable, SchemaTooNew, check_database, describe, store_for
from gateway.vault import Vault

EXIT_INVALID = 2
EXIT_UNREACHABLE = 5

console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., object])


def database_option(fn: F) -> F:
    """``--database URL|PATH`` (also ``PROVGW_DATABASE``)."""
    return click.option(
        "--database",
        envvar="PROVGW_DATABASE",
        metavar="URL|PATH",
        help="postgresql://user@host:port/db for several gateway processes sharing the work, "
        "or a SQLite file (default: the configuration's, var/provgw.db). Env: PROVGW_DATABASE.",
    )(fn)


def with_database(config: GatewayConfig, database: str | None) -> GatewayConfig:
    """The configuration with ``--database`` applied; exits 2 on a bad one."""
    try:
        if database is None:
            if config.database_url is not None:
                check_database(config.database_url)
            return config
        target = check_database(database)
    except ValueError as exc:
        fail(str(exc), EXIT_INVALID)
    if isinstance(target, Path):
        return config.model_copy(update={"database": target, "database_url": None})
    return config.model_copy(update={"database_url": target})


def fail(message: str, code: int) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    sys.exit(code)


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """A database that cannot be used, as one line and an exit code."""
    try:
        yield
    except DatabaseUnavailable as exc:
        fail(str(exc), EXIT_UNREACHABLE)
    except SchemaTooNew as exc:
        fail(str(exc), EXIT_INVALID)
    except ValueError as exc:
        fail(str(exc), EXIT_INVALID)


@click.group()
def db() -> None:
    """The gateway's database: schema migrations."""


@db.command()
@click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@database_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def upgrade(config_path: Path | None, database: str | None, as_json: bool) -> None:
    """Bring the database's schema up to date (the gateway also does it when it starts).

    Exit 0 done (or nothing to do), 2 bad database or a schema newer than this provgw,
    5 the database cannot be reached."""
    config = with_database(load_config(config_path), database)
    target = config.database_url or config.database

    async def run() -> dict[str, object]:
        # The vault is not needed to migrate: no sealed field is read or written.
        async with store_for(target, Vault(bytes(32))) as store:
            assert store.upgraded is not None
            return {"database": describe(target), "backend": store.dialect} | (
                store.upgraded.as_dict()
            )

    with database_errors():
        out = asyncio.run(run())
    if as_json:
        click.echo(json.dumps(out))
        return
    applied = ", ".join(out["applied"]) or "none"  # type: ignore[arg-type]
    click.echo(
        f"{out['database']} ({out['backend']}): schema version {out['before']} → "
        f"{out['after']}; applied: {applied}"
    )
