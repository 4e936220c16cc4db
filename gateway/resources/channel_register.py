"""The channel register: channels created, numbered and changed, every change audited."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from gateway.resources import audit
from gateway.resources.channels import Channel, ChannelChange, ChannelIn, ChannelKind
from gateway.resources.refusals import Invalid, NotFound, Unavailable
from gateway.store import OrderStore, Tx
from gateway.store import channels as rows


def _next_id(tx: Tx, kind: ChannelKind) -> str:
    taken = [int(i[3:]) for i in rows.ids_of_kind(tx, kind) if i[3:].isdigit()]
    return f"{kind.prefix}{max(taken, default=0) + 1:03d}"


class Channels:
    """The channel register."""

    def __init__(self, store: OrderStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def create(self, new: ChannelIn, *, by: str) -> Channel:
        if new.id is not None and not re.fullmatch(rf"{new.kind.prefix}[0-9]{{3,}}", new.id):
            raise Invalid(
                f"a {new.kind.value} channel is numbered {new.kind.prefix} followed by digits"
                f" (e.g. {new.kind.prefix}001)",
                field="id",
            )
        now = self.clock()

        def job(tx: Tx) -> Channel:
            channel_id = new.id or _next_id(tx, new.kind)
            channel = Channel(channel_id, new.kind, new.name, new.city, new.area, new.hours, True)
            if not rows.insert(tx, channel, now=now):
                raise Unavailable(f"channel {channel_id} exists already", field="id")
            audit.record(
                tx,
                at=now,
                operator=by,
                channel=channel_id,
                action="create channel",
                outcome="done",
                detail={"kind": new.kind.value, "city": new.city, "area": new.area},
            )
            return channel

        return await self.store.run(job)

    async def get(self, channel_id: str) -> Channel:
        found = await self.store.run(lambda tx: rows.find(tx, channel_id))
        if found is None:
            raise NotFound(f"no channel {channel_id}", field="channel")
        return found

    async def all(self) -> list[Channel]:
        return await self.store.run(rows.all_channels)

    async def change(self, channel_id: str, change: ChannelChange, *, by: str) -> Channel:
        now = self.clock()

        def job(tx: Tx) -> Channel:
            before = rows.find(tx, channel_id)
            if before is None:
                raise NotFound(f"no channel {channel_id}", field="channel")
            after = Channel(
                before.id,
                before.kind,
                change.name if change.name is not None else before.name,
                before.city,
                before.area,
                change.hours if change.hours is not None else before.hours,
                change.active if change.active is not None else before.active,
            )
            rows.update(tx, after, now=now)
            audit.record(
                tx,
                at=now,
                operator=by,
                channel=channel_id,
                action="change channel",
                outcome="done",
                detail={"before": _comparable(before), "after": _comparable(after)},
            )
            return after

        return await self.store.run(job)


def _comparable(channel: Channel) -> dict[str, Any]:
    return {"name": channel.name, "hours": channel.hours.model_dump(), "active": channel.active}
