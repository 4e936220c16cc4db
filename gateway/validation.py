"""Turning pydantic's validation errors into messages a clerk can act on.

The input value is never echoed (it may be a key or a password), the location is a dotted
field name (``customer.id_number``), and an unknown order kind lists the kinds there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gateway.orders import ORDER_KINDS

_REQUEST_PARTS = ("body", "query", "path", "header", "cookie")


def field_name(loc: Sequence[int | str]) -> str:
    """``('body', 'open_account', 'customer', 'id_number')`` → ``customer.id_number``,
    ``('query', 'before')`` → ``before``: no request part, no order-kind tag, no pydantic
    validator wrappers."""
    parts = [str(p) for p in loc if not str(p).startswith("function-")]
    if parts and parts[0] in _REQUEST_PARTS:
        parts = parts[1:]
    if parts and parts[0] in ORDER_KINDS:
        parts = parts[1:]
    return ".".join(parts) or "body"


def clerk_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for err in errors:
        kind = err.get("type", "")
        field = field_name(err.get("loc", ()))
        if kind == "union_tag_invalid":
            known = ", ".join(sorted(ORDER_KINDS))
            tag = err.get("ctx", {}).get("tag", "?")
            message = f"unknown order kind '{tag}'; known kinds: {known}"
            field = "kind"
        elif kind == "union_tag_not_found":
            message = "the order needs a 'kind'"
            field = "kind"
        elif kind == "missing":
            message = "this field is required"
        elif kind == "extra_forbidden":
            message = "this field is not part of this kind of order"
        else:
            message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        out.append({"field": field, "message": message})
    return out


def summary(errors: list[dict[str, str]]) -> str:
    return "; ".join(f"{e['field']}: {e['message']}" for e in errors)
