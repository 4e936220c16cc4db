"""Notification templates: the packaged file, rendering, and a bad file refused at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.smpp.sms_templates import KIND_FIELDS, NotificationKind, load_templates
from adapters.smpp.sms_text import DataCoding, encode

VALUES = {
    NotificationKind.WELCOME: {"msisdn": "13800138000"},
    NotificationKind.SUSPENSION: {"msisdn": "13800138000"},
    NotificationKind.RESUMPTION: {"msisdn": "13800138000"},
    NotificationKind.NUMBER_CHANGE: {"old_msisdn": "13800138000", "new_msisdn": "13900139000"},
    NotificationKind.RECHARGE: {"msisdn": "13800138000", "amount": "50"},
}


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_renders_in_both_languages(kind: NotificationKind) -> None:
    templates = load_templates()
    english = templates.render(kind, "en", **VALUES[kind])
    chinese = templates.render(kind, "zh", **VALUES[kind])
    for value in VALUES[kind].values():
        assert value in english.text and value in chinese.text
    assert "$" not in english.text + chinese.text
    assert english.sender == chinese.sender == templates.sender(kind)
    # English stays in the GSM alphabet (160 per part), Chinese needs UCS-2.
    assert encode(english.text, 0).data_coding is DataCoding.GSM7
    assert encode(chinese.text, 0).data_coding is DataCoding.UCS2


def test_recharge_text() -> None:
    note = load_templates().render("recharge", "zh", msisdn="13800138000", amount="50")
    assert note.text == "充值成功：您的号码13800138000已充值50元。"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({}, "msisdn"),
        ({"msisdn": "13800138000", "amount": "5"}, "amount"),
        ({"msisdn": "1380\n0138000"}, "msisdn"),
    ],
)
def test_render_refuses_missing_extra_or_unprintable_values(
    values: dict[str, str], field: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        load_templates().render("welcome", "en", **values)


def test_render_refuses_unknown_kind_and_language() -> None:
    templates = load_templates()
    with pytest.raises(ValueError, match=r"^kind:"):
        templates.render("birthday", "en", msisdn="1")
    with pytest.raises(ValueError, match=r"^language:"):
        templates.render("welcome", "fr", msisdn="1")


def _file(tmp_path: Path, **welcome: str) -> Path:
    """A complete templates file whose [welcome] table is ``welcome``."""
    lines = []
    for kind in NotificationKind:
        table = (
            welcome
            if kind is NotificationKind.WELCOME
            else {
                "sender": "provgw",
                "en": " ".join(f"${name}" for name in sorted(KIND_FIELDS[kind])),
                "zh": "好",
            }
        )
        lines.append(f"[{kind.value}]")
        lines += [f"{key} = {value!r}" for key, value in table.items()]
    path = tmp_path / "templates.toml"
    path.write_text("\n".join(lines).replace("'", '"'), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("welcome", "message"),
    [
        ({"sender": "provgw", "en": "Hi $name", "zh": "好"}, r"welcome\.en: \$name is not a field"),
        ({"sender": "provgw", "en": "Hi"}, r"welcome\.zh: missing"),
        ({"sender": "a sender far too long", "en": "Hi", "zh": "好"}, r"welcome\.sender:"),
        ({"sender": "provgw", "en": "5 $", "zh": "好"}, r"welcome\.en: a '\$'"),
        ({"sender": "provgw", "en": "Hi", "zh": "好", "fr": "Salut"}, r"welcome\.fr: unknown key"),
    ],
)
def test_a_bad_file_is_refused_naming_kind_and_field(
    tmp_path: Path, welcome: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        load_templates(_file(tmp_path, **welcome))


def test_an_operators_own_file_replaces_the_packaged_one(tmp_path: Path) -> None:
    path = _file(tmp_path, sender="10086", en="Welcome $msisdn", zh="欢迎$msisdn")
    note = load_templates(path).render("welcome", "zh", msisdn="13800138000")
    assert (note.sender, note.text) == ("10086", "欢迎13800138000")
