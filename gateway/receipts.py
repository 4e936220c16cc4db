"""Delivery receipts from the SMS centre, matched to the orders whose notices they confirm.

The SMPP client is built (with its receipt handler) before the store is open, so the handler
is this small book, told about the store once there is one. A receipt that arrives before that
is refused, and the SMSC delivers it again later.
"""

from __future__ import annotations

import logging
from typing import Protocol

from gateway.store import OrderStore

log = logging.getLogger(__name__)


class Receipt(Protocol):
    @property
    def message_id(self) -> str: ...

    @property
    def state(self) -> str: ...


class ReceiptBook:
    def __init__(self) -> None:
        self.store: OrderStore | None = None

    async def __call__(self, receipt: Receipt) -> None:
        if self.store is None:
            raise RuntimeError("the store is not open yet")
        if not await self.store.record_receipt(receipt.message_id, receipt.state):
            log.info("delivery receipt for a message that is not ours: %s", receipt.message_id)
