"""The REST API (FastAPI): orders in, order status and lines out, live events.

OpenAPI at ``/docs``. Bad input gets HTTP 422 with each field named and a message a clerk can
act on, never the offending value (it may be a secret) and never a stack trace.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from gateway.api_contract import keep_contract
from gateway.counter import Counter
from gateway.engine import Engine, IntakeRefused
from gateway.lines import Line
from gateway.operations import Lookup
from gateway.orders import ORDER_KINDS, Order
from gateway.resources.api import (
    Access,
    Key,
    current_operator,
    in_full,
    read_access,
    resources,
)
from gateway.resources.api import router as resources_router
from gateway.resources.policy import COUNTER_ROLES, masked, visible_orders
from gateway.resources.refusals import NotAllowed
from gateway.resources.service import Resources
from gateway.stations_api import router as stations_router
from gateway.store import Conflict, OrderRecord, OrderStore
from gateway.validation import clerk_errors, summary
from gateway.web import query_rules
from gateway.web.i18n import Translator
from gateway.web.routes import router as web_router

HEARTBEAT_S = 15.0
_login = HTTPBasic(auto_error=False, realm="provgw")


def order_summary(rec: OrderRecord) -> dict[str, Any]:
    return {
        "order_id": rec.id,
        "kind": rec.kind,
        "msisdn": rec.msisdn,
        "channel": rec.channel,
        "operator": rec.operator,
        "state": rec.state.value,
        "reason": rec.reason,
        "needs_attention": rec.attention,
        "waiting_for": rec.waiting_for,
        "waiting_since": rec.waiting_since,
        "note": rec.note,
        "deadline_at": rec.deadline_at,
        "created_at": rec.created_at,
        "finished_at": rec.finished_at,
    }


async def order_detail(engine: Engine, rec: OrderRecord) -> dict[str, Any]:
    """Everything about one order, secrets masked: plan with exact commands, steps, transcript."""
    detail = order_summary(rec)
    detail["order"] = rec.order.model_dump(mode="json") if rec.order else None
    steps = {(s.phase, s.idx): s for s in rec.steps}
    plan: list[dict[str, Any]] = []
    if rec.plan is not None:
        for step in rec.plan.steps:
            targets = engine.targets
            fwd, back = steps.get(("forward", step.index)), steps.get(("compensate", step.index))
            plan.append(
                {
                    "index": step.index,
                    "ne": step.ne,
                    "description": step.description,
                    "operation": step.op.model_dump(mode="json"),
                    "command": targets.try_render(step.ne, step.op),
                    "compensation": step.compensation.model_dump(mode="json")
                    if step.compensation
                    else None,
                    "compensation_command": targets.try_render(step.ne, step.compensation)
                    if step.compensation
                    else None,
                    "state": fwd.state.value if fwd else "pending",
                    "attempts": fwd.attempts if fwd else 0,
                    "compensation_state": back.state.value if back else None,
                }
            )
        detail["notes"] = rec.plan.notes
    detail["plan"] = plan
    detail["sms"] = [
        {"step": idx, "message_id": message_id, "status": status}
        for idx, message_id, status in await engine.store.sms_messages(rec.id)
    ]
    detail["transcript"] = [
        {
            "step": t.idx,
            "phase": t.phase,
            "ne": t.ne,
            "outcome": t.outcome,
            "code": t.code,
            "text": t.text,
            "command": t.command,
            "response": t.response,
            "elapsed_ms": round(t.elapsed_ms, 3),
            "at": t.at,
        }
        for t in await engine.store.transcript(rec.id)
    ]
    return detail


async def logged_in_operator(
    request: Request,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(_login)],
) -> str | None:
    """The operator logged in (HTTP Basic) who places an order; the intake guard applies the
    access policy to the order's own channel. With access control off (a lab), nobody is
    asked."""
    engine: Engine = request.app.state.engine
    if not engine.config.access_control:
        return None
    operator = await current_operator(request, resources(request), credentials)
    return operator.id


ReadAccess = Annotated[Access | None, Depends(read_access)]


def _scope(access: Access | None) -> frozenset[str] | None:
    return access.decision.channels if access is not None else None


async def _identified(request: Request, engine: Engine, access: Access | None, msisdn: str) -> None:
    """A counter role reads a line only for a caller who identified themselves (seed
    查询流程): the service password first, else the owner's ID document — in headers, never
    the URL, which ends up in logs. Engineers and admins read lines as network data."""
    if access is None or access.operator.role not in COUNTER_ROLES:
        return
    headers = request.headers
    try:
        await query_rules.decide(
            engine.store,
            msisdn,
            password=headers.get("x-provgw-service-password"),
            id_type=headers.get("x-provgw-id-type"),
            id_number=headers.get("x-provgw-id-number"),
        )
    except query_rules.QueryRefused as exc:
        reason = Translator("en")(exc.key)
        await query_rules.record_refusal(
            engine.store,
            operator=access.operator.id,
            channel=access.channel or "-",
            msisdn=msisdn,
            reason=reason,
            at=time.time(),
        )
        raise HTTPException(status_code=403, detail=reason) from None


def create_app(engine: Engine, resources: Resources | None = None) -> FastAPI:
    """The REST API and the front end over ``engine``. ``resources``: the process's registers;
    by default the ones its counter was joined to the engine with (`running_gateway`), else
    made here, once."""
    store: OrderStore = engine.store
    app = FastAPI(
        title="provgw",
        summary="Provisioning gateway: service orders to HLR/HSS commands, durably.",
        version="0.1.0",
    )

    app.state.engine = engine
    if resources is None:
        hooks = engine.hooks
        resources = (
            hooks.res if isinstance(hooks, Counter) else Resources.of_gateway(store, engine.config)
        )
    app.state.resources = resources
    keep_contract(app, unreachable={"/lines/{msisdn}/network"})
    app.include_router(resources_router)
    app.include_router(stations_router)
    app.include_router(web_router)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = clerk_errors(exc.errors())
        return JSONResponse(status_code=422, content={"detail": summary(errors), "errors": errors})

    @app.post("/orders", status_code=202, tags=["orders"])
    async def submit_order(
        order: Annotated[Order, Body()],
        placer: Annotated[str | None, Depends(logged_in_operator)],
    ) -> JSONResponse:
        """Accept an order. 202 when new, 200 when the same order was already accepted, 409
        when the same order id came with a different body, 401 without the operator's login
        (HTTP Basic), 403 when the channel or operator may not place it (another operator's
        order, unknown, blocked, outside opening hours)."""
        if placer is not None and placer != order.operator:
            raise HTTPException(
                status_code=403, detail=f"{placer} may not place orders as {order.operator}"
            )
        try:
            rec, created = await engine.submit(order)
        except Conflict as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from None
        except IntakeRefused as exc:
            raise HTTPException(status_code=403, detail=exc.reason) from None
        return JSONResponse(status_code=202 if created else 200, content=order_summary(rec))

    @app.get("/orders", tags=["orders"])
    async def list_orders(
        access: ReadAccess,
        state: Annotated[str | None, Query(max_length=32)] = None,
        kind: Annotated[str | None, Query(max_length=64)] = None,
        msisdn: Annotated[str | None, Query(max_length=20)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
        attention: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first; ``attention=true``: only orders left for an engineer (an undo the NE
        refused). A clerk sees their channels' orders, a supervisor their area's."""
        if kind is not None and kind not in ORDER_KINDS:
            raise HTTPException(status_code=422, detail=f"unknown order kind '{kind}'")
        recs = await visible_orders(
            store,
            _scope(access),
            state=state,
            kind=kind,
            msisdn=msisdn,
            limit=limit,
            before_seq=before,
            attention=attention,
        )
        return [order_summary(r) | {"seq": r.seq} for r in recs]

    @app.get("/orders/{order_id}", tags=["orders"])
    async def get_order(
        access: ReadAccess, order_id: Key, reveal_personal: Annotated[bool, Query()] = False
    ) -> dict[str, Any]:
        """The order with its plan, steps and transcript. The customer's ID number and
        address are masked unless ``reveal_personal=true`` (audited; not for engineers)."""
        rec = await store.get(order_id)
        if rec is None or (access is not None and not access.decision.sees(rec.channel)):
            raise HTTPException(status_code=404, detail=f"no order {order_id}")
        detail = await order_detail(engine, rec)
        if not reveal_personal:
            return masked(detail)  # type: ignore[no-any-return]
        if access is not None:
            try:
                await in_full(store, access, f"order {order_id}", time.time())
            except NotAllowed as exc:
                raise HTTPException(status_code=403, detail=exc.message) from None
        return detail

    @app.get("/events", tags=["orders"])
    async def events(request: Request, access: ReadAccess) -> StreamingResponse:
        """Server-sent events: one ``order`` event per status change (of the orders the
        operator may read)."""
        scope = _scope(access)
        channel_of: dict[str, str | None] = {}

        async def visible(event: dict[str, Any]) -> bool:
            if scope is None:
                return True
            order_id = str(event.get("order_id"))
            if order_id not in channel_of:
                rec = await store.get(order_id)
                channel_of[order_id] = rec.channel if rec else None
            return channel_of[order_id] in scope

        async def stream() -> AsyncIterator[str]:
            async with engine.events.subscribe() as queue:
                yield ": connected\n\n"
                while not await request.is_disconnected():
                    try:
                        event = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if await visible(event):
                        yield f"event: order\ndata: {json.dumps(event)}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.get("/lines/{msisdn}", tags=["lines"])
    async def get_line(request: Request, access: ReadAccess, msisdn: Key) -> Line:
        """The line as the gateway holds it. A clerk or supervisor must pass the caller's
        service password (``X-Provgw-Service-Password``) or the owner's ID document
        (``X-Provgw-Id-Type``, ``X-Provgw-Id-Number``)."""
        await _identified(request, engine, access, msisdn)
        line = (await store.lines([msisdn])).get(msisdn)
        if line is None:
            raise HTTPException(status_code=404, detail=f"no line with number {msisdn}")
        return line

    @app.get("/lines/{msisdn}/network", tags=["lines"])
    async def read_from_network(
        request: Request, access: ReadAccess, msisdn: Key
    ) -> dict[str, Any]:
        """What the NE itself holds for the line (LST SUB/LST KI), next to the gateway's view
        (a counter role identifies the caller as for ``GET /lines/{msisdn}``)."""
        await _identified(request, engine, access, msisdn)
        line = (await store.lines([msisdn])).get(msisdn)
        if line is None:
            raise HTTPException(status_code=404, detail=f"no line with number {msisdn}")
        ne = engine.network.get(line.ne)
        if ne is None:
            raise HTTPException(status_code=503, detail=f"network element {line.ne} unknown")
        try:
            view = await ne.read(Lookup(imsi=line.imsi))
        except (ConnectionError, OSError, TimeoutError) as exc:
            raise HTTPException(status_code=503, detail=f"{line.ne} unreachable: {exc}") from None
        return {
            "ne": line.ne,
            "network": view.model_dump(mode="json"),
            "in_sync": view == line.network,
        }

    @app.get("/network", tags=["operations"], dependencies=[Depends(read_access)])
    async def network_status() -> list[dict[str, Any]]:
        """Each network element and card station: whether orders are sent to it (its circuit
        breaker: closed, open since when and why, half-open while a probe is out), what its
        management interface last said (SNMP or probe: up, degraded, down, unknown), and its
        recent replies: median latency and error rate (timeouts, busy and dropped
        connections count as errors; an NE refusing a command does not)."""
        return engine.network_status()

    @app.get("/health", tags=["operations"])
    async def health(
        request: Request,
        credentials: Annotated[HTTPBasicCredentials | None, Depends(_login)],
    ) -> dict[str, Any]:
        """``ok``, or ``degraded`` while an NE is unreachable or reports itself down. Without
        a login (a load balancer's liveness probe) that is all; a logged-in operator also gets
        the reasons and the orders by state."""
        troubles = engine.troubles()
        status = {"status": "degraded" if troubles else "ok"}
        if engine.config.access_control:
            if credentials is None:
                return status
            await current_operator(request, request.app.state.resources, credentials)
        return status | {"reasons": troubles, "orders": await store.counts()}

    return app
