"""What the SMSC holds: every accepted part, the barring list, and the idempotency keys.

Parts are kept as they arrived; `messages` puts concatenated parts back together, which is
what a handset shows and what tests and engineers want to read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from emulators.smsc.text import Concatenation


@dataclass
class Part:
    """One accepted short message: a submit_sm from an ESME (``origin`` "esme") or a
    mobile-originated SMS-SUBMIT from a handset ("mobile").

    ``payload`` is the message as SMPP carries it — user data header (when ``esm_class`` has
    UDHI 0x40) then GSM characters one per octet (``data_coding`` 0) or the octets — whichever
    side it came from; `emulators.smsc.air` turns it into the TPDU a handset gets. ``system_id``
    is the ESME account the message came from or, for MO to a service number, goes to.
    """

    message_id: str
    system_id: str
    source: str
    destination: str
    data_coding: int
    text: str
    concatenation: Concatenation | None
    submitted: datetime
    state: str = "ENROUTE"  # DELIVRD, UNDELIV, EXPIRED, REJECTD once settled
    done: datetime | None = None
    protocol_id: int = 0
    esm_class: int = 0
    payload: bytes = b""
    origin: str = "esme"
    receipt: bool = False  # the ESME asked for a delivery receipt
    source_ton: int = 1  # type of number: 0 unknown (short codes), 1 international, 5 alpha
    destination_ton: int = 1

    @property
    def originator(self) -> str:
        """The source as a handset shows it: ``+`` before an international number."""
        return f"+{self.source}" if self.source_ton == 1 and self.source.isdigit() else self.source

    def as_dict(self) -> dict[str, object]:
        return {
            "message_id": self.message_id,
            "state": self.state,
            "text": self.text,
            "part": None if self.concatenation is None else self.concatenation.seq,
        }


@dataclass
class Message:
    """A short message as the handset sees it: its parts put back in order."""

    source: str
    destination: str
    data_coding: int
    parts: list[Part]
    total: int

    @property
    def complete(self) -> bool:
        return len(self.parts) == self.total

    @property
    def text(self) -> str:
        return "".join(part.text for part in self.parts)

    @property
    def message_ids(self) -> list[str]:
        return [part.message_id for part in self.parts]

    @property
    def origin(self) -> str:
        return self.parts[0].origin if self.parts else "esme"

    @property
    def protocol_id(self) -> int:
        return self.parts[0].protocol_id if self.parts else 0

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "destination": self.destination,
            "origin": self.origin,
            "text": self.text,
            "data_coding": self.data_coding,
            "protocol_id": self.protocol_id,
            "segments": self.total,
            "complete": self.complete,
            "message_ids": self.message_ids,
            "parts": [part.as_dict() for part in self.parts],
        }


@dataclass
class MessageStore:
    parts: list[Part] = field(default_factory=list)
    barred: set[str] = field(default_factory=set)
    keys: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, part: Part, key: str | None = None) -> None:
        self.parts.append(part)
        if key is not None:
            self.keys[(part.system_id, key)] = part.message_id

    def seen(self, system_id: str, key: str) -> str | None:
        """The message id already given to this idempotency key, if any."""
        return self.keys.get((system_id, key))

    def messages(self, destination: str | None = None) -> list[Message]:
        """Messages in the order their first part arrived, optionally to one destination."""
        wanted: Iterable[Part] = self.parts
        if destination is not None:
            wanted = (p for p in self.parts if p.destination == normalise(destination))
        return reassemble(wanted)

    def clear(self) -> int:
        """Forget every message (not the barring list); how many parts there were."""
        count = len(self.parts)
        self.parts.clear()
        self.keys.clear()
        return count

    def is_barred(self, number: str) -> bool:
        return normalise(number) in self.barred


def normalise(number: str) -> str:
    """A number as the store keys it: international digits, no '+'."""
    return number[1:] if number.startswith("+") else number


def reassemble(parts: Iterable[Part]) -> list[Message]:
    """Group concatenated parts by (source, destination, reference, total) and order them.

    A part whose number is already in its open group starts a new message: references are
    only 8 bits and come round again.
    """
    messages: list[Message] = []
    open_groups: dict[tuple[str, str, int, int], Message] = {}
    for part in parts:
        concat = part.concatenation
        if concat is None:
            messages.append(Message(part.source, part.destination, part.data_coding, [part], 1))
            continue
        key = (part.source, part.destination, concat.reference, concat.total)
        group = open_groups.get(key)
        if group is None or any(p.concatenation == concat for p in group.parts):
            group = Message(part.source, part.destination, part.data_coding, [], concat.total)
            open_groups[key] = group
            messages.append(group)
        group.parts.append(part)
        group.parts.sort(key=lambda p: p.concatenation.seq if p.concatenation else 0)
        if group.complete:
            del open_groups[key]
    return messages
