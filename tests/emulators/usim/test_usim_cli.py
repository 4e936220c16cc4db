"""`provgw emulate card` option checking: bad input is refused by name before any card runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from emulators.usim.cli import card, parse_keyset


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--slot", "0", "--slot", "0"], "--slot"),
        (["--slot", "0", "--slot", "1", "--store", "a.json"], "--store"),
        (["--adm1", "12ab"], "--adm1"),
        (["--model", "sjs1"], "--model"),
        (["--port", "65535", "--slot", "1"], "--port"),
        (["--ota-keys", "1:aes:00"], "--ota-keys"),
        (["--ota-keys", "1:rc4:" + "00" * 16 + ":" + "00" * 16], "--ota-keys"),
        (["--ota-keys", "0:aes:" + "00" * 16 + ":" + "00" * 16], "--ota-keys"),
        (["--ota-keys", "1:3des:" + "00" * 8 + ":" + "00" * 16], "--ota-keys"),
    ],
)
def test_bad_options_are_refused_by_name(args: list[str], named: str) -> None:
    result = CliRunner().invoke(card, args)
    assert result.exit_code == 2
    assert named in result.output


def test_corrupt_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    store = tmp_path / "card.json"
    store.write_text("{not json")
    result = CliRunner().invoke(card, ["--store", str(store)])
    assert result.exit_code == 2
    assert "--store" in result.output and "unreadable" in result.output
    assert store.read_text() == "{not json"


def test_help_documents_every_option() -> None:
    result = CliRunner().invoke(card, ["--help"])
    options = (
        "--blank",
        "--store",
        "--model",
        "--slot",
        "--host",
        "--port",
        "--adm1",
        "--ota-keys",
    )
    for option in options:
        assert option in result.output


def test_ota_key_sets_are_read_as_documented() -> None:
    keys = parse_keyset("2:aes:" + "11" * 16 + ":" + "22" * 32)
    assert (keys.version, keys.kic, len(keys.kid)) == (2, b"\x11" * 16, 32)
    assert parse_keyset("3:3DES:" + "11" * 16 + ":" + "22" * 16).kic_byte == 0x35
