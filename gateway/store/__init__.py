"""The store is the truth: orders, plans, step states, transcripts, lines and resources.

`records` holds what the store hands out (back-end neutral); `tx` the seam every job's SQL goes
through; `orders` the order side written once over it (group commit, leases and fencing);
`sqlite` the embedded back end (one file, a checkpointer thread), `postgresql` the shared one
(several gateway processes); `migrations` the versioned schema of both; `backends` picks one
from the configuration.
"""

from gateway.store.backends import DatabaseUnavailable, check_database, describe, store_for
from gateway.store.migrations import SchemaTooNew, Upgrade
from gateway.store.orders import OrderStore
from gateway.store.records import (
    Conflict,
    Lease,
    LeaseLost,
    OrderRecord,
    OrderState,
    Phase,
    StepRecord,
    StepState,
    TranscriptLine,
)
from gateway.store.sqlite import SqliteStore
from gateway.store.tx import Cursor, Tx

__all__ = [
    "Conflict",
    "Cursor",
    "DatabaseUnavailable",
    "Lease",
    "LeaseLost",
    "OrderRecord",
    "OrderState",
    "OrderStore",
    "Phase",
    "SchemaTooNew",
    "SqliteStore",
    "StepRecord",
    "StepState",
    "TranscriptLine",
    "Tx",
    "Upgrade",
    "check_database",
    "describe",
    "store_for",
]
