"""Orders in: one MQTT message on ``provgw/orders/{channel}`` becomes an accepted order, or a
refusal.

The body is the JSON of ``POST /orders``, validated by the same model (`gateway.orders`) and
explained by the same field messages (`gateway.validation`). The outcome is decided and made
durable before the message is acknowledged: an accepted order is in the store (the engine
commits it), a refusal's answer, status and dead-letter copy are in the outbox. A message
redelivered after a crash, or re-sent by its sender, meets the store's idempotent intake (same
order id and body: the order as it stands; another body: refused).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

import paho.mqtt.client as mqtt
from pydantic import ValidationError

from gateway.bus import access
from gateway.bus.connection import response_of
from gateway.bus.status import encode
from gateway.bus.topics import channel_of, dead_letter_topic, status_topic
from gateway.engine import Engine, IntakeRefused
from gateway.orders import ORDER_ADAPTER, order_msisdns, parse_order
from gateway.store import Conflict
from gateway.store.outbox import Outgoing
from gateway.validation import clerk_errors, summary

_ORDER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")  # gateway.orders.OrderId
_WILDCARDS = re.compile(r"[+#]")


@dataclass
class Answer:
    """What the sender is told, and what else goes out with it."""

    body: dict[str, Any]
    refused: bool


Why = Literal["invalid", "not_allowed", "conflict"]
"""A refusal's kind: bad input (the fields named), the access policy, the same order id with
another body (the CLI's exit codes 2, 6 and 4)."""


def refusal(
    order_id: str | None, why: Why, reason: str, errors: list[dict[str, str]] | None = None
) -> Answer:
    body: dict[str, Any] = {"order_id": order_id, "state": "refused", "why": why}
    body["reason"] = reason
    if errors:
        body["errors"] = errors
    return Answer(body, refused=True)


class Intake:
    def __init__(self, engine: Engine, max_bytes: int) -> None:
        self.engine = engine
        self.max_bytes = max_bytes
        # Orders on one number are accepted in the order they arrived (an upstream system
        # sends "open" then "suspend" without waiting); others are taken in concurrently.
        self._tails: dict[str, asyncio.Future[None]] = {}

    async def decide(self, topic: str, payload: bytes) -> Answer:
        """Accept the order in ``payload`` or say why not. Nothing is stored on refusal."""
        if len(payload) > self.max_bytes:
            return refusal(
                None,
                "invalid",
                f"body: the message has {len(payload)} bytes, more than {self.max_bytes}",
                [{"field": "body", "message": f"larger than {self.max_bytes} bytes"}],
            )
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return refusal(
                None,
                "invalid",
                f"body: not JSON ({exc})",
                [{"field": "body", "message": "not JSON"}],
            )
        claimed = data.get("order_id") if isinstance(data, dict) else None
        order_id = claimed if isinstance(claimed, str) and _ORDER_ID.match(claimed) else None
        try:
            order = parse_order(data)
        except ValidationError as exc:
            errors = clerk_errors(exc.errors())
            return refusal(order_id, "invalid", summary(errors), errors)
        keys = sorted(set(order_msisdns(order)))
        before = [self._tails[k] for k in keys if k in self._tails]
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for k in keys:
            self._tails[k] = mine
        try:
            for earlier in before:
                await asyncio.shield(earlier)
            rec, created = await access.submit(self.engine, channel_of(topic), order)
        except IntakeRefused as exc:
            return refusal(order.order_id, "not_allowed", exc.reason)
        except Conflict as exc:
            return refusal(order.order_id, "conflict", str(exc))
        finally:
            mine.set_result(None)
            for k in keys:
                if self._tails.get(k) is mine:
                    del self._tails[k]
        body = {"order_id": rec.id, "state": rec.state.value, "created": created}
        body["by"] = self.engine.owner  # which gateway process took it
        return Answer(body, refused=False)

    def messages(self, message: mqtt.MQTTMessage, answer: Answer) -> list[Outgoing]:
        """The answer to the sender's response topic (MQTT 5 request/response) and, for a
        refusal, its status and the dead-letter copy of the message."""
        out: list[Outgoing] = []
        response_topic, correlation = response_of(message)
        if response_topic and not _WILDCARDS.search(response_topic):
            out.append(Outgoing(response_topic, encode(answer.body), correlation))
        if not answer.refused:
            return out  # the engine announces "accepted" on the status topic itself
        order_id = answer.body.get("order_id")
        if order_id:
            out.append(Outgoing(status_topic(order_id), encode(answer.body)))
        out.append(
            Outgoing(
                dead_letter_topic(channel_of(message.topic)),
                masked(bytes(message.payload)),
                correlation,
                {"reason": str(answer.body["reason"])[:1000], "topic": message.topic},
            )
        )
        return out


@functools.cache
def secret_fields() -> frozenset[str]:
    """The names of the order fields that hold secrets (Ki, OPc, ADM1, service passwords):
    those the order models' JSON schema marks ``format: password``."""
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for name, field_schema in (node.get("properties") or {}).items():
                if _is_secret(field_schema):
                    names.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(ORDER_ADAPTER.json_schema())
    return frozenset(names)


def _is_secret(field_schema: object) -> bool:
    if not isinstance(field_schema, dict):
        return False
    if field_schema.get("format") == "password":
        return True
    return any(_is_secret(s) for s in field_schema.get("anyOf", []))


_HEX_KEY = re.compile(rb"[0-9A-Fa-f]{32}")


def masked(payload: bytes) -> bytes:
    """A refused message as the dead-letter topic (and the outbox table) may hold it: every
    secret field ``****``; a body that is not JSON has every 32-hex-digit run (a Ki or OPc)
    masked instead."""
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _HEX_KEY.sub(b"****", payload)
    secrets = secret_fields()

    def mask(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: "****" if k in secrets and v else mask(v) for k, v in node.items()}
        if isinstance(node, list):
            return [mask(v) for v in node]
        return node

    return json.dumps(mask(data), ensure_ascii=False).encode()
