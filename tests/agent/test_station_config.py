"""Configuring a card station served by an agent: the token by reference, and refusals that
name the station and the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.config import CardStationConfig, load_config
from gateway.network import build_stations
from tests.agent.doubles import TOKEN


def station(**fields: object) -> CardStationConfig:
    return CardStationConfig.model_validate({"name": "counter-1", "kind": "agent"} | fields)


def test_an_agent_station_takes_its_token_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COUNTER1_TOKEN", TOKEN)
    config = load_config(None).model_copy(
        update={"card_stations": [station(agent_token_env="COUNTER1_TOKEN")]}
    )
    built = build_stations(config, {})["counter-1"]
    assert built.dialect == "card-agent"
    assert built.desk.accepts(TOKEN)  # type: ignore[attr-defined]


def test_an_unset_token_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COUNTER1_TOKEN", raising=False)
    with pytest.raises(ValueError, match=r"card station counter-1: \$COUNTER1_TOKEN is not set"):
        station(agent_token_env="COUNTER1_TOKEN").token()


def test_a_short_token_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 24 characters"):
        station(agent_token="short-token").token()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "an agent station needs agent_token_env"),
        ({"agent_token": TOKEN, "agent_token_env": "X"}, "an agent station needs agent_token_env"),
        ({"kind": "local", "agent_token_env": "X"}, 'agent_token\\* is for kind = "agent"'),
        ({"agent_token": TOKEN, "card_wait_s": 120}, "must exceed card_wait_s"),
        ({"agent_token": TOKEN, "kind": "remote"}, "kind"),
    ],
)
def test_bad_station_settings_are_refused_by_name(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        station(**fields)
    assert TOKEN not in str(refused.value)
