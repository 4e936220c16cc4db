"""The JSON routes the counter's scripts call (``/ui/api/…``), on behalf of the signed-in clerk.

They answer like the REST API — 202/200 for an accepted order, 403 with the reason for a
refusal, 409 for a conflict, 422 with ``{"errors": [{"field", "message"}]}`` — but take the
channel and the operator from the session, never from the browser, and speak the clerk's
language. Counter actions pass the same channel/hours check (`admit`) as the REST routes.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import TypeAdapter, ValidationError

from gateway.engine import IntakeRefused
from gateway.identifiers import Msisdn
from gateway.operations import Lookup
from gateway.orders import ChangeNumber, Customer, OpenAccount, Order, parse_order
from gateway.resources.guard import admit
from gateway.resources.numbers import NumberState
from gateway.resources.refusals import Unavailable
from gateway.resources.stock import CardKind, CardState, Condition
from gateway.store import Conflict
from gateway.web import csrf
from gateway.web.failures import Refused, WebRoute
from gateway.web.field_messages import field_errors
from gateway.web.forms import FormProblem, order_body
from gateway.web.i18n import Translator
from gateway.web.outlet import Clerk, Outlet, counter_clerk, current_clerk, outlet
from gateway.web.query_rules import QueryRefused, decide, record_refusal
from gateway.web.rendering import SECURITY_HEADERS, render


async def _same_page(request: Request, clerk: Annotated[Clerk, Depends(current_clerk)]) -> None:
    """A post carries the page's CSRF token (`gateway.web.csrf`): checked once the session is
    (without one, the scripts are told to sign in), before anything else."""
    if request.method != "GET" and not csrf.valid(request, request.headers.get(csrf.HEADER)):
        raise Refused(403, [{"field": "csrf", "message": clerk.t("csrf.refused")}])


router = APIRouter(
    prefix="/ui/api",
    route_class=WebRoute,
    include_in_schema=False,
    dependencies=[Depends(_same_page)],
)
ClerkDep = Annotated[Clerk, Depends(current_clerk)]


async def _counter(clerk: ClerkDep) -> Clerk:
    """The clerk, if their role does counter work — checked before anything is read."""
    return counter_clerk(clerk)


CounterDep = Annotated[Clerk, Depends(_counter)]
HEARTBEAT_S = 15.0
_MSISDN: TypeAdapter[str] = TypeAdapter(Msisdn)
_MAX_BODY = 64 * 1024
_ORDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")  # as orders.OrderId


async def _json_body(request: Request, clerk: Clerk) -> dict[str, Any]:
    """A JSON object body. Requiring ``application/json`` also keeps other sites out: a
    cross-site form cannot send it without a preflight, which this gateway never grants."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise Refused(415, [{"field": "body", "message": clerk.t("check.json")}])
    raw = await request.body()
    try:
        data = json.loads(raw) if len(raw) <= _MAX_BODY else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise Refused(422, [{"field": "body", "message": clerk.t("check.json")}])
    return data


def _number(value: object, clerk: Clerk, field: str = "msisdn") -> str:
    try:
        return _MSISDN.validate_python(str(value or "").strip())
    except ValidationError as exc:
        raise Refused(422, field_errors(exc, clerk.t, prefix=field)) from None


async def _at_counter(here: Outlet, clerk: Clerk, action: str) -> None:
    counter_clerk(clerk)
    await admit(
        here.resources.store,
        clerk.operator.id,
        clerk.channel.id,
        action,
        now=here.resources.clock(),
    )


# -- the customer ---------------------------------------------------------------------------


@router.post("/customer/check")
async def check_customer(request: Request, clerk: CounterDep) -> dict[str, Any]:
    """The customer step: complete and well-formed (C1-F3), and allowed to open an account."""
    here = outlet(request)
    data = await _json_body(request, clerk)
    fields = {
        k: data[k] for k in ("name", "id_type", "id_number", "address", "contact") if data.get(k)
    }
    try:
        customer = Customer.model_validate(fields)
    except ValidationError as exc:
        raise Refused(422, field_errors(exc, clerk.t, prefix="customer.")) from None
    await here.resources.customers.check_may_open(customer)
    known = await here.resources.customers.find(customer.id_type, customer.id_number)
    return {
        "kind": clerk.t(f"customer_kind.{customer.id_type.value}"),
        "known": known is not None,
        "categories": [c.name for c in known.categories] if known else [],
    }


# -- numbers (预占) --------------------------------------------------------------------------


@router.post("/holds")
async def hold_number(request: Request, clerk: CounterDep) -> dict[str, Any]:
    here = outlet(request)
    data = await _json_body(request, clerk)
    msisdn = _number(data.get("msisdn"), clerk)
    await _at_counter(here, clerk, f"hold number {msisdn}")
    res = here.resources
    hold = await res.numbers.hold(msisdn, clerk.operator.id, clerk.channel.id)
    here.desk(clerk.session).holds[msisdn] = hold
    fee = (await res.fees.schedule()).fee(msisdn)
    return {
        "msisdn": msisdn,
        "fee_cents": fee.cents,
        "fee_rule": fee.rule,
        "expires_in_s": max(0.0, hold.expires_at - res.clock()),
    }


@router.post("/holds/{msisdn}/release")
async def release_number(request: Request, clerk: CounterDep, msisdn: str) -> dict[str, Any]:
    here = outlet(request)
    released = await here.release(here.desk(clerk.session), msisdn)
    return {"msisdn": msisdn, "released": released}


async def _check_hold(here: Outlet, clerk: Clerk, msisdn: str, field: str) -> None:
    """The number must still be held (预占) by this clerk, or the order would take a number
    the clerk no longer has."""
    record = await here.resources.numbers.get(msisdn)
    if record.state is not NumberState.HELD or record.held_by != clerk.operator.id:
        raise Refused(
            409, [{"field": field, "message": clerk.t("numbers.not_held", number=msisdn)}]
        )


# -- cards from stock -----------------------------------------------------------------------


@router.post("/cards/reserve")
async def reserve_card(request: Request, clerk: CounterDep) -> dict[str, Any]:
    """A blank card from stock for the card step, reserved for the order about to be placed
    (so the engine finds it reserved for that very order): the one this session took for it,
    else the next usable blank (programmable) card. A card taken for an order that was never
    placed goes back to stock."""
    here = outlet(request)
    data = await _json_body(request, clerk)
    order_id = str(data.get("order_id") or "")
    if not _ORDER_ID.fullmatch(order_id):
        raise Refused(422, [{"field": "order_id", "message": clerk.t("check.pattern.order_id")}])
    await _at_counter(here, clerk, "reserve a blank card")
    stock = here.resources.stock
    desk = here.desk(clerk.session)
    for iccid in list(desk.cards):
        card = await stock.get(iccid)
        mine = card.state is CardState.RESERVED and card.reserved_by == clerk.operator.id
        if mine and card.order_id == order_id:
            return {"iccid": card.iccid, "imsi": card.imsi}
        if mine:
            await stock.release_card(iccid, order_id=card.order_id)
        desk.cards.discard(iccid)
    candidates = await stock.cards(state=CardState.IN_STOCK, condition=Condition.USABLE, limit=50)
    for card in candidates:
        if card.kind is not CardKind.PROGRAMMABLE:
            continue
        try:
            taken = await stock.reserve_card(card.iccid, clerk.operator.id, order_id=order_id)
        except Unavailable:
            continue  # another clerk took it a moment ago
        desk.cards.add(taken.iccid)
        return {"iccid": taken.iccid, "imsi": taken.imsi}
    raise Refused(409, [{"field": "iccid", "message": clerk.t("card.no_stock")}])


@router.post("/desk/clear")
async def clear_desk(request: Request, clerk: CounterDep) -> dict[str, Any]:
    """The clerk cancels: the numbers held and the card taken go back."""
    await outlet(request).clear_desk(clerk.session)
    return {"cleared": True}


# -- orders ---------------------------------------------------------------------------------


async def _card_of(here: Outlet, clerk: Clerk, data: dict[str, Any]) -> tuple[str, str]:
    iccid = str(data.get("iccid") or "")
    if iccid not in here.desk(clerk.session).cards:
        raise Refused(409, [{"field": "iccid", "message": clerk.t("card.take_first")}])
    card = await here.resources.stock.get(iccid)
    return card.iccid, card.imsi


async def _order(here: Outlet, clerk: Clerk, data: dict[str, Any]) -> tuple[Order, list[str]]:
    """The order a form asks for, with what the server knows filled in; and the numbers it
    takes from this clerk's holds."""
    form = str(data.get("form") or "")
    try:
        body = order_body(form, data, clerk.t)
    except FormProblem as exc:
        raise Refused(422, [{"field": exc.field, "message": exc.message}]) from None
    body |= {
        "order_id": str(data.get("order_id") or ""),
        "channel": clerk.channel.id,
        "operator": clerk.operator.id,
        "submitted_at": datetime.now(UTC).isoformat(),
    }
    held: list[str] = []
    if form in ("open_account", "sim_swap"):
        body["card"] = {"station": str(data.get("station") or "")}
        iccid, imsi = await _card_of(here, clerk, data)
        if form == "open_account":
            body |= {"iccid": iccid, "imsi": imsi}
        else:
            body |= {"new_iccid": iccid, "new_imsi": imsi}
    try:
        order = parse_order(body)
    except ValidationError as exc:
        raise Refused(422, field_errors(exc, clerk.t)) from None
    if isinstance(order, OpenAccount):
        held.append(order.msisdn)
        await _check_hold(here, clerk, order.msisdn, "msisdn")
    if isinstance(order, ChangeNumber):
        held.append(order.new_msisdn)
        await _check_hold(here, clerk, order.new_msisdn, "new_msisdn")
    return order, held


@router.post("/orders")
async def submit_order(request: Request, clerk: CounterDep) -> JSONResponse:
    """Place an order from a counter form: 202 new, 200 already placed (a second click)."""
    here = outlet(request)
    counter_clerk(clerk)
    data = await _json_body(request, clerk)
    order, held = await _order(here, clerk, data)
    try:
        rec, created = await here.engine.submit(order)
    except IntakeRefused as exc:
        raise Refused(
            403, [{"field": "body", "message": clerk.t.gateway_message(exc.reason)}]
        ) from None
    except Conflict:
        raise Refused(409, [{"field": "order_id", "message": clerk.t("order.conflict")}]) from None
    desk = here.desk(clerk.session)
    for number in held:  # kept while the order runs; a failed order leaves the hold to retry
        desk.placed[number] = rec.id
    desk.cards.discard(str(data.get("iccid") or ""))  # the order's card now
    return JSONResponse(
        status_code=202 if created else 200,
        content={
            "order_id": rec.id,
            "state": rec.state.value,
            "progress": f"/ui/orders/{rec.id}/progress",
            "detail": f"/ui/orders/{rec.id}",
            "receipt": f"/ui/orders/{rec.id}/receipt",
        },
        headers=SECURITY_HEADERS,
    )


@router.get("/events")
async def events(request: Request, clerk: ClerkDep) -> StreamingResponse:
    """Server-sent ``order`` events for the clerk's live views (the engine's, as ``/events``)."""
    engine = outlet(request).engine

    async def stream() -> AsyncIterator[str]:
        async with engine.events.subscribe() as queue:
            yield "retry: 2000\n: connected\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: order\ndata: {json.dumps(event)}\n\n"

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


# -- subscriber query (C13) -----------------------------------------------------------------


async def _network_word(here: Outlet, clerk: Clerk, ne: str, imsi: str, expected: object) -> str:
    element = here.engine.network.get(ne)
    if element is None:
        return clerk.t("query.network_unknown")
    try:
        view = await asyncio.wait_for(element.read(Lookup(imsi=imsi)), 5)
    except (ConnectionError, OSError, TimeoutError):
        return clerk.t("query.network_unreachable", ne=ne)
    return clerk.t("query.in_sync" if view == expected else "query.out_of_sync", ne=ne)


@router.post("/query")
async def query(request: Request, clerk: ClerkDep) -> dict[str, Any]:
    """A line's details, if the query rules allow them to this caller; recorded as a C13
    query order (so the channel, the operator and the hour are checked and kept)."""
    here = outlet(request)
    data = await _json_body(request, clerk)
    msisdn = _number(data.get("msisdn"), clerk)
    store = here.engine.store
    line = (await store.lines([msisdn])).get(msisdn)
    if line is None:
        raise Refused(
            404, [{"field": "msisdn", "message": clerk.t("query.no_line", number=msisdn)}]
        )
    password = str(data.get("service_password") or "") or None
    try:
        served = await decide(
            store,
            msisdn,
            password=password,
            id_type=str(data.get("id_type") or "resident_id"),
            id_number=str(data.get("id_number") or "").strip() or None,
        )
    except QueryRefused as refused:
        message = clerk.t(refused.key)
        await record_refusal(
            store,
            operator=clerk.operator.id,
            channel=clerk.channel.id,
            msisdn=msisdn,
            reason=Translator("en")(refused.key),
            at=here.resources.clock(),
        )
        raise Refused(403, [{"field": refused.field, "message": message}]) from None
    order = parse_order(
        {
            "kind": "query",
            "order_id": str(data.get("order_id") or ""),
            "channel": clerk.channel.id,
            "operator": clerk.operator.id,
            "msisdn": msisdn,
            "service_password": password,
            "submitted_at": datetime.now(UTC).isoformat(),
        }
    )
    try:
        await here.engine.submit(order)
    except IntakeRefused as exc:
        raise Refused(
            403, [{"field": "body", "message": clerk.t.gateway_message(exc.reason)}]
        ) from None
    product = here.engine.config.product(line.product)
    html = render(
        "_query_result.html",
        clerk.t,
        line=line,
        basis=served.basis,
        weak_password=served.weak_password,
        suspended_reasons=[clerk.t(f"reason.{r.value}") for r in sorted(line.suspended_for)],
        product_name=(
            (product.name_zh if clerk.t.lang == "zh" and product.name_zh else product.name)
            if product
            else line.product
        ),
        network=await _network_word(here, clerk, line.ne, line.imsi, line.network),
        zone=clerk.channel.hours.timezone,
    )
    return {"html": html, "basis": served.basis, "order_id": order.order_id}
