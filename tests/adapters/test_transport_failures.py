"""The one rule for transport failures (`adapters.transport_failures`): which made-up replies
are an outage of the NE (`Reply.unreachable`), and which outcome they carry."""

from __future__ import annotations

import pytest

from adapters.transport_failures import (
    AdapterClosed,
    Garbled,
    LostAfterSending,
    NoAnswer,
    NotSent,
    TransportFailure,
    failure_reply,
)
from gateway.operations import Outcome


@pytest.mark.parametrize(
    ("failure", "code", "unreachable"),
    [
        (NotSent("connection refused"), "not-sent", True),
        (AdapterClosed("adapter is closed"), "closed", True),
        (LostAfterSending("connection reset"), "disconnected", True),
        (NoAnswer("no reply in time"), "timeout", True),
        (Garbled("RETCODE missing", raw="RETCODE = ?"), "garbled", False),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, TransportFailure) else str(v),
)
def test_only_a_garbled_answer_is_not_an_outage(
    failure: TransportFailure, code: str, unreachable: bool
) -> None:
    reply = failure_reply(failure, command='LST SUB:IMSI="1";', text="t", may_have_run=True)
    assert (reply.code, reply.unreachable) == (code, unreachable)
    assert isinstance(failure, ConnectionError)


def test_the_outcome_says_whether_the_ne_may_have_acted() -> None:
    lost = LostAfterSending("gone")
    assert failure_reply(lost, command="c", text="t", may_have_run=True).outcome is Outcome.UNKNOWN
    # A read-only command lost after sending changed nothing: simply try again.
    assert failure_reply(lost, command="c", text="t", may_have_run=False).outcome is (
        Outcome.TRANSIENT
    )


def test_no_answer_is_also_a_timeout() -> None:
    """`NetworkElement.probe` promises ConnectionError or TimeoutError: callers catching
    either see it."""
    assert isinstance(NoAnswer("late"), TimeoutError)
    assert isinstance(NoAnswer("late"), ConnectionError)
