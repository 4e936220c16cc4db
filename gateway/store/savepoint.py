"""A part of a transaction that can fail on its own: rolled back alone, the rest commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from gateway.store.tx import Tx


@contextmanager
def savepoint(tx: Tx, name: str) -> Iterator[None]:
    """What the block wrote is kept if it returns, undone (and its exception passed on) if it
    raises; the transaction goes on either way. ``name`` is fixed text, never input."""
    tx.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        tx.execute(f"ROLLBACK TO SAVEPOINT {name}")
        tx.execute(f"RELEASE SAVEPOINT {name}")
        raise
    tx.execute(f"RELEASE SAVEPOINT {name}")
