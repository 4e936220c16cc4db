"""Test doubles for the card agent tests: a station desk's app without a whole gateway, a
reader that answers jobs from a script, and an authentication centre with fixed vectors."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI

from adapters.cards.card_agent import AgentLink, AgentStation, AgentTimeouts
from gateway.config import CardStationConfig
from gateway.operations import AuthVector, WriteCard
from gateway.stations_api import router
from simcard import agent_wire as wire
from simcard.verifier import Proof
from simcard.writer import CardReport
from tests.gateway.orders_factory import KI, OPC, iccid

TOKEN = "agent-token-0123456789abcdef"
STATION = "counter-1"
IMSI = "460000000000001"


def write_op() -> WriteCard:
    return WriteCard.model_validate(
        {"iccid": iccid(1), "imsi": IMSI, "ki": KI, "opc": OPC, "adm1": "12345678"}
    )


def report(apdus: int = 60) -> dict[str, Any]:
    done = CardReport("provgw", iccid(1), IMSI, ("IMSI",), (), Proof(1, False, ("3G",)), apdus, 9)
    return {"ok": True, **wire.report_to_wire(done)}


class FixedAuc:
    """An authentication centre handing out one known vector (TS 35.208 test set 1)."""

    vector = AuthVector(
        rand="23553cbe9637a89d218ae64dae47bf35",
        autn="55f328b43577b9b94a9ffac354dfafb3",
        xres="a54211d5e3ba50bf",
        ck="b40ba9a3c58b2a05bbf0d987b21bf8cb",
        ik="f769bcd751044604127672711c6d3441",
    )

    async def auth_vector(self, imsi: str) -> AuthVector:
        return self.vector


def agent_station(auc: object | None = None, **timeouts: float) -> AgentStation:
    limits = AgentTimeouts(**({"offer_s": 5.0, "answer_s": 5.0, "card_wait_s": 0.0} | timeouts))
    return AgentStation(STATION, AgentLink(STATION, TOKEN, limits), auc=lambda name: auc)


def desk_app(stations: Mapping[str, object]) -> FastAPI:
    """The station routes over ``stations``, as `create_app` includes them."""
    app = FastAPI()
    configs = [
        CardStationConfig(name=name, kind="agent", agent_token=TOKEN)
        if hasattr(station, "desk")
        else CardStationConfig(name=name, reader="Local Reader 00")
        for name, station in stations.items()
    ]
    app.state.engine = SimpleNamespace(
        targets=SimpleNamespace(stations=stations),
        config=SimpleNamespace(card_stations=configs, access_control=False),
    )
    app.include_router(router)
    return app


class ScriptedReader:
    """An agent's reader that answers each job with the next scripted result."""

    def __init__(self, answer: Callable[[Mapping[str, Any]], dict[str, Any]]) -> None:
        self.answer = answer
        self.jobs: list[dict[str, Any]] = []

    def run(self, job: Mapping[str, Any]) -> dict[str, Any]:
        self.jobs.append(dict(job))
        return self.answer(job)

    def presence(self, known: bool | None) -> dict[str, Any]:
        if known:  # nothing changes here: watch a little, as a real reader's watch blocks
            time.sleep(0.02)
        return {"reader": "Scripted 00", "card_present": True, "reader_error": None}
