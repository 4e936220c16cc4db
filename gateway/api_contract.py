"""The API's contract is its OpenAPI description: every refusal has one body, and the
description names every status a route can answer with, so a generated client can rely on it.

Every refusal — bad input (422), not logged in (401), not allowed (403), not found (404), not
available now (409), sign-in locked (429), an unreachable network element (503) — comes back
as a `Refusal`: ``{"detail": "<one line>", "errors": [{"field", "message"}]}``. FastAPI's own
422 body (``detail`` as a list) is never sent, so the description drops it for `Refusal`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class FieldError(BaseModel):
    field: str  # a dotted field name (``customer.id_number``), ``body``, or ``line N``
    message: str


class Refusal(BaseModel):
    """Why a request was refused; nothing was changed."""

    detail: str
    errors: list[FieldError]


REFUSALS: dict[int, str] = {
    400: "malformed request",
    401: "not logged in, or a wrong operator id or password (HTTP Basic)",
    403: "not allowed: role, channel, opening hours, or the caller's identity",
    404: "not found (or not visible to this operator)",
    409: "not available now: held by somebody else, a different body for the same id",
    422: "bad input, each field named; nothing was changed",
    429: "sign-in locked after too many wrong passwords; see Retry-After",
}
UNREACHABLE = {503: "a network element is unknown or unreachable"}


def refusal_body(detail: str, field: str = "body") -> dict[str, Any]:
    return {"detail": detail, "errors": [{"field": field, "message": detail}]}


async def _http_refusal(_: Request, exc: Exception) -> JSONResponse:
    """An `HTTPException` (raised by a route or by routing: 404, 405) as a `Refusal`."""
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        status_code=exc.status_code,
        content=refusal_body(str(exc.detail)),
        headers=exc.headers,
    )


def keep_contract(app: FastAPI, *, unreachable: Collection[str] = ()) -> None:
    """Answer every `HTTPException` as a `Refusal` and describe, on every operation, the
    refusals it can give with that model (``unreachable``: paths that also answer 503)."""
    app.add_exception_handler(StarletteHTTPException, _http_refusal)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["FieldError"] = FieldError.model_json_schema()
        refusal = Refusal.model_json_schema(ref_template="#/components/schemas/{model}")
        refusal.pop("$defs", None)
        components["Refusal"] = refusal
        body = {"application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}}
        for path, operations in schema.get("paths", {}).items():
            statuses = REFUSALS | (UNREACHABLE if path in unreachable else {})
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in statuses.items():
                    responses[str(status)] = {"description": description, "content": body}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
