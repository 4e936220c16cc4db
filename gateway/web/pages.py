"""The clerk's pages and the fragments their scripts swap in (server-rendered HTML)."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError

from gateway.identifiers import Msisdn
from gateway.orders import ORDER_KINDS, OpenAccount, SimSwap
from gateway.resources import audit
from gateway.resources.guard import admit
from gateway.resources.numbers import price
from gateway.resources.policy import visible_orders
from gateway.resources.refusals import Invalid, NotAllowed, NotFound, Throttled
from gateway.store import OrderRecord, OrderState
from gateway.web import csrf
from gateway.web.failures import Refused, WebRoute
from gateway.web.forms import after_sales_forms, customer_fields, query_fields, swap_fields
from gateway.web.i18n import Translator, parse_lang
from gateway.web.outlet import (
    LANG_COOKIE,
    Clerk,
    SignInNeeded,
    chosen_lang,
    counter_clerk,
    current_clerk,
    lang_cookie,
    outlet,
)
from gateway.web.rendering import page
from gateway.web.session import COOKIE, LIFETIME_S, set_cookie
from gateway.web.stations import station_views

router = APIRouter(route_class=WebRoute, include_in_schema=False)
ClerkDep = Annotated[Clerk, Depends(current_clerk)]
CHANNEL_COOKIE = "provgw_channel"
_MSISDN: TypeAdapter[str] = TypeAdapter(Msisdn)
_YEAR_S = 365 * 86400


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _local_target(value: str | None) -> str:
    """Where to go after signing in or switching language: a front-end page, nothing else."""
    if value and value.startswith("/ui") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui/"


def _t(request: Request) -> Translator:
    return Translator(chosen_lang(request, None))


def view(request: Request, clerk: Clerk, name: str, active: str = "", **context: Any) -> Response:
    return page(
        name,
        clerk.t,
        clerk=clerk,
        here=_here(request),
        active=active,
        zone=clerk.channel.hours.timezone,
        **context,
    )


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (the only kind the pages post), first value of each field."""
    raw = await request.body()
    if len(raw) > 64 * 1024:
        raise Invalid("the form is too large", field="body")
    fields = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


# -- entry, sign-in, language ---------------------------------------------------------------


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=303)


def _signin_page(
    request: Request, t: Translator, *, status: int = 200, **context: Any
) -> HTMLResponse:
    values = {
        "next": _local_target(request.query_params.get("next")),
        "operator": "",
        "channel": request.cookies.get(CHANNEL_COOKIE, ""),
        "refusal": None,
    } | context
    return page(
        "signin.html", t, status=status, clerk=None, here=_here(request), active="", **values
    )


@router.get("/ui/signin")
async def signin_page(request: Request) -> Response:
    try:
        await current_clerk(request)
    except SignInNeeded:
        return _signin_page(request, Translator(chosen_lang(request, None)))
    return RedirectResponse(_local_target(request.query_params.get("next")), status_code=303)


@router.post("/ui/signin")
async def signin(request: Request) -> Response:
    """Operator, password and channel (M2: all three); refused outside the channel's opening
    hours for a clerk. Refusals are audited by the resource layer."""
    here = outlet(request)
    form = await _form(request)
    t = Translator(chosen_lang(request, None))
    if not csrf.valid(request, form.get(csrf.FIELD)):
        return _signin_page(request, t, status=403, refusal=t("csrf.refused"))
    operator_id = form.get("operator", "").strip()[:64]
    channel_id = form.get("channel", "").strip().upper()[:32]
    password = form.get("password", "")
    again = {
        "operator": operator_id,
        "channel": channel_id,
        "next": _local_target(form.get("next")),
    }
    if not operator_id or not password or not channel_id:
        return _signin_page(request, t, status=422, refusal=t("signin.missing"), **again)
    res = here.resources
    try:
        operator = await res.operators.authenticate(
            operator_id,
            password,
            channel=channel_id,
            address=request.client.host if request.client else None,
        )
        now = res.clock()
        await admit(res.store, operator.id, channel_id, "sign in (web)", now=now)
    except Throttled as exc:
        return _signin_page(request, t, status=429, refusal=t.gateway_message(exc.message), **again)
    except NotAllowed as exc:
        return _signin_page(request, t, status=403, refusal=t.gateway_message(exc.message), **again)
    await res.store.run(
        lambda conn: audit.record(
            conn,
            at=now,
            operator=operator.id,
            channel=channel_id,
            action="sign in (web)",
            outcome="done",
        )
    )
    _, cookie = here.sessions.issue(operator.id, channel_id)
    response = RedirectResponse(again["next"], status_code=303)
    set_cookie(response, request, COOKIE, cookie, int(LIFETIME_S), http_only=True)
    set_cookie(response, request, CHANNEL_COOKIE, channel_id, _YEAR_S, http_only=True)
    return response


@router.post("/ui/signout")
async def signout(request: Request) -> Response:
    here = outlet(request)
    if not csrf.valid(request, (await _form(request)).get(csrf.FIELD)):
        raise Refused(403, [{"field": "csrf", "message": _t(request)("csrf.refused")}])
    response = RedirectResponse("/ui/signin", status_code=303)
    try:
        clerk = await current_clerk(request)
    except SignInNeeded:
        return response
    await here.clear_desk(clerk.session)
    here.sessions.end(clerk.session)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/ui/language")
async def language(request: Request) -> Response:
    """Switch language at any moment; remembered for this operator (and this PC)."""
    form = await _form(request)
    if not csrf.valid(request, form.get(csrf.FIELD)):
        raise Refused(403, [{"field": "csrf", "message": _t(request)("csrf.refused")}])
    lang = parse_lang(form.get("lang")) or "en"
    response = RedirectResponse(_local_target(form.get("next")), status_code=303)
    set_cookie(response, request, LANG_COOKIE, lang, _YEAR_S, http_only=False)
    try:
        clerk = await current_clerk(request)
    except SignInNeeded:
        return response
    set_cookie(response, request, lang_cookie(clerk.operator.id), lang, _YEAR_S, http_only=False)
    return response


# -- the counter ----------------------------------------------------------------------------


@router.get("/ui/")
@router.get("/ui")
async def home(request: Request, clerk: ClerkDep) -> Response:
    engine = outlet(request).engine
    recent = await visible_orders(engine.store, clerk.access.channels, limit=8)
    return view(
        request,
        clerk,
        "home.html",
        attention=await _attention(request, clerk),
        orders=_summaries(recent),
        compact=True,
        stations=await station_views(engine, clerk.t),
        mode="list",
        selected="",
    )


def _new_order_id(clerk: Clerk) -> str:
    """The wizard's order id, fixed when the page is made: a second click places nothing new."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return f"ui-{clerk.channel.id}-{stamp}-{secrets.token_hex(3)}"


@router.get("/ui/open-account")
async def open_account_page(request: Request, clerk: ClerkDep) -> Response:
    counter_clerk(clerk)
    engine = outlet(request).engine
    return view(
        request,
        clerk,
        "open_account.html",
        active="open",
        order_id=_new_order_id(clerk),
        customer_fields=customer_fields(clerk.t),
        products=engine.config.products,
        stations=await station_views(engine, clerk.t),
        mode="choose",
        selected="",
    )


@router.get("/ui/sim-swap")
async def sim_swap_page(request: Request, clerk: ClerkDep) -> Response:
    counter_clerk(clerk)
    engine = outlet(request).engine
    return view(
        request,
        clerk,
        "sim_swap.html",
        active="after",
        fields=swap_fields(clerk.t),
        stations=await station_views(engine, clerk.t),
        mode="choose",
        selected="",
    )


@router.get("/ui/after-sales")
async def after_sales_page(request: Request, clerk: ClerkDep) -> Response:
    counter_clerk(clerk)
    return view(
        request, clerk, "after_sales.html", active="after", forms=after_sales_forms(clerk.t)
    )


@router.get("/ui/query")
async def query_page(request: Request, clerk: ClerkDep) -> Response:
    return view(request, clerk, "query.html", active="query", fields=query_fields(clerk.t))


@router.get("/ui/numbers")
async def number_search(request: Request, clerk: ClerkDep) -> Response:
    """Available numbers by mask or digits, each with its selection fee (a fragment)."""
    res = outlet(request).resources
    pattern = request.query_params.get("pattern", "").strip() or None
    contains = request.query_params.get("contains", "").strip() or None
    try:
        found = await res.numbers.search(
            pattern=pattern, contains=contains, available=True, limit=20
        )
    except Invalid as exc:
        return page(
            "_numbers.html",
            clerk.t,
            status=422,
            numbers=[],
            error=clerk.t.gateway_message(exc.message),
        )
    numbers = price(await res.fees.schedule(), found)
    return page("_numbers.html", clerk.t, numbers=numbers, error=None)


@router.get("/ui/stations")
async def stations_fragment(request: Request, clerk: ClerkDep) -> Response:
    mode = "choose" if request.query_params.get("mode") == "choose" else "list"
    return page(
        "_stations.html",
        clerk.t,
        stations=await station_views(outlet(request).engine, clerk.t),
        mode=mode,
        selected=request.query_params.get("selected", ""),
    )


# -- orders ---------------------------------------------------------------------------------


def _filters(request: Request, t: Translator) -> tuple[dict[str, str], str | None]:
    q = request.query_params
    state = q.get("state", "")
    kind = q.get("kind", "")
    msisdn = q.get("msisdn", "").strip()
    error = None
    if msisdn:
        try:
            msisdn = _MSISDN.validate_python(msisdn)
        except ValidationError as exc:
            error = t.gateway_message(str(exc.errors()[0]["msg"]).removeprefix("Value error, "))
    return {
        "state": state if state in {s.value for s in OrderState} else "",
        "kind": kind if kind in ORDER_KINDS else "",
        "msisdn": msisdn,
        "attention": "1" if q.get("attention") == "1" else "",
    }, error


def _summaries(recs: list[OrderRecord]) -> list[dict[str, Any]]:
    """Orders as ``GET /orders`` lists them."""
    from gateway.api import order_summary  # gateway.api includes this router: import when used

    return [order_summary(r) for r in recs]


async def _orders(
    request: Request, clerk: Clerk, filters: dict[str, str], error: str | None
) -> list[Any]:
    if error:
        return []
    try:
        limit = max(1, min(200, int(request.query_params.get("limit", "50"))))
    except ValueError:
        limit = 50
    recs = await visible_orders(
        outlet(request).engine.store,
        clerk.access.channels,
        state=filters["state"] or None,
        kind=filters["kind"] or None,
        msisdn=filters["msisdn"] or None,
        limit=limit,
        attention=True if filters["attention"] else None,
    )
    return _summaries(recs)


async def _attention(request: Request, clerk: Clerk) -> int:
    """How many orders wait for an engineer (shown as a banner on the home and orders pages)."""
    store = outlet(request).engine.store
    return len(await visible_orders(store, clerk.access.channels, attention=True, limit=1000))


@router.get("/ui/orders")
async def orders_page(request: Request, clerk: ClerkDep) -> Response:
    filters, error = _filters(request, clerk.t)
    return view(
        request,
        clerk,
        "orders.html",
        active="orders",
        attention=await _attention(request, clerk),
        orders=await _orders(request, clerk, filters, error),
        compact=False,
        filters=filters,
        filter_error=error,
        query=urlencode({k: v for k, v in filters.items() if v}),
        states=[s.value for s in OrderState],
        kinds=sorted(ORDER_KINDS),
    )


@router.get("/ui/orders/table")
async def orders_table(request: Request, clerk: ClerkDep) -> Response:
    filters, error = _filters(request, clerk.t)
    return page(
        "_orders_table.html",
        clerk.t,
        orders=await _orders(request, clerk, filters, error),
        compact=request.query_params.get("compact") == "1",
        zone=clerk.channel.hours.timezone,
    )


async def _record(request: Request, order_id: str, clerk: Clerk) -> OrderRecord:
    """The order, if the clerk may read it (their channels', their area's)."""
    rec = await outlet(request).engine.store.get(order_id[:64])
    if rec is None or not clerk.access.sees(rec.channel):
        raise NotFound(clerk.t("order.not_found", id=order_id[:64]), field="order_id")
    return rec


async def progress_context(request: Request, rec: OrderRecord) -> dict[str, Any]:
    """An order's detail (as ``GET /orders/{id}`` gives it) with each step's timing."""
    from gateway.api import order_detail  # gateway.api includes this router: import when used

    d = await order_detail(outlet(request).engine, rec)
    d.setdefault("notes", [])  # only an order that was planned has them
    timing = {s.idx: s for s in rec.steps if s.phase == "forward"}
    for step in d["plan"]:
        rec_step = timing.get(step["index"])
        took = None
        if rec_step and rec_step.started_at is not None and rec_step.finished_at is not None:
            took = rec_step.finished_at - rec_step.started_at
        step["took"] = took
    proven = rec.state is OrderState.COMPLETED and any(
        s["operation"]["op"] == "prove_authentication" and s["state"] == "done" for s in d["plan"]
    )
    return {"d": d, "terminal": rec.state.terminal, "proven": proven}


@router.get("/ui/orders/{order_id}")
async def order_page(request: Request, clerk: ClerkDep, order_id: str) -> Response:
    rec = await _record(request, order_id, clerk)
    kind = ORDER_KINDS.get(rec.kind)
    return view(
        request,
        clerk,
        "order.html",
        active="orders",
        process=getattr(kind, "process", ""),
        **await progress_context(request, rec),
    )


@router.get("/ui/orders/{order_id}/progress")
async def order_progress(request: Request, clerk: ClerkDep, order_id: str) -> Response:
    rec = await _record(request, order_id, clerk)
    return page("_progress.html", clerk.t, **await progress_context(request, rec))


@router.get("/ui/orders/{order_id}/receipt")
async def receipt(request: Request, clerk: ClerkDep, order_id: str) -> Response:
    here = outlet(request)
    rec = await _record(request, order_id, clerk)
    order = rec.order
    if not isinstance(order, OpenAccount | SimSwap):
        raise NotFound(clerk.t("receipt.none", id=rec.id), field="order_id")
    context = await progress_context(request, rec)
    product = None
    fee = 0
    customer = None
    if isinstance(order, OpenAccount):
        product = here.engine.config.product(order.product)
        fee = (await here.resources.fees.schedule()).fee(order.msisdn).cents
        customer = order.customer
    return view(
        request,
        clerk,
        "receipt.html",
        **context,
        customer=customer,
        product=product,
        selection_fee=fee,
        iccid=order.iccid if isinstance(order, OpenAccount) else order.new_iccid,
        station=order.card.station if order.card else "—",
    )


# -- network --------------------------------------------------------------------------------


def _targets(request: Request) -> list[dict[str, Any]]:
    return outlet(request).engine.network_status()


def _updated(clerk: Clerk) -> str:
    return f"{clerk.channel.hours.local(time.time()):%H:%M:%S}"


@router.get("/ui/network")
async def network_page(request: Request, clerk: ClerkDep) -> Response:
    return view(
        request,
        clerk,
        "network.html",
        active="network",
        targets=_targets(request),
        updated=_updated(clerk),
    )


@router.get("/ui/network/table")
async def network_table(request: Request, clerk: ClerkDep) -> Response:
    return page(
        "_network_table.html",
        clerk.t,
        targets=_targets(request),
        updated=_updated(clerk),
        zone=clerk.channel.hours.timezone,
    )
