"""The ``[bus]`` section: off unless present; broker address, credentials and client id."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.config import load_config


def test_no_bus_section_no_bus() -> None:
    assert load_config(None).bus is None


def test_bus_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "bus.password"
    secret.write_text("s3cret\n")
    path = tmp_path / "provgw.toml"
    path.write_text(
        f'[bus]\nurl = "mqtt://broker.example:8883"\nusername = "provgw"\n'
        f'password_file = "{secret}"\n'
    )
    bus = load_config(path).bus
    assert bus is not None
    assert (bus.host, bus.port, bus.username, bus.secret()) == (
        "broker.example",
        8883,
        "provgw",
        "s3cret",
    )
    monkeypatch.setenv("PROVGW_BUS_CLIENT_ID", "provgw-gw7")
    assert bus.identifier() == "provgw-gw7"
    assert bus.model_copy(update={"client_id": "gw1"}).identifier() == "gw1"


def test_a_bad_broker_url_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "provgw.toml"
    path.write_text('[bus]\nurl = "http://broker:1883"\n')
    with pytest.raises(ValidationError, match=r"bus\.url"):
        load_config(path)
