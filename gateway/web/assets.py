"""The front end's own stylesheet and scripts, served from the package (no CDN, no build step),
and the page for an address under ``/ui`` that does not exist."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.web.failures import WebRoute
from gateway.web.i18n import Translator
from gateway.web.outlet import chosen_lang
from gateway.web.rendering import page

router = APIRouter(route_class=WebRoute, include_in_schema=False)
not_found = APIRouter(route_class=WebRoute, include_in_schema=False)
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,40}\.(css|js)")
_TYPES = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"}


@cache
def _asset(name: str) -> tuple[bytes, str] | None:
    if not _NAME.fullmatch(name):
        return None
    path = resources.files("gateway.web").joinpath("static", name)
    if not path.is_file():
        return None
    body = path.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:16]


@router.get("/ui/static/{name}")
async def static_file(request: Request, name: str) -> Response:
    found = _asset(name)
    if found is None:
        return await missing(request, f"static/{name}")
    body, etag = found
    headers = {
        "ETag": f'"{etag}"',
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=_TYPES[name.rsplit(".", 1)[1]], headers=headers)


@not_found.get("/ui/{path:path}")
async def missing(request: Request, path: str) -> Response:
    t = Translator(chosen_lang(request, None))
    return page(
        "error.html",
        t,
        status=404,
        heading=t("error.404"),
        message=t("error.no_page"),
        clerk=None,
        here="/ui/",
        active="",
    )
