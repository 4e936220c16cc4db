"""Which back end a gateway uses: a SQLite file by default, PostgreSQL when given a URL.

``--database`` (or ``PROVGW_DATABASE``) takes either: ``postgresql://user@host:port/db``
(``postgres://`` too) for several gateway processes sharing the work, a path or ``sqlite:///path``
for the embedded file. Anything else is a usage error, said in one line before anything opens.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from gateway.store.orders import OrderStore
from gateway.store.postgresql import DatabaseUnavailable, PostgresStore
from gateway.store.sqlite import SqliteStore
from gateway.vault import Vault

__all__ = ["DatabaseUnavailable", "check_database", "store_for"]

POSTGRES_SCHEMES = ("postgresql", "postgres")


def check_database(database: str | Path) -> str | Path:
    """A PostgreSQL URL (checked) or a SQLite path; `ValueError` with the reason otherwise."""
    if isinstance(database, Path):
        return database
    text = database.strip()
    if "://" not in text:
        if not text:
            raise ValueError("the database is empty: give a file path or a postgresql:// URL")
        return Path(text)
    scheme = text.split("://", 1)[0].lower()
    if scheme == "sqlite":
        path = text.split("://", 1)[1]
        if not path or path == "/":
            raise ValueError(f"{database}: no file in the sqlite:/// URL")
        return Path(path[1:] if path.startswith("/") and not path.startswith("//") else path)
    if scheme not in POSTGRES_SCHEMES:
        raise ValueError(
            f"{database}: unsupported database (a file path, sqlite:///path or postgresql://…)"
        )
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises on a port that is not a number
    except ValueError as exc:
        raise ValueError(f"bad database URL: {exc}") from None
    if not parts.path.strip("/"):
        raise ValueError(f"{_masked(text)}: the URL names no database (…/dbname)")
    return text


def store_for(database: str | Path, vault: Vault) -> OrderStore:
    """The store for a checked database (see `check_database`); not yet opened."""
    target = check_database(database)
    if isinstance(target, Path):
        return SqliteStore(target, vault)
    return PostgresStore(target, vault)


def describe(database: str | Path) -> str:
    """The database as it may be shown and logged (a password in a URL masked)."""
    return str(database) if isinstance(database, Path) else _masked(database)


def _masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
