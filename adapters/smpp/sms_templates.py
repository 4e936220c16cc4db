"""Notification texts: a sender id and a template per kind and language, from a TOML file.

The texts live in a data file (`sms_templates.toml` beside this module by default) so that an
operator can reword them without a release. The file is checked whole when it is loaded —
every kind, a valid sender, both languages, only the placeholders the kind provides — so a
typo is found when the gateway starts, not when a customer's SMS is due.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from string import Template
from typing import Literal

from adapters.smpp.client import source_address

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")


class NotificationKind(StrEnum):
    WELCOME = "welcome"
    SUSPENSION = "suspension"
    RESUMPTION = "resumption"
    NUMBER_CHANGE = "number_change"
    RECHARGE = "recharge"


KIND_FIELDS: dict[NotificationKind, frozenset[str]] = {
    NotificationKind.WELCOME: frozenset({"msisdn"}),
    NotificationKind.SUSPENSION: frozenset({"msisdn"}),
    NotificationKind.RESUMPTION: frozenset({"msisdn"}),
    NotificationKind.NUMBER_CHANGE: frozenset({"old_msisdn", "new_msisdn"}),
    # The balance lives in billing (M18), outside the gateway: the notice confirms the amount.
    NotificationKind.RECHARGE: frozenset({"msisdn", "amount"}),
}


@dataclass(frozen=True)
class Notification:
    """A rendered notification, ready for `SmppClient.submit`."""

    kind: NotificationKind
    sender: str
    text: str


@dataclass(frozen=True)
class _KindTemplates:
    sender: str
    texts: dict[Language, Template]


class NotificationTemplates:
    """All kinds' templates, checked; `render` fills one in."""

    def __init__(self, kinds: dict[NotificationKind, _KindTemplates]) -> None:
        self._kinds = kinds

    def sender(self, kind: NotificationKind) -> str:
        return self._kinds[kind].sender

    def render(
        self, kind: NotificationKind | str, language: Language | str, **values: str
    ) -> Notification:
        """The text for ``kind`` in ``language`` with ``values`` filled in.

        Every placeholder the kind provides must be given (both languages may use different
        ones) and no other; `ValueError` names the offending field.
        """
        try:
            kind = NotificationKind(kind)
        except ValueError:
            raise ValueError(f"kind: unknown notification kind {kind!r}") from None
        if language not in LANGUAGES:
            raise ValueError(f"language: expected one of {', '.join(LANGUAGES)}")
        expected = KIND_FIELDS[kind]
        for name in sorted(expected - values.keys()):
            raise ValueError(f"{name}: missing for a {kind.value} notification")
        for name in sorted(values.keys() - expected):
            raise ValueError(f"{name}: not a field of a {kind.value} notification")
        for name, value in values.items():
            if not isinstance(value, str) or not value or not value.isprintable():
                raise ValueError(f"{name}: expected printable, non-empty text")
        templates = self._kinds[kind]
        text = templates.texts[language].substitute(values)
        return Notification(kind, templates.sender, text)


def load_templates(path: Path | None = None) -> NotificationTemplates:
    """Read and check a templates file (the packaged one by default).

    Raises `ValueError` naming the kind and field at fault.
    """
    if path is None:
        raw = resources.files("adapters.smpp").joinpath("sms_templates.toml").read_text("utf-8")
        origin = "sms_templates.toml"
    else:
        raw, origin = path.read_text("utf-8"), str(path)
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{origin}: {exc}") from None
    unknown = sorted(set(data) - {kind.value for kind in NotificationKind})
    if unknown:
        raise ValueError(f"{origin}: {unknown[0]}: not a notification kind")
    return NotificationTemplates(
        {kind: _kind(origin, kind, data.get(kind.value)) for kind in KIND_FIELDS}
    )


def _kind(origin: str, kind: NotificationKind, table: object) -> _KindTemplates:
    where = f"{origin}: {kind.value}"
    if not isinstance(table, dict):
        raise ValueError(f"{where}: missing")
    extra = sorted(set(table) - {"sender", *LANGUAGES})
    if extra:
        raise ValueError(f"{where}.{extra[0]}: unknown key")
    sender = table.get("sender")
    if not isinstance(sender, str):
        raise ValueError(f"{where}.sender: missing")
    try:
        source_address(sender)
    except ValueError as exc:
        raise ValueError(f"{where}.{exc}") from None
    texts: dict[Language, Template] = {}
    for language in LANGUAGES:
        text = table.get(language)
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}.{language}: missing")
        template = Template(text)
        if not template.is_valid():
            raise ValueError(f"{where}.{language}: a '$' that starts no placeholder (use $$)")
        used = set(template.get_identifiers())
        for name in sorted(used - KIND_FIELDS[kind]):
            raise ValueError(f"{where}.{language}: ${name} is not a field of this kind")
        texts[language] = template
    return _KindTemplates(sender, texts)
