"""The clerk's session: a signed cookie naming who signed in where, and nothing secret.

The cookie holds a random session id, the operator id, the channel and the expiry, signed
with a key derived from the gateway's secret key (so a gateway restart keeps clerks signed
in, and nobody without the key can forge a session). It is HttpOnly (scripts cannot read
it), SameSite=Strict (no other site can make the browser send it) and Secure behind HTTPS.
Signing out ends the session id in this process at once; the operator and channel are
checked again on every request by the access policy (a disabled operator, or a clerk whose
channel has closed for the day, is signed out).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request, Response

from gateway.vault import Vault

COOKIE = "provgw_session"
LIFETIME_S = 10 * 3600.0  # one working day at the counter
_DOMAIN = b"provgw web session\x00"


@dataclass(frozen=True)
class Session:
    sid: str
    operator: str
    channel: str
    expires_at: float


class Sessions:
    """Issues and checks session cookies; remembers which sessions were signed out."""

    def __init__(self, vault: Vault, *, clock: Callable[[], float] = time.time) -> None:
        self._vault = vault
        self._clock = clock
        self._ended: dict[str, float] = {}

    def _sign(self, payload: bytes) -> str:
        return self._vault.digest(_DOMAIN + payload)

    def issue(self, operator: str, channel: str) -> tuple[Session, str]:
        """A new session and its cookie value."""
        session = Session(
            sid=secrets.token_urlsafe(16),
            operator=operator,
            channel=channel,
            expires_at=self._clock() + LIFETIME_S,
        )
        body = json.dumps(
            {"sid": session.sid, "op": operator, "ch": channel, "exp": session.expires_at},
            separators=(",", ":"),
        ).encode()
        encoded = base64.urlsafe_b64encode(body).decode().rstrip("=")
        return session, f"{encoded}.{self._sign(body)}"

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie carries, if it is genuine, current and not signed out."""
        if not cookie or "." not in cookie or len(cookie) > 1024:
            return None
        encoded, signature = cookie.rsplit(".", 1)
        try:
            body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            return None
        if not hmac.compare_digest(self._sign(body), signature):
            return None
        try:
            data = json.loads(body)
            session = Session(
                str(data["sid"]), str(data["op"]), str(data["ch"]), float(data["exp"])
            )
        except (ValueError, KeyError, TypeError):
            return None
        now = self._clock()
        if session.expires_at <= now or session.sid in self._ended:
            return None
        return session

    def end(self, session: Session) -> None:
        now = self._clock()
        self._ended = {sid: exp for sid, exp in self._ended.items() if exp > now}
        self._ended[session.sid] = session.expires_at


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int, http_only: bool
) -> None:
    """A front-end cookie: whole site, SameSite=Strict, Secure behind HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=http_only,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
