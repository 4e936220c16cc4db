"""Card stations as the card step shows them: which reader, whether it is online, whether a
card is in it — from the stations API (`gateway.stations_api`), so the screen and a card
agent's own view agree."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.engine import Engine
from gateway.stations_api import StationState, list_stations
from gateway.web.i18n import Translator


@dataclass(frozen=True)
class StationView:
    name: str
    where: str
    status: str  # online · offline · local (a reader on the gateway's machine, not watched)
    card: bool | None
    detail: str


def _view(state: StationState, t: Translator) -> StationView:
    if state.kind == "local":
        status = "local"
        where = t("stations.local_reader", reader=state.reader or "—")
    else:
        status = "online" if state.online else "offline"
        where = t("stations.agent_reader", reader=state.reader or "—", host=state.host or "—")
    detail = ""
    if state.reader_error:
        detail = state.reader_error
    elif state.busy:
        detail = t(f"stations.busy.{state.busy}")
    return StationView(state.name, where, status, state.card_present, detail)


async def station_views(engine: Engine, t: Translator) -> list[StationView]:
    return [_view(s, t) for s in await list_stations(engine)]
