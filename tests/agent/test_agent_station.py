"""The gateway's end of a card agent: card operations become jobs, a fake agent answers them.

No PC/SC here: the agent's side is played by the test through the desk (`next_job`,
`complete`), the way the REST routes drive it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from adapters.cards.card_agent import AgentLink, AgentStation
from gateway.operations import Lookup, Outcome, ProveAuthentication
from simcard import agent_wire as wire
from simcard.errors import (
    AdmRejectedError,
    AuthenticationRejectedError,
    CardLayerError,
    CardNotBlankError,
    CardRemovedError,
    FileMissingError,
    HalfWrittenCardError,
    NoCardError,
    PinRejectedError,
    ReaderError,
    StatusWordError,
    UnknownCardError,
    VerificationError,
    WrongCardError,
)
from simcard.profile import ProfileError
from tests.agent.doubles import IMSI, KI, OPC, STATION, TOKEN, FixedAuc, agent_station, write_op
from tests.agent.doubles import report as write_report

Answer = Callable[[Mapping[str, Any]], Mapping[str, Any]]


async def agent_answers(link: AgentLink, answer: Answer, agent: str = "a1") -> dict[str, Any]:
    """Play the agent once: take the next job, post ``answer(job)``; return the job."""
    job = await link.next_job(agent, wait=5)
    assert job is not None
    assert link.complete(job["id"], answer(job)) == "accepted"
    return job


async def take(link: AgentLink, agent: str = "a1") -> dict[str, Any]:
    job = await link.next_job(agent, wait=5)
    assert job is not None
    return job


async def test_a_write_is_a_job_carrying_the_keys_and_its_report_comes_back() -> None:
    station = agent_station()
    reply, job = await asyncio.gather(
        station.execute(write_op()), agent_answers(station.desk, lambda job: write_report(60))
    )
    assert reply.outcome is Outcome.OK
    assert reply.text.startswith("provgw written: 60 APDUs")
    assert job["kind"] == "write"
    assert (job["profile"]["ki"], job["profile"]["opc"]) == (KI, OPC), "keys travel in the job"
    assert job["profile"]["adm1"] == "12345678"
    assert KI not in reply.command and "****" in reply.command, "but never in the transcript"


async def test_a_job_nobody_takes_is_withdrawn_and_the_engine_may_retry() -> None:
    station = agent_station(offer_s=0.05)
    reply = await station.execute(write_op())
    assert reply.outcome is Outcome.TRANSIENT
    assert reply.text == f"no card agent online at station {STATION}"
    assert station.desk.status()["waiting_jobs"] == 0
    assert await station.desk.next_job("a1", wait=0) is None, "the withdrawn job is gone"


async def test_a_write_taken_and_never_answered_is_of_unknown_outcome() -> None:
    station = agent_station(answer_s=0.05)
    reply, job = await asyncio.gather(station.execute(write_op()), take(station.desk))
    assert reply.outcome is Outcome.UNKNOWN, "the card may have been written"
    assert reply.code == "agent-lost"
    assert station.desk.complete(job["id"], write_report()) == "gone", "a late result is refused"


async def test_an_agent_polling_again_has_lost_its_job_at_once() -> None:
    station = agent_station(answer_s=600)
    execute = asyncio.create_task(station.execute(write_op()))
    await take(station.desk, agent="a1")
    assert station.desk.status()["busy"] == "write"
    assert await station.desk.next_job("a2", wait=0) is None  # the agent restarted
    reply = await execute
    assert reply.outcome is Outcome.UNKNOWN
    assert "took the write job and lost it" in reply.text


async def test_a_lost_challenge_is_only_retried() -> None:
    station = agent_station(FixedAuc(), answer_s=600)
    op = ProveAuthentication(imsi=IMSI, ne="hlr1")
    execute = asyncio.create_task(station.execute(op))
    job = await take(station.desk)
    assert job["kind"] == "challenge" and job["rand"] == FixedAuc.vector.rand
    await station.desk.next_job("a1", wait=0)
    reply = await execute
    assert reply.outcome is Outcome.TRANSIENT


async def test_the_proof_compares_the_agents_res_with_xres() -> None:
    station = agent_station(FixedAuc())
    op = ProveAuthentication(imsi=IMSI, ne="hlr1")
    good, _ = await asyncio.gather(
        station.execute(op),
        agent_answers(station.desk, lambda job: {"ok": True, "res": FixedAuc.vector.xres}),
    )
    assert good.outcome is Outcome.OK
    bad, _ = await asyncio.gather(
        station.execute(op), agent_answers(station.desk, lambda job: {"ok": True, "res": "00" * 8})
    )
    assert (bad.outcome, bad.code) == (Outcome.PERMANENT, "res-mismatch")


async def test_a_result_is_accepted_once() -> None:
    link = agent_station().desk
    read = asyncio.create_task(link.imsi())
    job = await take(link)
    with pytest.raises(wire.WireError):
        link.complete(job["id"], {"ok": True, "imsi": "not digits"})
    assert link.complete(job["id"], {"ok": True, "imsi": IMSI}) == "accepted"
    assert link.complete(job["id"], {"ok": True, "imsi": "460000000000999"}) == "duplicate"
    assert await read == IMSI, "the first result counts"
    await asyncio.sleep(0)
    assert link.complete(job["id"], {"ok": True, "imsi": IMSI}) == "duplicate"
    with pytest.raises(KeyError):
        link.complete("no-such-job", {"ok": True})


CARD_ERRORS: list[CardLayerError] = [
    NoCardError("no card in 'Virtual PCD 00 00'"),
    ReaderError("no PC/SC reader found"),
    CardRemovedError("card removed from 'Virtual PCD 00 00'"),
    AdmRejectedError(2),
    PinRejectedError(1),
    HalfWrittenCardError(["IMSI"], ["Ki/OPc (3G)"], CardRemovedError("card removed")),
    VerificationError(["IMSI reads 001010000000001"]),
    AuthenticationRejectedError("card rejected AUTN (MAC failure)"),
    FileMissingError("SELECT 6F07", 0x6A82, "file not found"),
    StatusWordError("UPDATE BINARY", 0x6982, "security status not satisfied"),
    CardNotBlankError("the card already carries IMSI 460000000000009"),
    WrongCardError("ICCID differs"),
    UnknownCardError("no card model matches ATR 3b00"),
    ProfileError("iccid: fails the Luhn check"),
    CardLayerError("something else the card did"),
]


@pytest.mark.parametrize("error", CARD_ERRORS, ids=lambda e: type(e).__name__)
async def test_a_card_failure_on_the_agent_is_the_same_exception_here(
    error: CardLayerError,
) -> None:
    link = agent_station().desk
    outcome = await asyncio.gather(
        link.imsi(),
        agent_answers(link, lambda job: wire.error_result(error)),
        return_exceptions=True,
    )
    raised = outcome[0]
    assert type(raised) is type(error)
    assert str(raised) == str(error)
    assert vars(raised).keys() >= {"tries_left", "written", "not_written", "problems", "sw"} & (
        vars(error).keys()
    )
    for name in ("tries_left", "written", "not_written", "problems", "sw", "what"):
        assert getattr(raised, name, None) == getattr(error, name, None)


@pytest.mark.parametrize(
    ("error", "outcome", "code"),
    [
        (NoCardError("no card in 'R'"), Outcome.TRANSIENT, "no-card"),
        (ReaderError("no PC/SC reader found"), Outcome.TRANSIENT, "reader"),
        (AdmRejectedError(2), Outcome.PERMANENT, "adm-rejected"),
        (HalfWrittenCardError(["IMSI"], ["Ki"], NoCardError()), Outcome.PERMANENT, "half-written"),
        (CardNotBlankError("not blank"), Outcome.PERMANENT, "card"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_the_station_reads_a_remote_failure_as_it_reads_a_local_one(
    error: CardLayerError, outcome: Outcome, code: str
) -> None:
    station = agent_station()
    reply, _ = await asyncio.gather(
        station.execute(write_op()), agent_answers(station.desk, lambda j: wire.error_result(error))
    )
    assert (reply.outcome, reply.code) == (outcome, code)


async def test_a_mac_failure_fails_the_proof() -> None:
    station = agent_station(FixedAuc())
    error = AuthenticationRejectedError("card rejected AUTN (MAC failure)")
    reply, _ = await asyncio.gather(
        station.execute(ProveAuthentication(imsi=IMSI, ne="hlr1")),
        agent_answers(station.desk, lambda job: wire.error_result(error)),
    )
    assert (reply.outcome, reply.code) == (Outcome.PERMANENT, "mac-failure")


async def test_reading_back_asks_the_agent_for_the_cards_imsi() -> None:
    station = agent_station()
    holds = {"ok": True, "imsi": IMSI}
    view, job = await asyncio.gather(
        station.read(Lookup(imsi=IMSI)), agent_answers(station.desk, lambda j: holds)
    )
    assert job["kind"] == "imsi"
    assert view.exists and view.imsi == IMSI
    empty = {"ok": True, "imsi": None}
    blank, _ = await asyncio.gather(
        station.read(Lookup(imsi=IMSI)), agent_answers(station.desk, lambda j: empty)
    )
    assert not blank.exists


async def test_reading_back_without_an_agent_is_a_connection_error() -> None:
    station = agent_station(offer_s=0.05)
    with pytest.raises(ConnectionError, match="no card agent online"):
        await station.read(Lookup(imsi=IMSI))


async def test_status_shows_the_agent_its_reader_and_the_card() -> None:
    station: AgentStation = agent_station()
    link = station.desk
    assert link.status()["online"] is False
    link.report("a1", {"host": "pc-7", "reader": "ACS ACR39U", "card_present": False})
    assert link.status() | {"waiting_jobs": 0} == {
        "online": True,
        "host": "pc-7",
        "reader": "ACS ACR39U",
        "card_present": False,
        "reader_error": None,
        "busy": None,
        "waiting_jobs": 0,
    }
    assert 'reader "ACS ACR39U"' in station.render(write_op())
    changed = asyncio.create_task(link.changed())
    await asyncio.sleep(0)
    link.report("a1", {"host": "pc-7", "reader": "ACS ACR39U", "card_present": True})
    await asyncio.wait_for(changed, 1)
    assert link.status()["card_present"] is True


def test_the_token_must_match() -> None:
    link = agent_station().desk
    assert link.accepts(TOKEN)
    assert not link.accepts(TOKEN[:-1])
    assert not link.accepts(TOKEN + "x")
