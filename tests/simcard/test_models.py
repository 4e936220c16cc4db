"""Card models: detection by ATR, what each writes, where each keeps its keys."""

from __future__ import annotations

import pytest

from simcard.errors import UnknownCardError
from simcard.models import MODELS, PROVGW, SJA2, SJA5, SJS1, by_name, detect
from simcard.profile import CardProfile
from tests.simcard.conftest import KI, OPC, PROFILE_FIELDS

H = bytes.fromhex


@pytest.mark.parametrize(
    ("atr", "model"),
    [
        ("3b9f96801f878031e073fe211b674a4c753034054ba9", SJA2),
        ("3b9f96801f878031e073fe211b674a4c7531330251b2", SJA2),
        ("3b9f96801f878031e073fe211b674a4c5275310451d5", SJA2),
        ("3b9f96801f878031e073fe211b674a357530350251cc", SJA5),
        ("3b9f96801f878031e073fe211b674a357530350265f8", SJA5),
        ("3b9f96801fc78031a073be21136743200718000001a5", SJS1),
        ("3b9f96801f878031e073fe211b6770726f76677731aa", PROVGW),
    ],
)
def test_models_are_detected_by_atr(atr: str, model: object) -> None:
    assert detect(H(atr)) is model


def test_unknown_atr_is_refused_with_the_known_models() -> None:
    with pytest.raises(UnknownCardError, match="sysmoISIM-SJA2"):
        detect(H("3b9f95801fc38031e073fe21135786810286984418a8"))


def test_models_by_name() -> None:
    assert by_name("sja2") is SJA2 and by_name("sysmoUSIM-SJS1") is SJS1
    assert by_name("PROVGW") is PROVGW
    with pytest.raises(UnknownCardError):
        by_name("magicsim")


def _paths(model: object, profile: CardProfile) -> list[str]:
    return [str(w.path) for w in model.plan(profile)]  # type: ignore[attr-defined]


def test_iccid_is_rewritten_only_where_allowed(profile: CardProfile) -> None:
    assert "MF/2FE2" not in _paths(SJA2, profile)
    assert "MF/2FE2" not in _paths(SJA5, profile)
    assert "MF/2FE2" in _paths(SJS1, profile)
    assert "MF/2FE2" in _paths(PROVGW, profile)


def test_blank_check_file_comes_first(profile: CardProfile) -> None:
    for model in MODELS:
        first = model.plan(profile)[0]
        assert (first.label, str(first.path)) == ("IMSI", "MF/7F20/6F07")


def test_sja2_key_files(profile: CardProfile) -> None:
    keys = {str(w.path): w for w in SJA2.plan(profile) if w.secret}
    expected = bytes([0x14]) + H(KI) + H(OPC)  # Milenage (4) | value is OPc (0x10)
    assert set(keys) == {"MF/A515/6F20", "ADF.USIM/AF20"}
    assert all(w.content(33) == expected for w in keys.values())
    with pytest.raises(ValueError, match="33 needed"):
        keys["ADF.USIM/AF20"].content(17)


def test_sjs1_key_files(profile: CardProfile) -> None:
    keys = {str(w.path): w.content(64) for w in SJS1.plan(profile) if w.secret}
    assert keys == {
        "MF/7F20/00FF": H(KI),
        "MF/7F20/00F7": b"\x01" + H(OPC),
        "MF/7FCC/6F00": b"\x01\x01",
    }


def test_sjs1_refuses_comp128(profile: CardProfile) -> None:
    p = CardProfile.create({**PROFILE_FIELDS, "algorithm": "comp128v1", "opc": None})
    with pytest.raises(ValueError, match="SJS1"):
        SJS1.plan(p)


def test_comp128v1_key_config(profile: CardProfile) -> None:
    p = CardProfile.create({**PROFILE_FIELDS, "algorithm": "comp128v1", "opc": None})
    key = next(w for w in SJA2.plan(p) if w.secret)
    assert key.content(33) == b"\x01" + H(KI) + bytes(16)


def test_usim_numbers_follow_the_ust(profile: CardProfile) -> None:
    assert "ADF.USIM/6F40" not in _paths(PROVGW, profile)
    more = CardProfile.create({**PROFILE_FIELDS, "ust": sorted(profile.ust | {12, 21})})
    assert {"ADF.USIM/6F40", "ADF.USIM/6F42"} <= set(_paths(PROVGW, more))
