"""Cross-site request forgery: every form the front end posts carries a token another site
cannot know — the sign-in form too (else a page elsewhere could sign a clerk's browser in as
somebody else, and watch what they type).

The browser keeps a random nonce in an HttpOnly, SameSite=Strict cookie; the token in the page
is a keyed digest of that nonce (the gateway's secret key), so neither a script elsewhere nor a
cookie planted by a neighbouring host can produce a matching pair. Forms send the token as the
``csrf`` field, the counter's scripts as the ``X-CSRF-Token`` header; a post without the right
token is refused and changes nothing.
"""

from __future__ import annotations

import hmac
import secrets
from contextvars import ContextVar

from fastapi import Request, Response

from gateway.vault import Vault
from gateway.web.session import set_cookie

COOKIE = "provgw_csrf"
FIELD = "csrf"
HEADER = "x-csrf-token"
_DOMAIN = b"provgw web csrf\x00"
_YEAR_S = 365 * 86400

current: ContextVar[str] = ContextVar("the CSRF token of the request being answered", default="")
"""The token the pages of the current request embed (`gateway.web.rendering` reads it)."""


def _vault(request: Request) -> Vault:
    vault: Vault = request.app.state.engine.store.vault
    return vault


def _token(vault: Vault, nonce: str) -> str:
    return vault.digest(_DOMAIN + nonce.encode())


def begin(request: Request) -> str | None:
    """Make the request's token current; a new nonce (to be set as the cookie) if the browser
    had none."""
    nonce = request.cookies.get(COOKIE)
    fresh = None
    if not nonce or len(nonce) > 64:
        nonce = fresh = secrets.token_urlsafe(24)
    current.set(_token(_vault(request), nonce))
    return fresh


def keep(response: Response, request: Request, nonce: str) -> None:
    set_cookie(response, request, COOKIE, nonce, _YEAR_S, http_only=True)


def valid(request: Request, presented: str | None) -> bool:
    """Whether ``presented`` is the token of the browser's own nonce."""
    nonce = request.cookies.get(COOKIE)
    if not nonce or not presented or len(nonce) > 64:
        return False
    return hmac.compare_digest(_token(_vault(request), nonce), presented)
