"""What went wrong between an adapter and its NE, the same words for every dialect.

A command either gets the NE's own answer (a return code, a CTRL ERROR, an SMPP status: the
dialect classifies it) or it meets one of four transport failures, and which one decides what
the engine may assume:

* `NotSent` — nothing of the command left the adapter: no connection, login or bind refused,
  backing off after failures, adapter closed. The NE did nothing.
* `LostAfterSending` — the connection went while the answer was awaited. The NE may have
  carried the command out.
* `NoAnswer` — sent, and no answer came in time. The NE may have carried it out.
* `Garbled` — an answer came that does not follow the protocol (a broken reply layout, an
  answer about something else). The NE is there and answering, badly; it may have carried the
  command out.

The first three are an outage of the NE: the reply the adapter makes up for them carries
`Reply.unreachable`, and the engine lets the order wait (its retry budget unspent) while the
NE's circuit breaker counts them. A garbled answer is not an outage — the NE answered — and
neither is anything the NE says itself (MML 5001 "busy" is the NE answering): they are never
``unreachable``. `failure_reply` is the one place that rule is applied.

`NeUnavailable` is what the reading side raises (``read``, ``probe``, authentication vectors)
when the NE could not be asked, or answered something that says nothing about the subscriber.
"""

from __future__ import annotations

from typing import ClassVar

from gateway.operations import Outcome, Reply


class TransportFailure(ConnectionError):
    """The NE gave no usable answer to a command; ``code`` names the failure in replies."""

    code: ClassVar[str] = "transport"
    unreachable: ClassVar[bool] = True
    """Whether the failure is an outage of the NE (see the module docstring)."""


class NotSent(TransportFailure):
    """Nothing of the command left the adapter."""

    code = "not-sent"


class AdapterClosed(NotSent):
    """The adapter was closed before the command could be sent."""

    code = "closed"


class LostAfterSending(TransportFailure):
    """The connection closed while the answer was awaited: the command may have run."""

    code = "disconnected"


class NoAnswer(TransportFailure, TimeoutError):
    """Sent, and no answer in time: the command may have run. Also a `TimeoutError`, as the
    `NetworkElement.probe` contract promises."""

    code = "timeout"


class Garbled(TransportFailure):
    """An answer that does not follow the protocol; ``raw`` is what came (unmasked: callers
    mask it before it is shown). The NE answered, so this is not an outage."""

    code = "garbled"
    unreachable = False

    def __init__(self, why: str, raw: str = "") -> None:
        super().__init__(why)
        self.raw = raw


class NeUnavailable(ConnectionError):
    """The NE could not be asked, or gave an answer that says nothing about the subscriber."""


def failure_reply(
    failure: TransportFailure,
    *,
    command: str,
    text: str,
    may_have_run: bool,
    elapsed_ms: float = 0.0,
    response: str = "",
) -> Reply:
    """The `Reply` an adapter makes up when ``failure`` kept the NE's answer from it.

    ``may_have_run``: whether the NE may have carried out (part of) the operation — after
    sending a command that changes something, or when an earlier command of the same operation
    did. It makes the outcome UNKNOWN (the engine reads back before anything else), else
    TRANSIENT. ``command``, ``text`` and ``response`` are shown as given: mask them first.
    """
    return Reply(
        outcome=Outcome.UNKNOWN if may_have_run else Outcome.TRANSIENT,
        code=failure.code,
        text=text,
        command=command,
        response=response,
        elapsed_ms=elapsed_ms,
        unreachable=failure.unreachable,
    )
