"""Configuration: the documented example loads, and bad files fail with the field named."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.config import HuaweiMmlConfig, OsmoHlrCtrlConfig, load_config
from gateway.routing import Router

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "provgw.toml"


def test_documented_example_loads_and_routes() -> None:
    config = load_config(EXAMPLE)
    assert [ne.name for ne in config.network_elements] == ["hlr-bj-1", "hlr-sh-1"]
    assert config.network_elements[0].rate_per_second == 20
    route = Router(config)
    assert route("460001234567890", "8613800000001") == "hlr-bj-1"
    assert route("460011234567890", "8613900000001") == "hlr-sh-1"


def test_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    ne = load_config(EXAMPLE).network_elements[0]
    with pytest.raises(ValueError, match=r"\$PROVGW_HLR_BJ_1_PASSWORD is not set"):
        ne.secret()
    monkeypatch.setenv("PROVGW_HLR_BJ_1_PASSWORD", "s3cret")
    assert ne.secret() == "s3cret" and ne.mml_secret() == "s3cret"


def test_bad_file_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[network_elements]]\nname = "x"\nsessions = 0\n')
    with pytest.raises(ValidationError, match=r"network_elements\.0\.huawei-mml\.sessions"):
        load_config(bad)


def test_an_ne_without_a_dialect_is_huawei_mml_and_each_dialect_has_its_defaults(
    tmp_path: Path,
) -> None:
    file = tmp_path / "two.toml"
    file.write_text(
        '[[network_elements]]\nname = "hlr1"\n\n'
        '[[network_elements]]\nname = "osmo1"\ndialect = "osmo-hlr-ctrl"\n'
    )
    mml, osmo = load_config(file).network_elements
    assert isinstance(mml, HuaweiMmlConfig) and (mml.dialect, mml.port) == ("huawei-mml", 2222)
    assert isinstance(osmo, OsmoHlrCtrlConfig)
    assert (osmo.port, osmo.gsup_port, osmo.data_lock) == (4259, 4222, "refuse")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            'name = "hlr1"\ndata_lock = "ps-switch"',
            "network element hlr1: data_lock is a setting of dialect osmo-hlr-ctrl, "
            "and this one's dialect is huawei-mml",
        ),
        (
            'name = "osmo1"\ndialect = "osmo-hlr-ctrl"\nsessions = 8',
            "network element osmo1: sessions is a setting of dialect huawei-mml, "
            "and this one's dialect is osmo-hlr-ctrl",
        ),
        (
            'name = "x"\ndialect = "ericsson"',
            "'ericsson' found using 'dialect' does not match any of the expected tags: "
            "'huawei-mml', 'osmo-hlr-ctrl'",
        ),
    ],
    ids=["osmo-setting-on-mml", "mml-setting-on-osmo", "unknown-dialect"],
)
def test_a_setting_of_another_dialect_is_refused_by_name(
    tmp_path: Path, block: str, message: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(f"[[network_elements]]\n{block}\n")
    with pytest.raises(ValidationError) as caught:
        load_config(bad)
    assert message in str(caught.value)


def test_documented_order_example_is_valid() -> None:
    import json

    from gateway.orders import OpenAccount, parse_order

    order = parse_order(json.loads((EXAMPLE.parent / "open-account.json").read_text()))
    assert isinstance(order, OpenAccount) and order.msisdn == "13800000001"
