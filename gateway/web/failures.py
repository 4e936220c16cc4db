"""How the front end answers when a request cannot be served: never with a stack trace.

Every front-end route runs inside `WebRoute`. A JSON route (``/ui/api/…``) answers like the
REST API — ``{"detail", "errors": [{"field", "message"}]}`` with 401/403/404/409/422 — and a
page answers with a page that says what happened in the clerk's language (or, without a
session, the sign-in page). An unexpected error is logged for the engineers and the clerk is
told that it happened, without the details.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute

from gateway.resources.refusals import Invalid, NotAllowed, NotFound, ResourceError, Unavailable
from gateway.validation import clerk_errors
from gateway.web import csrf
from gateway.web.i18n import Translator
from gateway.web.outlet import SignInNeeded, chosen_lang
from gateway.web.rendering import SECURITY_HEADERS, page

log = logging.getLogger(__name__)
API_PREFIX = "/ui/api/"
_STATUS: dict[type[ResourceError], int] = {
    NotFound: 404,
    Unavailable: 409,
    NotAllowed: 403,
    Invalid: 422,
}


class Refused(Exception):
    """A front-end request refused with field messages already in the clerk's language."""

    def __init__(self, status: int, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.status = status
        self.errors = errors


def _json(status: int, errors: list[dict[str, str]]) -> JSONResponse:
    detail = "; ".join(e["message"] for e in errors)
    return JSONResponse(
        status_code=status, content={"detail": detail, "errors": errors}, headers=SECURITY_HEADERS
    )


def _answer(request: Request, status: int, errors: list[dict[str, str]]) -> Response:
    if request.url.path.startswith(API_PREFIX):
        return _json(status, errors)
    t = Translator(chosen_lang(request, None))
    heading = t(f"error.{status}") if status in (403, 404, 409, 422) else t("error.500")
    message = "; ".join(e["message"] for e in errors)
    return page(
        "error.html",
        t,
        status=status,
        heading=heading,
        message=message,
        clerk=None,
        here=request.url.path,
        active="",
    )


def _signin(request: Request) -> Response:
    if request.url.path.startswith(API_PREFIX):
        t = Translator(chosen_lang(request, None))
        return _json(401, [{"field": "session", "message": t("signin.needed")}])
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/signin?next={quote(target, safe='')}", status_code=303)


class WebRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            fresh = csrf.begin(request)
            response = await answer(request)
            if fresh is not None:
                csrf.keep(response, request, fresh)
            return response

        async def answer(request: Request) -> Response:
            t = Translator(chosen_lang(request, None))
            try:
                return await handler(request)
            except SignInNeeded:
                return _signin(request)
            except Refused as exc:
                return _answer(request, exc.status, exc.errors)
            except ResourceError as exc:
                errors = [
                    {"field": e["field"], "message": t.gateway_message(e["message"])}
                    for e in exc.errors
                ]
                return _answer(request, _STATUS.get(type(exc), 422), errors)
            except RequestValidationError as exc:
                return _answer(request, 422, clerk_errors(exc.errors()))
            except HTTPException as exc:
                return _answer(
                    request, exc.status_code, [{"field": "body", "message": str(exc.detail)}]
                )
            except Exception:
                log.exception("front end: %s %s failed", request.method, request.url.path)
                return _answer(request, 500, [{"field": "body", "message": t("error.unexpected")}])

        return route
