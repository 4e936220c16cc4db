"""Versioned schema migrations, one folder of numbered SQL scripts per back end.

``sqlite/NNNN_name.sql`` and ``postgresql/NNNN_name.sql`` hold the same changes in each
database's dialect; a migration, once released, is never edited (a change is a new number).
The table ``schema_version`` lists the migrations applied. The store runs the pending ones when
it opens (`provgw db upgrade` runs them without starting a gateway) and refuses a database
whose schema is newer than the code: an older gateway must not write into a schema it does not
know.

Migration 0001 is the schema of provgw before migrations existed (main at 489b79c), frozen. A
SQLite database made by that code has no ``schema_version``; it is adopted: the columns that
code added to older files on start-up are added, then 0001 runs — every statement of it is
``IF NOT EXISTS`` — and the database goes on from version 1 like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Literal

Dialect = Literal["sqlite", "postgresql"]

VERSION_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
)


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer provgw than this one."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


@dataclass(frozen=True)
class Upgrade:
    """What an upgrade found and did."""

    before: int  # 0: an empty database (or one made before migrations, adopted)
    after: int
    applied: tuple[str, ...]  # "0002_lease_epoch", ...

    def as_dict(self) -> dict[str, object]:
        return {"before": self.before, "after": self.after, "applied": list(self.applied)}


def migrations(dialect: Dialect) -> list[Migration]:
    """The dialect's migrations in order; their numbers run 1, 2, 3 … without gaps."""
    folder = resources.files(__package__).joinpath(dialect)
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), f"{number}_{rest[:-4]}", entry.read_text()))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"the {dialect} migrations are not numbered 1..{len(found)}")
    return found


def latest(dialect: Dialect) -> int:
    return len(migrations(dialect))


def pending(dialect: Dialect, current: int) -> list[Migration]:
    """The migrations after ``current``; `SchemaTooNew` if ``current`` is past them all."""
    known = migrations(dialect)
    if current > len(known):
        raise SchemaTooNew(
            f"the database's schema is version {current}, newer than this provgw knows "
            f"({len(known)}): upgrade provgw, or use a database of its version"
        )
    return known[current:]
