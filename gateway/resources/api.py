"""REST routes for the resources: ``/numbers``, ``/sims``, ``/customers``, ``/operators``,
``/channels``, ``/audit``.

Every route needs an operator: HTTP Basic with the operator id and password (M2: operator ID +
password; the optional ``X-Provgw-Channel`` header names the channel for the audit trail).
Counter actions name their channel in the body and pass the same channel/hours check as orders.
Refusals come back as ``{"detail": …, "errors": [{"field", "message"}]}``: 401 not logged in,
403 not allowed, 404 not found, 409 not available now, 422 bad input (nothing changed).
There is deliberately no route that deletes a customer category, a fee rule or an audit row.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, ConfigDict, Field

from gateway.identifiers import SafeText
from gateway.orders import ChannelId, IdType
from gateway.resources import audit
from gateway.resources.access import Permission, require
from gateway.resources.channels import ChannelChange, ChannelIn
from gateway.resources.customers import (
    CategoryChange,
    CategoryIn,
    CustomerChange,
    CustomerIn,
    Membership,
)
from gateway.resources.distribution import DistributeIn, Resource, ReturnIn
from gateway.resources.fees import FeeRule, RuleKind
from gateway.resources.guard import admit
from gateway.resources.numbers import BlockIn, NumberKind, NumberState, price
from gateway.resources.operators import Operator, OperatorChange, OperatorIn, PasswordChange
from gateway.resources.policy import (
    ADMIN,
    COUNTER,
    READ,
    STOCK,
    Action,
    Decision,
    decide,
    masked,
    reveal,
)
from gateway.resources.refusals import (
    Invalid,
    NotAllowed,
    NotFound,
    ResourceError,
    Throttled,
    Unavailable,
)
from gateway.resources.service import Resources
from gateway.resources.stock import CardIn, CardState, Condition, ConditionChange
from gateway.store import OrderStore

MAX_UPLOAD = 256 * 1024 * 1024
_STATUS: dict[type[ResourceError], int] = {
    NotFound: 404,
    Unavailable: 409,
    NotAllowed: 403,
    Invalid: 422,
    Throttled: 429,
}
_CHANNEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


class _ResourceRoute(APIRoute):
    """Turns the resources' refusals into JSON a clerk (and the CLI) can read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except ResourceError as exc:
                retry = getattr(exc, "retry_after", None)
                return JSONResponse(
                    status_code=_STATUS.get(type(exc), 422),
                    content={"detail": exc.message, "errors": exc.errors},
                    headers={"Retry-After": str(retry)} if retry is not None else None,
                )

        return route


router = APIRouter(route_class=_ResourceRoute)
_basic = HTTPBasic(auto_error=False, realm="provgw")


def resources(request: Request) -> Resources:
    """The registers the application was made with (`gateway.api.create_app`): one set per
    process, never one per request — an operator's remembered login and its reset on a change
    live there."""
    found: Resources = request.app.state.resources
    return found


Res = Annotated[Resources, Depends(resources)]


ChannelHeader = Annotated[
    str | None,
    Header(
        alias="X-Provgw-Channel",
        pattern=_CHANNEL.pattern,
        max_length=32,
        description="The channel the request comes from (M2): required for counter roles",
    ),
]


async def current_operator(
    request: Request,
    res: Res,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    channel: ChannelHeader = None,
) -> Operator:
    """The operator of the HTTP Basic credentials: 401 without them or when they are wrong,
    429 while sign-in is locked after too many wrong passwords."""
    challenge = {"WWW-Authenticate": 'Basic realm="provgw"'}
    if credentials is None:
        raise HTTPException(
            401, "log in with your operator id and password (HTTP Basic)", headers=challenge
        )
    try:
        return await res.operators.authenticate(
            credentials.username[:64],
            credentials.password,
            channel=channel or "-",
            address=request.client.host if request.client else None,
        )
    except Throttled as exc:
        raise HTTPException(
            429, exc.message, headers={"Retry-After": str(exc.retry_after)}
        ) from None
    except NotAllowed as exc:
        raise HTTPException(401, exc.message, headers=challenge) from None


@dataclass(frozen=True)
class Access:
    """Who asks, from which channel, and what the access policy decided for them."""

    operator: Operator
    channel: str | None
    decision: Decision


async def permit(
    request: Request, res: Resources, operator: Operator, channel: str | None, action: Action
) -> Access:
    """The access policy for this request (audited refusal: `NotAllowed`, HTTP 403)."""
    decision = await decide(
        res.store,
        operator,
        channel,
        action,
        res.clock(),
        what=f"{request.method} {request.url.path}"[:200],
    )
    if not decision.allowed:
        raise NotAllowed(decision.reason or "not allowed", field="channel")
    return Access(operator, channel, decision)


def allowed(action: Action) -> Callable[..., Awaitable[Access]]:
    """A dependency: the logged-in operator, if the access policy lets them do ``action`` from
    the channel the request names, now."""

    async def dependency(
        request: Request,
        res: Res,
        operator: Annotated[Operator, Depends(current_operator)],
        channel: ChannelHeader = None,
    ) -> Access:
        return await permit(request, res, operator, channel, action)

    return dependency


def _needs(action: Action) -> Callable[..., Awaitable[Operator]]:
    checked = Depends(allowed(action))  # a default, not an annotation: it names a local

    async def dependency(access: Access = checked) -> Operator:
        return access.operator

    return dependency


async def read_access(
    request: Request,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    channel: ChannelHeader = None,
) -> Access | None:
    """The access policy for reading orders, lines and the network's state (which show
    customers' details and the network's inside): the operator must log in and may read from
    here, now. With access control off (a lab), nobody is asked: None."""
    if not request.app.state.engine.config.access_control:
        return None
    res = resources(request)
    operator = await current_operator(request, res, credentials, channel)
    try:
        return await permit(request, res, operator, channel, READ)
    except NotAllowed as exc:
        raise HTTPException(403, exc.message) from None


Reader = Annotated[Operator, Depends(_needs(READ))]
Clerk = Annotated[Operator, Depends(_needs(COUNTER))]
Keeper = Annotated[Operator, Depends(_needs(STOCK))]
Admin = Annotated[Operator, Depends(_needs(ADMIN))]
Reading = Annotated[Access, Depends(allowed(READ))]
Limit = Annotated[int, Query(ge=1, le=1000)]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]  # a stored row id: SQLite's INTEGER range
Word = Annotated[str | None, Query(max_length=64)]  # a filter: a name, a location, an id
Key = Annotated[str, Path(max_length=64)]  # a number, a card, an operator, a channel


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AtChannel(_Body):
    channel: ChannelId


class HoldIn(AtChannel):
    for_customer: int | None = Field(None, ge=1, le=2**63 - 1)


class ReleaseIn(_Body):
    token: str = Field(min_length=8, max_length=64)


class ReserveIn(_Body):
    customer: int = Field(ge=1, le=2**63 - 1)


class CardRelease(_Body):
    damaged: bool = False


class SettingsChange(_Body):
    """The same bounds as the settings themselves (`gateway.resources.numbers`)."""

    hold_minutes: float | None = Field(None, gt=0, le=1440)
    recycle_cooldown_days: float | None = Field(None, ge=0, le=3650)
    max_holds_per_operator: int | None = Field(None, ge=1, le=1000)


class FeeRuleChange(_Body):
    name: SafeText | None = None
    kind: RuleKind | None = None
    length: int | None = Field(None, ge=2, le=11)  # as `FeeRule`
    digit: str | None = None
    digits: str | None = None
    at_end: bool | None = None
    fee_cents: int | None = Field(None, ge=0, le=100_000_000)
    enabled: bool | None = None
    note: SafeText | None = None


async def _at_channel(res: Resources, operator: Operator, channel: str, action: str) -> None:
    await admit(res.store, operator.id, channel, action, now=res.clock())


# -- numbers --------------------------------------------------------------------------------


@router.post("/numbers/blocks", status_code=201, tags=["numbers"])
async def import_block(res: Res, by: Keeper, block: BlockIn) -> dict[str, Any]:
    """Import a block (号段) of numbers as unused: all of them, or none if any is known."""
    count = await res.numbers.import_block(block, by=by.id)
    return {"block": block.block_id, "imported": count}


@router.get("/numbers", tags=["numbers"])
async def search_numbers(
    res: Res,
    _: Reader,
    pattern: Annotated[str | None, Query(description="e.g. 138****8888", max_length=20)] = None,
    contains: Annotated[str | None, Query(description="e.g. 666", max_length=20)] = None,
    state: NumberState | None = None,
    available: bool = False,
    kind: NumberKind | None = None,
    location: Word = None,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    """Search the pool; each number comes with its selection fee (选号费)."""
    found = await res.numbers.search(
        pattern=pattern,
        contains=contains,
        state=state,
        available=available,
        kind=kind,
        location=location,
        limit=limit,
    )
    return price(await res.fees.schedule(), found)


@router.get("/numbers/settings", tags=["numbers"])
async def number_settings(res: Res, _: Reader) -> dict[str, Any]:
    return (await res.numbers.settings()).model_dump()


@router.patch("/numbers/settings", tags=["numbers"])
async def change_number_settings(res: Res, by: Admin, change: SettingsChange) -> dict[str, Any]:
    """Hold length, recycling cool-down, holds per clerk; audited before/after."""
    settings = await res.numbers.change_settings(change.model_dump(exclude_none=True), by=by.id)
    return settings.model_dump()


@router.get("/numbers/fee-rules", tags=["numbers"])
async def fee_rules(res: Res, _: Reader) -> list[dict[str, Any]]:
    return [r.as_dict() for r in await res.fees.all()]


@router.post("/numbers/fee-rules", status_code=201, tags=["numbers"])
async def create_fee_rule(res: Res, by: Admin, rule: FeeRule) -> dict[str, Any]:
    return (await res.fees.create(rule, by=by.id)).as_dict()


@router.patch("/numbers/fee-rules/{rule_id}", tags=["numbers"])
async def change_fee_rule(
    res: Res, by: Admin, rule_id: Id, change: FeeRuleChange
) -> dict[str, Any]:
    """Change a rule (``enabled: false`` retires it); recorded with before and after."""
    return (
        await res.fees.change(rule_id, change.model_dump(exclude_unset=True), by=by.id)
    ).as_dict()


@router.get("/numbers/fee-changes", tags=["numbers"])
async def fee_changes(
    res: Res,
    _: Reader,
    rule: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "rule_id": c.rule_id,
            "before": c.before,
            "after": c.after,
            "operator": c.operator,
            "at": c.at,
        }
        for c in await res.fees.changes(rule, limit)
    ]


async def _distribute(
    res: Resources, resource: Resource, by: Operator, move: DistributeIn
) -> dict[str, Any]:
    return (await res.distribution.distribute(resource, move, by=by.id)).as_dict()


async def _give_back(
    res: Resources, resource: Resource, by: Operator, move: ReturnIn
) -> dict[str, Any]:
    return (await res.distribution.give_back(resource, move, by=by.id)).as_dict()


async def _movements(
    res: Resources, resource: Resource, item: str | None, limit: int
) -> list[dict[str, Any]]:
    return [
        m.as_dict()
        for m in await res.distribution.movements(resource=resource, item=item, limit=limit)
    ]


@router.post("/numbers/distribute", tags=["numbers"])
async def distribute_numbers(res: Res, by: Keeper, move: DistributeIn) -> dict[str, Any]:
    return await _distribute(res, "number", by, move)


@router.post("/numbers/return", tags=["numbers"])
async def return_numbers(res: Res, by: Keeper, move: ReturnIn) -> dict[str, Any]:
    return await _give_back(res, "number", by, move)


@router.get("/numbers/movements", tags=["numbers"])
async def number_movements(
    res: Res, _: Reader, item: Word = None, limit: Limit = 100
) -> list[dict[str, Any]]:
    return await _movements(res, "number", item, limit)


@router.get("/numbers/{msisdn}", tags=["numbers"])
async def get_number(res: Res, _: Reader, msisdn: Key) -> dict[str, Any]:
    record = await res.numbers.get(msisdn)
    return record.as_dict((await res.fees.schedule()).fee(msisdn))


@router.post("/numbers/{msisdn}/hold", status_code=201, tags=["numbers"])
async def hold_number(res: Res, by: Clerk, msisdn: Key, body: HoldIn) -> dict[str, Any]:
    """Pre-occupy (预占) a number for the counter; the hold lapses by itself. 409 when
    somebody else has it."""
    await _at_channel(res, by, body.channel, f"hold number {msisdn}")
    hold = await res.numbers.hold(msisdn, by.id, body.channel, for_customer=body.for_customer)
    fee = (await res.fees.schedule()).fee(msisdn)
    return hold.as_dict() | fee.as_dict()


@router.post("/numbers/{msisdn}/release", tags=["numbers"])
async def release_number(res: Res, _: Clerk, msisdn: Key, body: ReleaseIn) -> dict[str, Any]:
    released = await res.numbers.release_token(msisdn, body.token)
    if not released:
        raise Unavailable(f"number {msisdn} is not held under this token any more", field="token")
    return {"msisdn": msisdn, "released": True}


@router.post("/numbers/{msisdn}/reserve", tags=["numbers"])
async def reserve_number(res: Res, by: Clerk, msisdn: Key, body: ReserveIn) -> dict[str, Any]:
    return (await res.numbers.reserve(msisdn, body.customer, by=by.id)).as_dict()


@router.post("/numbers/{msisdn}/unreserve", tags=["numbers"])
async def unreserve_number(res: Res, by: Clerk, msisdn: Key) -> dict[str, Any]:
    return (await res.numbers.unreserve(msisdn, by=by.id)).as_dict()


@router.post("/numbers/{msisdn}/disable", tags=["numbers"])
async def disable_number(res: Res, by: Keeper, msisdn: Key) -> dict[str, Any]:
    return (await res.numbers.disable(msisdn, by=by.id)).as_dict()


@router.post("/numbers/{msisdn}/enable", tags=["numbers"])
async def enable_number(res: Res, by: Keeper, msisdn: Key) -> dict[str, Any]:
    return (await res.numbers.enable(msisdn, by=by.id)).as_dict()


@router.post("/numbers/{msisdn}/recycle", tags=["numbers"])
async def recycle_number(res: Res, by: Keeper, msisdn: Key) -> dict[str, Any]:
    return (await res.numbers.recycle(msisdn, by=by.id)).as_dict()


# -- SIM stock ------------------------------------------------------------------------------


@router.post("/sims/import", status_code=201, tags=["sims"])
async def import_sims(
    res: Res, by: Keeper, request: Request, location: Annotated[str, Query(max_length=64)] = ""
) -> dict[str, Any]:
    """Import a card vendor output file (the request body, as text). All cards or none;
    bad lines come back as 422 with their line numbers."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise Invalid("the file is larger than 256 MiB: split it", field="file")
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(f"the file is not UTF-8 text (byte {exc.start})", field="file") from None
    try:
        keys = res.transport_keys()
    except (OSError, ValueError) as exc:
        raise Invalid(f"transport keys: {exc}", field="file") from None
    result = await res.stock.import_vendor_file(text, by=by.id, keys=keys, location=location)
    return result.as_dict()


@router.post("/sims", status_code=201, tags=["sims"])
async def add_sim(res: Res, by: Keeper, card: CardIn) -> dict[str, Any]:
    """One card by hand. Its keys are sealed at once and never shown again."""
    return (await res.stock.add_card(card, by=by.id)).as_dict()


@router.get("/sims", tags=["sims"])
async def list_sims(
    res: Res,
    _: Reader,
    state: CardState | None = None,
    condition: Condition | None = None,
    location: Word = None,
    batch: Word = None,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    cards = await res.stock.cards(
        state=state, condition=condition, location=location, batch=batch, limit=limit
    )
    return [c.as_dict() for c in cards]


@router.get("/sims/batches", tags=["sims"])
async def sim_batches(res: Res, _: Reader) -> list[dict[str, Any]]:
    return await res.stock.batches()


@router.post("/sims/condition", tags=["sims"])
async def sim_condition(res: Res, by: Keeper, change: ConditionChange) -> dict[str, Any]:
    """Mark cards in stock usable or damaged (all or none)."""
    count = await res.stock.set_condition(change.iccids, change.condition, by=by.id)
    return {"cards": count, "condition": change.condition.value}


@router.post("/sims/distribute", tags=["sims"])
async def distribute_sims(res: Res, by: Keeper, move: DistributeIn) -> dict[str, Any]:
    return await _distribute(res, "sim", by, move)


@router.post("/sims/return", tags=["sims"])
async def return_sims(res: Res, by: Keeper, move: ReturnIn) -> dict[str, Any]:
    return await _give_back(res, "sim", by, move)


@router.get("/sims/movements", tags=["sims"])
async def sim_movements(
    res: Res, _: Reader, item: Word = None, limit: Limit = 100
) -> list[dict[str, Any]]:
    return await _movements(res, "sim", item, limit)


@router.get("/sims/movements/{movement_id}", tags=["sims", "numbers"])
async def movement_items(res: Res, _: Reader, movement_id: Id) -> dict[str, Any]:
    """The cards or numbers one move carried."""
    return {"movement": movement_id, "items": await res.distribution.items_of(movement_id)}


@router.get("/sims/{iccid}", tags=["sims"])
async def get_sim(res: Res, _: Reader, iccid: Key) -> dict[str, Any]:
    return (await res.stock.get(iccid)).as_dict()


@router.post("/sims/{iccid}/reserve", tags=["sims"])
async def reserve_sim(res: Res, by: Clerk, iccid: Key, body: AtChannel) -> dict[str, Any]:
    await _at_channel(res, by, body.channel, f"reserve card {iccid}")
    return (await res.stock.reserve_card(iccid, by.id)).as_dict()


@router.post("/sims/{iccid}/release", tags=["sims"])
async def release_sim(res: Res, _: Clerk, iccid: Key, body: CardRelease) -> dict[str, Any]:
    if not await res.stock.release_card(iccid, damaged=body.damaged):
        raise Unavailable(f"card {iccid} is not reserved", field="iccid")
    return (await res.stock.get(iccid)).as_dict()


# -- customers ------------------------------------------------------------------------------


@router.get("/customers/categories", tags=["customers"])
async def categories(res: Res, _: Reader) -> list[dict[str, Any]]:
    return [c.as_dict() for c in await res.customers.categories()]


@router.post("/customers/categories", status_code=201, tags=["customers"])
async def add_category(res: Res, by: Admin, category: CategoryIn) -> dict[str, Any]:
    return (await res.customers.add_category(category, by=by.id)).as_dict()


@router.patch("/customers/categories/{number}", tags=["customers"])
async def change_category(
    res: Res, by: Admin, number: Id, change: CategoryChange
) -> dict[str, Any]:
    """Rename a category or change its note. Categories are never deleted."""
    return (await res.customers.change_category(number, change, by=by.id)).as_dict()


@router.post("/customers", status_code=201, tags=["customers"])
async def register_customer(res: Res, by: Clerk, customer: CustomerIn) -> dict[str, Any]:
    """Register a customer; the type (person or unit) follows from the document."""
    return (await res.customers.register(customer, by=by.id)).as_dict()


async def in_full(store: OrderStore, access: Access, what: str, at: float) -> None:
    """Personal data shown in full, where the process needs it: only to a role that serves
    customers (`NotAllowed` otherwise), and the access is audited."""
    if not access.decision.reveal:
        raise NotAllowed(
            f"{access.operator.id} ({access.operator.role.value}) sees customers' ID numbers"
            " and addresses masked"
        )
    await reveal(store, operator=access.operator.id, channel=access.channel, what=what, at=at)


async def _personal(res: Resources, access: Access, record: dict[str, Any]) -> dict[str, Any]:
    """A customer's record in full for a role that serves customers (the counter needs the
    document and the address), masked for any other role."""
    if not access.decision.reveal:
        return masked(record)  # type: ignore[no-any-return]
    await in_full(res.store, access, f"customer {record.get('id')}", res.clock())
    return record


@router.get("/customers", tags=["customers"])
async def find_customer(
    res: Res, access: Reading, id_type: IdType, id_number: Annotated[str, Query(max_length=40)]
) -> dict[str, Any]:
    found = await res.customers.find(id_type, id_number)
    if found is None:
        raise NotFound("no customer with this document", field="id_number")
    return await _personal(res, access, found.as_dict())


@router.get("/customers/{customer_id}", tags=["customers"])
async def get_customer(res: Res, access: Reading, customer_id: Id) -> dict[str, Any]:
    return await _personal(res, access, (await res.customers.get(customer_id)).as_dict())


@router.patch("/customers/{customer_id}", tags=["customers"])
async def change_customer(
    res: Res, by: Clerk, customer_id: Id, change: CustomerChange
) -> dict[str, Any]:
    return (await res.customers.change(customer_id, change, by=by.id)).as_dict()


@router.post("/customers/{customer_id}/categories", tags=["customers"])
async def set_customer_categories(
    res: Res, by: Admin, customer_id: Id, membership: Membership
) -> dict[str, Any]:
    return (await res.customers.set_categories(customer_id, membership, by=by.id)).as_dict()


@router.get("/customers/{customer_id}/may-open", tags=["customers"])
async def may_open(res: Res, _: Reader, customer_id: Id) -> dict[str, Any]:
    """Whether an account may be opened for the customer (complete, not blacklisted)."""
    try:
        await res.customers.check_may_open(customer_id)
    except NotAllowed as exc:
        return {"customer": customer_id, "may_open": False, "reason": exc.message}
    return {"customer": customer_id, "may_open": True, "reason": None}


# -- operators and channels -----------------------------------------------------------------


@router.get("/operators/me", tags=["operators"])
async def me(operator: Reader) -> dict[str, Any]:
    return operator.as_dict()


@router.get("/operators", tags=["operators"])
async def list_operators(res: Res, _: Admin) -> list[dict[str, Any]]:
    return [o.as_dict() for o in await res.operators.all()]


@router.post("/operators", status_code=201, tags=["operators"])
async def create_operator(res: Res, by: Admin, new: OperatorIn) -> dict[str, Any]:
    return (await res.operators.create(new, by=by.id)).as_dict()


async def _self_or_admin(by: Reader, operator_id: Annotated[str, Path(max_length=64)]) -> Operator:
    """An operator acts on their own record; an admin on anyone's (checked before the body)."""
    if operator_id != by.id:
        require(by, Permission.ADMIN)
    return by


SelfOrAdmin = Annotated[Operator, Depends(_self_or_admin)]


@router.get("/operators/{operator_id}", tags=["operators"])
async def get_operator(res: Res, _: SelfOrAdmin, operator_id: Key) -> dict[str, Any]:
    return (await res.operators.get(operator_id)).as_dict()


@router.patch("/operators/{operator_id}", tags=["operators"])
async def change_operator(
    res: Res, by: Admin, operator_id: Key, change: OperatorChange
) -> dict[str, Any]:
    return (await res.operators.change(operator_id, change, by=by.id)).as_dict()


@router.post("/operators/{operator_id}/password", status_code=204, tags=["operators"])
async def set_password(
    res: Res, by: SelfOrAdmin, operator_id: Key, change: PasswordChange
) -> Response:
    """An operator changes their own password; an admin anyone's."""
    await res.operators.set_password(operator_id, change.password, by=by.id)
    return Response(status_code=204)


@router.get("/channels", tags=["channels"])
async def list_channels(res: Res, _: Reader) -> list[dict[str, Any]]:
    now = res.clock()
    return [c.as_dict() | {"open_now": c.hours.is_open(now)} for c in await res.channels.all()]


@router.post("/channels", status_code=201, tags=["channels"])
async def create_channel(res: Res, by: Admin, new: ChannelIn) -> dict[str, Any]:
    """A new channel; without an id it gets the next number of its kind (``OUT002``)."""
    return (await res.channels.create(new, by=by.id)).as_dict()


@router.get("/channels/{channel_id}", tags=["channels"])
async def get_channel(res: Res, _: Reader, channel_id: Key) -> dict[str, Any]:
    channel = await res.channels.get(channel_id)
    return channel.as_dict() | {"open_now": channel.hours.is_open(res.clock())}


@router.patch("/channels/{channel_id}", tags=["channels"])
async def change_channel(
    res: Res, by: Admin, channel_id: Key, change: ChannelChange
) -> dict[str, Any]:
    return (await res.channels.change(channel_id, change, by=by.id)).as_dict()


# -- audit ----------------------------------------------------------------------------------


@router.get("/audit", tags=["audit"])
async def audit_trail(
    res: Res,
    _: Admin,
    operator: Word = None,
    channel: Word = None,
    outcome: Word = None,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    """Refusals and changes, newest first. Never holds a secret."""
    found = await audit.entries(
        res.store, operator=operator, channel=channel, outcome=outcome, limit=limit
    )
    return [asdict(e) for e in found]
