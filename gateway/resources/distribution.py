"""Distribution of stock (M4/M5): city → area → outlet → clerk, and returns the other way.

A card or a number is somewhere: in the central stock (the empty location ``""``), at a city
(``Beijing``), an area (``Beijing/Dongcheng``), an outlet (``Beijing/Dongcheng/OUT001``, a
registered own-outlet or agent channel in that city and area) or with a clerk
(``Beijing/Dongcheng/OUT001/clerk1``, an operator assigned to that outlet). A move goes one
level down (distribute) or one level up (return), for a set of items that are all in the same
place, and is recorded with every item, the operator who made it and the person who received
the goods. The moves themselves are made by `gateway.resources.movements`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.identifiers import SafeText
from gateway.resources.refusals import Invalid

Resource = Literal["sim", "number"]
LEVELS = ("central stock", "city", "area", "outlet", "clerk")
_SEGMENT = re.compile(r"[^/\"';\\<>`\x00-\x1f\x7f]{1,40}")


def parse_location(text: str) -> tuple[str, ...]:
    """``"Beijing/Dongcheng"`` → ``("Beijing", "Dongcheng")``; ``""`` is the central stock."""
    text = text.strip().strip("/")
    if not text:
        return ()
    parts = tuple(p.strip() for p in text.split("/"))
    if len(parts) > 4:
        raise Invalid("a location is at most city/area/outlet/clerk", field="to")
    for part in parts:
        if not _SEGMENT.fullmatch(part):
            raise Invalid(f"location part {part!r} is empty, too long or has a forbidden character")
    return parts


def location_text(parts: Sequence[str]) -> str:
    return "/".join(parts)


class Selection(BaseModel):
    """Items named one by one, or every item of the resource in an inclusive range."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    items: list[str] = Field(default_factory=list, max_length=100_000)
    first: str | None = Field(None, pattern=r"^[0-9]{3,20}$")
    last: str | None = Field(None, pattern=r"^[0-9]{3,20}$")

    @model_validator(mode="after")
    def _one_way(self) -> Selection:
        if self.first is None and self.last is None:
            if not self.items:
                raise ValueError("give items, or first and last")
            return self
        if self.items:
            raise ValueError("give items, or first and last, not both")
        if self.first is None or self.last is None or len(self.first) != len(self.last):
            raise ValueError("a range needs first and last with the same number of digits")
        return self


class DistributeIn(Selection):
    """Give the selected items one level down, to ``to``. ``receiver`` is the person taking
    the goods (a clerk receives for themselves and may be left out)."""

    to: str = Field(min_length=1, max_length=200)
    receiver: SafeText | None = Field(None, min_length=1, max_length=60)
    note: SafeText = Field("", max_length=200)


class ReturnIn(Selection):
    """Give the selected items back one level up; ``receiver`` takes them there."""

    receiver: SafeText = Field(min_length=1, max_length=60)
    note: SafeText = Field("", max_length=200)


@dataclass(frozen=True)
class Movement:
    id: int
    resource: str
    direction: str
    source: str
    target: str
    operator: str
    receiver: str
    count: int
    note: str
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "resource": self.resource,
            "direction": self.direction,
            "from": self.source,
            "to": self.target,
            "operator": self.operator,
            "receiver": self.receiver,
            "count": self.count,
            "note": self.note,
            "at": self.at,
        }
