"""What the front end keeps per running gateway, and who is at the counter for a request.

`Outlet` is made once per application (on the first request) over the engine the app was
created with and the same resource registers the REST routes use, so a clerk in the browser
meets exactly the rules an API client meets. `Desk` remembers, per session, the numbers a
clerk holds (with the hold tokens, which never go to the browser) and the cards they took
from stock, so that they can be given back when the clerk cancels or signs out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from gateway.engine import Engine
from gateway.resources.access import Permission, require
from gateway.resources.api import resources
from gateway.resources.channels import Channel
from gateway.resources.numbers import Hold
from gateway.resources.operators import Operator
from gateway.resources.policy import READ, Decision, decide
from gateway.resources.refusals import NotAllowed, NotFound
from gateway.resources.service import Resources
from gateway.web.i18n import Lang, Translator, from_accept_language, parse_lang
from gateway.web.session import COOKIE, Session, Sessions

LANG_COOKIE = "provgw_lang"


@dataclass
class Desk:
    holds: dict[str, Hold] = field(default_factory=dict)
    cards: set[str] = field(default_factory=set)
    placed: dict[str, str] = field(default_factory=dict)  # held number → the order taking it


@dataclass
class Outlet:
    engine: Engine
    resources: Resources
    sessions: Sessions
    desks: dict[str, Desk] = field(default_factory=dict)

    def desk(self, session: Session) -> Desk:
        return self.desks.setdefault(session.sid, Desk())

    async def release(self, desk: Desk, msisdn: str) -> bool:
        """Give a held number back — unless an order placed on it is still running (that
        order takes it into use); a number whose order failed goes back."""
        order_id = desk.placed.get(msisdn)
        if order_id is not None:
            rec = await self.engine.store.get(order_id)
            if rec is not None and not rec.state.terminal:
                return False
        hold = desk.holds.pop(msisdn, None)
        desk.placed.pop(msisdn, None)
        return hold is not None and await self.resources.numbers.release(hold)

    async def clear_desk(self, session: Session) -> None:
        """Give back what the session still holds: its numbers and its unused cards (a card
        an order took is the order's: its outcome decides)."""
        desk = self.desks.pop(session.sid, None)
        if desk is None:
            return
        for msisdn in list(desk.holds):
            await self.release(desk, msisdn)
        for iccid in desk.cards:
            await self.resources.stock.release_card(iccid)


def outlet(request: Request) -> Outlet:
    state = request.app.state
    found: Outlet | None = getattr(state, "outlet", None)
    if found is None:
        engine: Engine = state.engine
        found = Outlet(engine, resources(request), Sessions(engine.store.vault))
        state.outlet = found
    return found


class SignInNeeded(Exception):
    """No valid session: pages redirect to the sign-in page, the JSON routes answer 401."""


@dataclass(frozen=True)
class Clerk:
    """The signed-in operator at their channel, with the language they read."""

    session: Session
    operator: Operator
    channel: Channel
    t: Translator
    access: Decision

    def require(self, permission: Permission) -> None:
        require(self.operator, permission)


def lang_cookie(operator: str | None) -> str:
    """The cookie that remembers the language: one per operator on a shared counter PC."""
    return f"{LANG_COOKIE}.{operator}" if operator else LANG_COOKIE


def chosen_lang(request: Request, operator: str | None) -> Lang:
    return (
        parse_lang(request.cookies.get(lang_cookie(operator)))
        or parse_lang(request.cookies.get(LANG_COOKIE))
        or from_accept_language(request.headers.get("accept-language"))
    )


async def current_clerk(request: Request) -> Clerk:
    """The clerk of a request, if the access policy still lets them read from their channel
    now; raises `SignInNeeded` when there is none (or no longer)."""
    here = outlet(request)
    session = here.sessions.read(request.cookies.get(COOKIE))
    if session is None:
        raise SignInNeeded
    try:
        operator = await here.resources.operators.get(session.operator)
        channel = await here.resources.channels.get(session.channel)
    except NotFound:
        raise SignInNeeded from None
    decision = await decide(
        here.resources.store,
        operator,
        channel.id,
        READ,
        here.resources.clock(),
        what="use the front end (the session ends)",
    )
    if not decision.allowed:  # disabled, moved off the channel, or the channel closed
        await here.clear_desk(session)
        here.sessions.end(session)
        raise SignInNeeded
    t = Translator(chosen_lang(request, operator.id))
    return Clerk(session, operator, channel, t, decision)


def counter_clerk(clerk: Clerk) -> Clerk:
    """The clerk, if their role may do counter work (holds, cards, orders)."""
    try:
        clerk.require(Permission.COUNTER)
    except NotAllowed as exc:
        raise NotAllowed(clerk.t.gateway_message(exc.message)) from None
    return clerk
