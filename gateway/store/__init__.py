"""The store is the truth: orders, plans, step states, transcripts, lines and resources.

`records` holds what the store hands out (back-end neutral); `tx` the seam every job's SQL goes
through; `sqlite` the embedded back end (one file, group commit, a checkpointer thread).
"""

from gateway.store.records import (
    Conflict,
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
    "OrderRecord",
    "OrderState",
    "Phase",
    "SqliteStore",
    "StepRecord",
    "StepState",
    "TranscriptLine",
    "Tx",
]
