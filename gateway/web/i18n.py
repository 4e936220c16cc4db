"""English and 简体中文 for the outlet front end: message catalogs and the language choice.

The catalogs are JSON files in ``messages/`` keyed by message id (``nav.open_account``), so a
translator edits text without touching templates. English is complete by definition; a key
missing from another catalog falls back to English rather than showing a key to a clerk (the
tests check that both catalogs hold the same keys and placeholders).

The gateway's own messages (validation, refusals) are English. For the Chinese pages the
catalog's ``patterns`` section rewrites the common ones (a wrong ID check character, a missing
field …) by regular expression; anything it does not know is shown as the gateway said it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, cast

Lang = Literal["en", "zh"]
LANGUAGES: tuple[Lang, ...] = ("en", "zh")
LANGUAGE_NAMES: dict[Lang, str] = {"en": "English", "zh": "简体中文"}
HTML_LANG: dict[Lang, str] = {"en": "en", "zh": "zh-Hans"}


@dataclass(frozen=True)
class Catalog:
    messages: dict[str, str]
    patterns: tuple[tuple[re.Pattern[str], str], ...]


@cache
def catalog(lang: Lang) -> Catalog:
    raw: dict[str, Any] = json.loads(
        resources.files("gateway.web").joinpath(f"messages/{lang}.json").read_text("utf-8")
    )
    patterns = tuple((re.compile(p), text) for p, text in raw.pop("patterns", {}).items())
    return Catalog(messages=cast(dict[str, str], raw), patterns=patterns)


def parse_lang(value: str | None) -> Lang | None:
    """A supported language from a cookie or form value, else None."""
    for lang in LANGUAGES:
        if value == lang:
            return lang
    return None


def from_accept_language(header: str | None) -> Lang:
    """The first supported language the browser asks for (``zh-CN,zh;q=0.9`` → zh)."""
    for part in (header or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


class Translator:
    """``t("key", name=…)`` in templates and code; also rewrites the gateway's messages."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self._own = catalog(lang)
        self._english = catalog("en")

    def __call__(self, key: str, **params: object) -> str:
        text = self._own.messages.get(key) or self._english.messages.get(key)
        if text is None:
            raise KeyError(f"no message {key!r} in the catalogs")
        return text.format(**params) if params else text

    def has(self, key: str) -> bool:
        return key in self._english.messages

    def gateway_message(self, text: str) -> str:
        """A message from the gateway (English) in this language, where a pattern knows it —
        and the parts it quotes too (``step 2 (…): <the NE's refusal>``). English has patterns
        of its own: messages written for engineers, said again for the counter."""
        for pattern, template in self._own.patterns:
            match = pattern.fullmatch(text)
            if match:
                return template.format(*(self.gateway_message(g or "") for g in match.groups()))
        return text

    def client_messages(self, prefix: str = "js.") -> dict[str, str]:
        """The messages the browser scripts need (keys starting ``js.``)."""
        keys = [k for k in self._english.messages if k.startswith(prefix)]
        return {k.removeprefix(prefix): self(k) for k in keys}
