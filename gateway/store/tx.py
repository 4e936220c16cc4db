"""The seam every store job writes through: a transaction's connection, whatever the database.

A job is a short synchronous function ``fn(tx) -> result`` that the store runs inside one
transaction (see `SqliteStore.run`). Jobs speak SQL through `Tx` only, so that one piece of
SQL serves each back end that implements the protocol; ``sqlite3.Connection`` satisfies it as it
is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol


class Cursor(Protocol):
    """What a statement gives back: its rows and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


Parameters = Sequence[Any] | Mapping[str, Any]
"""Positional (``?``) or named (``:name``) parameters of one statement."""


class Tx(Protocol):
    """The connection of the transaction a job runs in."""

    def execute(self, sql: str, parameters: Parameters = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...
