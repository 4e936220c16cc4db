"""The bus's topic names, in one place for the gateway, its command line and docs/bus.md."""

from __future__ import annotations

ORDERS_PREFIX = "provgw/orders/"
"""Upstream systems publish an order to ``provgw/orders/{channel}`` (QoS 1)."""
SHARE_GROUP = "provgw"
ORDERS_SHARED = f"$share/{SHARE_GROUP}/{ORDERS_PREFIX}+"
"""Every gateway process subscribes through this shared subscription: one of them gets each
order."""
STATUS_PREFIX = "provgw/status/"
STATUS_ALL = f"{STATUS_PREFIX}+"
DEAD_LETTER_PREFIX = "provgw/dead-letter/"
"""A refused order message is copied to ``provgw/dead-letter/{channel}``, reason attached."""


def status_topic(order_id: str) -> str:
    return STATUS_PREFIX + order_id


def order_topic(channel: str) -> str:
    return ORDERS_PREFIX + channel


def channel_of(topic: str) -> str:
    """The channel an order topic names (``provgw/orders/OUT001`` → ``OUT001``)."""
    return topic.removeprefix(ORDERS_PREFIX)


def dead_letter_topic(channel: str) -> str:
    return DEAD_LETTER_PREFIX + (channel or "unknown")
