"""Validation problems as the clerk reads them, next to the field they are about.

The field names are the REST API's (`gateway.validation.clerk_errors`), so the browser and an
API client see the same names. The words differ in three ways: a pattern mismatch says what
the field should look like instead of showing a regular expression; length limits and missing
values are said in the clerk's language; and the gateway's own explanations (a wrong ID check
character, an impossible birth date …) are translated where the catalog knows them.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from gateway.validation import clerk_errors
from gateway.web.i18n import Translator


def _message(error: dict[str, Any], field: str, default: str, t: Translator) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    leaf = field.rsplit(".", 1)[-1]
    if kind == "missing":
        return t("check.required")
    if kind == "string_too_short":
        return (
            t("check.required")
            if ctx.get("min_length") == 1
            else t("check.too_short", n=ctx.get("min_length"))
        )
    if kind == "string_too_long":
        return t("check.too_long", n=ctx.get("max_length"))
    if kind == "string_pattern_mismatch":
        key = f"check.pattern.{leaf}"
        return t(key) if t.has(key) else t("check.pattern")
    if kind in ("enum", "literal_error"):
        return t("check.choice")
    return t.gateway_message(default)


def field_errors(exc: ValidationError, t: Translator, *, prefix: str = "") -> list[dict[str, str]]:
    raw = exc.errors()
    return [
        {"field": prefix + e["field"], "message": _message(dict(r), e["field"], e["message"], t)}
        for r, e in zip(raw, clerk_errors(raw), strict=True)
    ]
