"""The dialect registry (`gateway.network.DIALECTS`): every dialect the configuration accepts
has a factory, and each builds the adapter of its own dialect from its own settings."""

from __future__ import annotations

import pytest

from adapters.network_element import NetworkElement
from gateway.config import NE_DIALECTS, HuaweiMmlConfig, NetworkElementConfig, OsmoHlrCtrlConfig
from gateway.network import DIALECTS, build_element

SAMPLES: list[NetworkElementConfig] = [
    HuaweiMmlConfig(name="hlr1", password="x"),
    OsmoHlrCtrlConfig(name="osmo1"),
]


def test_the_registry_and_the_configuration_know_the_same_dialects() -> None:
    assert DIALECTS.keys() == NE_DIALECTS.keys() == {s.dialect for s in SAMPLES}
    for name, dialect in DIALECTS.items():
        assert dialect.settings is NE_DIALECTS[name]


@pytest.mark.parametrize("config", SAMPLES, ids=lambda c: c.dialect)
async def test_each_dialect_builds_its_own_adapter(config: NetworkElementConfig) -> None:
    element = build_element(config)  # builds only: nothing connects before the first command
    try:
        assert isinstance(element, NetworkElement)
        assert (element.name, element.dialect) == (config.name, config.dialect)
    finally:
        await element.close()


def test_a_factory_refuses_another_dialects_settings() -> None:
    with pytest.raises(TypeError, match="osmo1: not huawei-mml settings"):
        DIALECTS["huawei-mml"].element(OsmoHlrCtrlConfig(name="osmo1"))
