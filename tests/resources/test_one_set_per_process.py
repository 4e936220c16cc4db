"""One set of resource registers per gateway process: the counter's, the API's and the front
end's are the same object, made once — never per request (an operator's remembered login and
its reset on a change live in it)."""

from __future__ import annotations

import httpx
import pytest

from gateway.api import create_app
from gateway.config import load_config
from gateway.counter import Counter
from gateway.engine import Engine
from gateway.resources.demo import DEMO_PASSWORDS
from gateway.resources.service import Resources
from gateway.store import SqliteStore


async def test_the_api_uses_the_counters_registers_and_makes_none_per_request(
    demo: Resources, store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(None)
    counter = Counter(demo, config)
    app = create_app(Engine(store, config, {}, hooks=counter))
    assert app.state.resources is demo, "the API has the counter's registers"

    def made_again(*args: object, **kwargs: object) -> Resources:
        raise AssertionError("registers made while serving a request")

    monkeypatch.setattr(Resources, "open", made_again)
    monkeypatch.setattr(Resources, "of_gateway", made_again)
    auth = httpx.BasicAuth("admin1", DEMO_PASSWORDS["admin1"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        for path in ("/numbers", "/sims", "/audit", "/ui/signin"):
            assert (await client.get(path, auth=auth)).status_code == 200, path


async def test_an_api_without_a_counter_makes_its_registers_once(store: SqliteStore) -> None:
    app = create_app(Engine(store, load_config(None), {}))
    assert isinstance(app.state.resources, Resources)
    assert app.state.resources.store is store
