"""`provgw numbers|sims|customers|operators|channels|audit …`: the resource API from a shell.

Every command talks to a running gateway (``--url`` or ``$PROVGW_URL``) as an operator:
``--operator``/``$PROVGW_OPERATOR``, the password from ``$PROVGW_PASSWORD`` or asked for (never an
option: command lines are visible to other users), and ``--channel``/``$PROVGW_CHANNEL`` for the
counter commands. ``--json`` prints the API's JSON.

Exit codes as for ``provgw order``: 0 done; 2 invalid input (nothing changed); 3 not found;
4 conflict (held or taken by someone else, exists already); 5 the gateway could not be reached;
and 6 refused (wrong login, not allowed for this role, channel closed, blacklisted).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click
import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from gateway.resources.channels import DEFAULT_ZONE, ChannelKind, OpeningHours, local_time
from gateway.resources.fees import RuleKind
from gateway.resources.numbers import NumberKind, NumberState
from gateway.resources.stock import CardState, Condition

EXIT_REFUSED = 6
console = Console()


def _exit_codes() -> dict[int, int]:
    # gateway.cli imports this module to register the groups, so its constants are read late.
    from gateway import cli as gateway_cli

    return {
        401: EXIT_REFUSED,
        403: EXIT_REFUSED,
        404: gateway_cli.EXIT_NOT_FOUND,
        409: gateway_cli.EXIT_CONFLICT,
        422: gateway_cli.EXIT_INVALID,
    }


def _fail(message: str, code: int) -> NoReturn:
    console.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    sys.exit(code)


class Api:
    """One operator's session with the gateway's resource API."""

    def __init__(self, url: str | None, operator: str, channel: str | None, as_json: bool) -> None:
        from gateway import cli as gateway_cli

        self.url = url or gateway_cli.DEFAULT_URL
        self.operator = operator
        self.channel = channel
        self.as_json = as_json
        self._password: str | None = None

    def password(self) -> str:
        if self._password is None:
            self._password = os.environ.get("PROVGW_PASSWORD") or click.prompt(
                f"password for {self.operator}", hide_input=True, err=True
            )
        return self._password

    def need_channel(self) -> str:
        if not self.channel:
            from gateway import cli as gateway_cli

            _fail(
                "say which channel you work on: --channel or $PROVGW_CHANNEL",
                gateway_cli.EXIT_INVALID,
            )
        return self.channel

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"X-Provgw-Channel": self.channel} if self.channel else {}
        try:
            with httpx.Client(
                base_url=self.url, timeout=600, auth=(self.operator, self.password())
            ) as client:
                resp = client.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            from gateway import cli as gateway_cli

            _fail(f"cannot reach the gateway at {self.url}: {exc}", gateway_cli.EXIT_UNREACHABLE)
        if resp.status_code < 300:
            return resp.json() if resp.content else None
        self._refused(resp)

    def _refused(self, resp: httpx.Response) -> NoReturn:
        code = _exit_codes().get(resp.status_code, 1)
        try:
            body = resp.json()
        except ValueError:
            body = {"detail": resp.text or f"HTTP {resp.status_code}"}
        if self.as_json:
            click.echo(json.dumps(body, ensure_ascii=False))
            sys.exit(code)
        errors = body.get("errors") or [{"field": "body", "message": str(body.get("detail"))}]
        for e in errors:
            where = "" if e["field"] == "body" else f"[red]{e['field']}[/red]: "
            console.print(f"{where}{e['message']}", highlight=False, markup=True)
        sys.exit(code)

    def show(self, data: Any, columns: Sequence[str] | None = None) -> None:
        """JSON with --json; else a table of ``columns`` for a list, ``key value`` lines for a
        record."""
        if self.as_json:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        elif isinstance(data, list):
            names = list(columns or (data[0] if data else []))
            table = Table(*names)
            for row in data:
                table.add_row(*(_cell(row.get(c), c) for c in names))
            console.print(table)
        elif isinstance(data, dict):
            for key, value in data.items():
                label = key.removesuffix("_cents")  # the value says ¥
                console.print(f"{label:16} {_cell(value, key)}", highlight=False, markup=False)


def _cell(value: Any, key: str = "") -> str:
    """A value as a clerk reads it: money in yuan, moments in local time (``--json`` keeps the
    cents and the Unix times)."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if key.endswith("_cents"):
            from gateway.web.rendering import money

            return money(int(value))
        if key in ("at", "until") or key.endswith(("_at", "_until")):
            return local_time(float(value))
    return str(value)


def connection(command: Callable[..., None]) -> Callable[..., None]:
    """Adds --url, --operator, --channel and --json, and passes an `Api` as ``api``."""

    @click.option("--url", envvar="PROVGW_URL", help="Gateway API (or $PROVGW_URL).")
    @click.option(
        "--operator",
        envvar="PROVGW_OPERATOR",
        required=True,
        help="Your operator id (or $PROVGW_OPERATOR).",
    )
    @click.option("--channel", envvar="PROVGW_CHANNEL", help="Your channel (or $PROVGW_CHANNEL).")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @functools.wraps(command)
    def wrapper(
        url: str | None, operator: str, channel: str | None, as_json: bool, **kw: Any
    ) -> None:
        command(Api(url, operator, channel, as_json), **kw)

    return wrapper


def _selection(items: tuple[str, ...], first: str | None, last: str | None) -> dict[str, Any]:
    if first or last:
        return {"first": first, "last": last}
    return {"items": list(items)}


def _drop_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


_range = [
    click.option("--first", help="First of a range (instead of listing items)."),
    click.option("--last", help="Last of a range."),
]


def _with(options: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def apply(f: Any) -> Any:
        for option in reversed(options):
            f = option(f)
        return f

    return apply


def _movement_commands(group: click.Group, resource: str, noun: str) -> None:
    """distribute / return / movements, the same for cards and numbers."""

    @group.command("distribute")
    @click.argument("items", nargs=-1)
    @_with(_range)
    @click.option(
        "--to", "to", required=True, help="One level down: Beijing, Beijing/Dongcheng/OUT001 …"
    )
    @click.option("--receiver", help="Who takes the goods (a clerk receives for themselves).")
    @click.option("--note", default="")
    @connection
    def distribute(
        api: Api,
        items: tuple[str, ...],
        first: str | None,
        last: str | None,
        to: str,
        receiver: str | None,
        note: str,
    ) -> None:
        body = _selection(items, first, last) | _drop_none(to=to, receiver=receiver, note=note)
        api.show(api.call("POST", f"/{resource}/distribute", json=body))

    distribute.help = f"Give {noun}s one level down (city → area → outlet → clerk)."

    @group.command("return")
    @click.argument("items", nargs=-1)
    @_with(_range)
    @click.option("--receiver", required=True, help="Who takes the goods one level up.")
    @click.option("--note", default="")
    @connection
    def give_back(
        api: Api,
        items: tuple[str, ...],
        first: str | None,
        last: str | None,
        receiver: str,
        note: str,
    ) -> None:
        body = _selection(items, first, last) | {"receiver": receiver, "note": note}
        api.show(api.call("POST", f"/{resource}/return", json=body))

    give_back.help = f"Give {noun}s back one level up."

    @group.command("movements")
    @click.option("--item", help=f"Only the moves of this {noun}.")
    @click.option("--limit", default=50, show_default=True)
    @connection
    def movements(api: Api, item: str | None, limit: int) -> None:
        rows = api.call("GET", f"/{resource}/movements", params=_drop_none(item=item, limit=limit))
        api.show(rows, ("id", "direction", "from", "to", "count", "operator", "receiver", "at"))

    movements.help = f"Moves of {noun}s, newest first, with who made and who received them."


# -- numbers --------------------------------------------------------------------------------


@click.group()
def numbers() -> None:
    """The number pool: blocks, search, holds (预占), reservations, fees (选号费)."""


@numbers.command("import")
@click.option("--prefix", help="Every number with this prefix (1380013 → 10,000 numbers).")
@_with(_range)
@click.option(
    "--kind", type=click.Choice([k.value for k in NumberKind]), default="mobile", show_default=True
)
@click.option("--length", type=int, help="Digits per number (for a prefix of non-mobile numbers).")
@connection
def numbers_import(
    api: Api, prefix: str | None, first: str | None, last: str | None, kind: str, length: int | None
) -> None:
    """Import a block of numbers as unused (all or none)."""
    body = _drop_none(prefix=prefix, first=first, last=last, kind=kind, length=length)
    api.show(api.call("POST", "/numbers/blocks", json=body))


_NUMBER_COLUMNS = ("msisdn", "state", "state_zh", "fee_cents", "fee_rule", "held_by", "location")


@numbers.command("search")
@click.option("--pattern", help="A mask, * or ? for any digit: 138****8888.")
@click.option("--contains", help="Digits the number contains: 666.")
@click.option("--state", type=click.Choice([s.value for s in NumberState]))
@click.option("--available", is_flag=True, help="Only numbers that can be held now.")
@click.option("--kind", type=click.Choice([k.value for k in NumberKind]))
@click.option("--location")
@click.option("--limit", default=50, show_default=True)
@connection
def numbers_search(api: Api, **query: Any) -> None:
    """Search numbers; each comes with its selection fee (in fen)."""
    params = _drop_none(**query)
    params["available"] = query["available"]
    api.show(api.call("GET", "/numbers", params=params), _NUMBER_COLUMNS)


@numbers.command("show")
@click.argument("msisdn")
@connection
def numbers_show(api: Api, msisdn: str) -> None:
    """One number: state, holder, fee."""
    api.show(api.call("GET", f"/numbers/{msisdn}"))


@numbers.command("hold")
@click.argument("msisdn")
@click.option("--customer", type=int, help="Hold a number reserved for this customer.")
@connection
def numbers_hold(api: Api, msisdn: str, customer: int | None) -> None:
    """Pre-occupy (预占) a number at the counter. Keep the token to release it."""
    body = _drop_none(channel=api.need_channel(), for_customer=customer)
    api.show(api.call("POST", f"/numbers/{msisdn}/hold", json=body))


@numbers.command("release")
@click.argument("msisdn")
@click.option("--token", required=True, help="The token the hold gave.")
@connection
def numbers_release(api: Api, msisdn: str, token: str) -> None:
    """Give a held number back."""
    api.show(api.call("POST", f"/numbers/{msisdn}/release", json={"token": token}))


@numbers.command("reserve")
@click.argument("msisdn")
@click.option("--customer", type=int, required=True, help="The customer's number.")
@connection
def numbers_reserve(api: Api, msisdn: str, customer: int) -> None:
    """Book (预定) a number for a registered customer."""
    api.show(api.call("POST", f"/numbers/{msisdn}/reserve", json={"customer": customer}))


def _number_action(action: str, text: str) -> None:
    @numbers.command(action, help=text)
    @click.argument("msisdn")
    @connection
    def command(api: Api, msisdn: str) -> None:
        api.show(api.call("POST", f"/numbers/{msisdn}/{action}"))


_number_action("unreserve", "Cancel a reservation (预定).")
_number_action("disable", "Disable (禁用) a number.")
_number_action("enable", "Enable a disabled number.")
_number_action("recycle", "Take back (回收) a number whose line was cancelled; it cools down.")
_movement_commands(numbers, "numbers", "number")


@numbers.command("settings")
@click.option("--hold-minutes", type=float, help="How long a hold lasts.")
@click.option("--cooldown-days", "recycle_cooldown_days", type=float, help="Recycled → reusable.")
@click.option("--max-holds", "max_holds_per_operator", type=int, help="Holds per operator.")
@connection
def numbers_settings(api: Api, **changes: Any) -> None:
    """Show the pool settings, or change them (admin; audited)."""
    body = _drop_none(**changes)
    api.show(
        api.call("PATCH", "/numbers/settings", json=body)
        if body
        else api.call("GET", "/numbers/settings")
    )


_FEE_COLUMNS = ("id", "name", "kind", "length", "digit", "digits", "at_end", "fee_cents", "enabled")
_fee_options = [
    click.option("--name"),
    click.option("--kind", type=click.Choice([k.value for k in RuleKind])),
    click.option("--length", type=int, help="Run length, or how often the digit occurs."),
    click.option("--digit", help="For digit_count."),
    click.option("--digits", help="For ends_with."),
    click.option("--at-end/--anywhere", default=None, help="Only at the end of the number (尾号)."),
    click.option("--fee", "fee_cents", type=int, help="Fee in fen (1/100 yuan)."),
    click.option("--note"),
]


@numbers.command("fees")
@connection
def numbers_fees(api: Api) -> None:
    """The selection-fee rules."""
    api.show(api.call("GET", "/numbers/fee-rules"), _FEE_COLUMNS)


@numbers.command("fee-add")
@_with(_fee_options)
@connection
def numbers_fee_add(api: Api, **rule: Any) -> None:
    """Add a selection-fee rule (admin; recorded)."""
    api.show(api.call("POST", "/numbers/fee-rules", json=_drop_none(**rule)))


@numbers.command("fee-change")
@click.argument("rule_id", type=int)
@_with(_fee_options)
@click.option("--enable/--disable", "enabled", default=None)
@connection
def numbers_fee_change(api: Api, rule_id: int, **changes: Any) -> None:
    """Change a rule (admin); recorded with before and after."""
    api.show(api.call("PATCH", f"/numbers/fee-rules/{rule_id}", json=_drop_none(**changes)))


@numbers.command("fee-history")
@click.option("--rule", type=int)
@click.option("--limit", default=50, show_default=True)
@connection
def numbers_fee_history(api: Api, rule: int | None, limit: int) -> None:
    """Every change to the fee rules: before, after, who, when."""
    rows = api.call("GET", "/numbers/fee-changes", params=_drop_none(rule=rule, limit=limit))
    api.show(rows, ("id", "rule_id", "operator", "at", "before", "after"))


# -- SIM stock ------------------------------------------------------------------------------


@click.group()
def sims() -> None:
    """SIM stock: vendor files, single cards, condition, distribution, counter reservations."""


def _upload(path: Path, progress: Progress, task: TaskID) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(256 * 1024):
            progress.update(task, advance=len(chunk))
            yield chunk
    progress.update(task, description="checking and importing")


@sims.command("import")
@click.argument("vendor_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--location", default="", help="Where the cards go (default: the central stock).")
@connection
def sims_import(api: Api, vendor_file: Path, location: str) -> None:
    """Import a card vendor output file: every card or, if any line is bad, none."""
    api.password()  # ask before the bar is drawn
    if api.as_json:
        result = api.call(
            "POST", "/sims/import", params={"location": location}, content=vendor_file.read_bytes()
        )
    else:
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("uploading", total=vendor_file.stat().st_size)
            result = api.call(
                "POST",
                "/sims/import",
                params={"location": location},
                content=_upload(vendor_file, progress, task),
            )
    api.show(result)


@sims.command("add")
@click.argument("card_file", metavar="CARD.json")
@connection
def sims_add(api: Api, card_file: str) -> None:
    """Add one card from a JSON file (or - for standard input), so that its keys never appear
    on a command line: {"iccid", "imsi", "kind", "ki", "opc", "pin1", "puk1", "adm1", …}."""
    try:
        text = sys.stdin.read() if card_file == "-" else Path(card_file).read_text()
        card = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        from gateway import cli as gateway_cli

        _fail(f"cannot read {card_file}: {exc}", gateway_cli.EXIT_INVALID)
    api.show(api.call("POST", "/sims", json=card))


_CARD_COLUMNS = ("iccid", "imsi", "kind", "state", "condition", "location", "batch", "reserved_by")


@sims.command("list")
@click.option("--state", type=click.Choice([s.value for s in CardState]))
@click.option("--condition", type=click.Choice([c.value for c in Condition]))
@click.option("--location")
@click.option("--batch")
@click.option("--limit", default=50, show_default=True)
@connection
def sims_list(api: Api, **query: Any) -> None:
    """Cards in stock records (never their keys)."""
    api.show(api.call("GET", "/sims", params=_drop_none(**query)), _CARD_COLUMNS)


@sims.command("show")
@click.argument("iccid")
@connection
def sims_show(api: Api, iccid: str) -> None:
    """One card (never its keys)."""
    api.show(api.call("GET", f"/sims/{iccid}"))


@sims.command("batches")
@connection
def sims_batches(api: Api) -> None:
    """Imported vendor batches and how many of their cards are still in stock."""
    api.show(api.call("GET", "/sims/batches"))


def _condition_command(condition: Condition) -> None:
    @sims.command(condition.value, help=f"Mark cards in stock {condition.value}.")
    @click.argument("iccids", nargs=-1, required=True)
    @connection
    def command(api: Api, iccids: tuple[str, ...]) -> None:
        body = {"iccids": list(iccids), "condition": condition.value}
        api.show(api.call("POST", "/sims/condition", json=body))


for _condition in Condition:
    _condition_command(_condition)
_movement_commands(sims, "sims", "card")


@sims.command("reserve")
@click.argument("iccid")
@connection
def sims_reserve(api: Api, iccid: str) -> None:
    """Reserve a card at the counter."""
    api.show(api.call("POST", f"/sims/{iccid}/reserve", json={"channel": api.need_channel()}))


@sims.command("release")
@click.argument("iccid")
@click.option("--damaged", is_flag=True, help="Writing it failed: mark it damaged.")
@connection
def sims_release(api: Api, iccid: str, damaged: bool) -> None:
    """Put a reserved card back into stock."""
    api.show(api.call("POST", f"/sims/{iccid}/release", json={"damaged": damaged}))


# -- customers ------------------------------------------------------------------------------


@click.group()
def customers() -> None:
    """Customers (type from the ID document) and their categories (M3)."""


_ID_TYPE = click.option(
    "--id-type",
    type=click.Choice(["resident_id", "business_licence"]),
    default="resident_id",
    show_default=True,
)


@customers.command("register")
@_ID_TYPE
@click.option("--id-number", required=True)
@click.option("--name")
@click.option("--address")
@click.option("--contact")
@connection
def customers_register(api: Api, **customer: Any) -> None:
    """Register a customer (name, address and contact may follow later)."""
    api.show(api.call("POST", "/customers", json=_drop_none(**customer)))


@customers.command("find")
@_ID_TYPE
@click.option("--id-number", required=True)
@connection
def customers_find(api: Api, id_type: str, id_number: str) -> None:
    """Find a customer by their document."""
    api.show(api.call("GET", "/customers", params={"id_type": id_type, "id_number": id_number}))


@customers.command("show")
@click.argument("customer_id", type=int)
@connection
def customers_show(api: Api, customer_id: int) -> None:
    """One customer, with categories and what is missing."""
    api.show(api.call("GET", f"/customers/{customer_id}"))


@customers.command("change")
@click.argument("customer_id", type=int)
@click.option("--name")
@click.option("--address")
@click.option("--contact")
@connection
def customers_change(api: Api, customer_id: int, **changes: Any) -> None:
    """Complete or correct a customer's details."""
    api.show(api.call("PATCH", f"/customers/{customer_id}", json=_drop_none(**changes)))


@customers.command("may-open")
@click.argument("customer_id", type=int)
@connection
def customers_may_open(api: Api, customer_id: int) -> None:
    """Whether an account may be opened for the customer (exit 6 if not)."""
    verdict = api.call("GET", f"/customers/{customer_id}/may-open")
    api.show(verdict)
    sys.exit(0 if verdict["may_open"] else EXIT_REFUSED)


@customers.command("categories")
@connection
def customers_categories(api: Api) -> None:
    """The customer categories (never deleted)."""
    api.show(api.call("GET", "/customers/categories"), ("number", "name", "note", "refuses_open"))


@customers.command("category-add")
@click.argument("name")
@click.option("--note", default="")
@click.option("--refuses-open", is_flag=True, help="Its members may not open an account.")
@connection
def customers_category_add(api: Api, name: str, note: str, refuses_open: bool) -> None:
    """Add a category (admin)."""
    body = {"name": name, "note": note, "refuses_open": refuses_open}
    api.show(api.call("POST", "/customers/categories", json=body))


@customers.command("category-change")
@click.argument("number", type=int)
@click.option("--name")
@click.option("--note")
@connection
def customers_category_change(api: Api, number: int, name: str | None, note: str | None) -> None:
    """Rename a category or change its note (admin). There is no delete."""
    api.show(
        api.call("PATCH", f"/customers/categories/{number}", json=_drop_none(name=name, note=note))
    )


@customers.command("categorise")
@click.argument("customer_id", type=int)
@click.option("--add", "add", type=int, multiple=True, help="Category number to add.")
@click.option("--remove", "remove", type=int, multiple=True, help="Category number to remove.")
@connection
def customers_categorise(
    api: Api, customer_id: int, add: tuple[int, ...], remove: tuple[int, ...]
) -> None:
    """Put a customer into categories or take them out (admin; audited)."""
    body = {"add": list(add), "remove": list(remove)}
    api.show(api.call("POST", f"/customers/{customer_id}/categories", json=body))


# -- operators and channels -----------------------------------------------------------------


@click.group()
def operators() -> None:
    """Operators (M7): job number, role, channels, password."""


_OPERATOR_COLUMNS = ("id", "job_number", "name", "role", "active", "channels")


def _new_password(label: str) -> str:
    from_env = os.environ.get("PROVGW_NEW_PASSWORD")
    if from_env:
        return from_env
    return str(click.prompt(label, hide_input=True, confirmation_prompt=True, err=True))


@operators.command("me")
@connection
def operators_me(api: Api) -> None:
    """Who you are logged in as."""
    api.show(api.call("GET", "/operators/me"))


@operators.command("list")
@connection
def operators_list(api: Api) -> None:
    """All operators (admin)."""
    api.show(api.call("GET", "/operators"), _OPERATOR_COLUMNS)


@operators.command("show")
@click.argument("operator_id")
@connection
def operators_show(api: Api, operator_id: str) -> None:
    """One operator (yourself, or anyone for an admin)."""
    api.show(api.call("GET", f"/operators/{operator_id}"))


@operators.command("add")
@click.option("--id", "operator_id", required=True)
@click.option("--job-number", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["clerk", "engineer", "admin"]), required=True)
@click.option("--on", "channels", multiple=True, help="A channel they work on (repeat).")
@connection
def operators_add(
    api: Api, operator_id: str, job_number: str, name: str, role: str, channels: tuple[str, ...]
) -> None:
    """Add an operator (admin). The password is asked for, or $PROVGW_NEW_PASSWORD."""
    api.password()
    body = {
        "id": operator_id,
        "job_number": job_number,
        "name": name,
        "role": role,
        "channels": list(channels),
        "password": _new_password(f"password for the new operator {operator_id}"),
    }
    api.show(api.call("POST", "/operators", json=body))


@operators.command("change")
@click.argument("operator_id")
@click.option("--name")
@click.option("--role", type=click.Choice(["clerk", "engineer", "admin"]))
@click.option("--active/--disabled", default=None)
@click.option("--on", "channels", multiple=True, help="The channels they work on (replaces).")
@connection
def operators_change(
    api: Api,
    operator_id: str,
    name: str | None,
    role: str | None,
    active: bool | None,
    channels: tuple[str, ...],
) -> None:
    """Change an operator (admin; audited)."""
    body = _drop_none(
        name=name, role=role, active=active, channels=list(channels) if channels else None
    )
    api.show(api.call("PATCH", f"/operators/{operator_id}", json=body))


@operators.command("password")
@click.argument("operator_id")
@connection
def operators_password(api: Api, operator_id: str) -> None:
    """Set a new password (your own, or anyone's for an admin)."""
    api.password()
    api.call(
        "POST",
        f"/operators/{operator_id}/password",
        json={"password": _new_password("new password")},
    )
    if not api.as_json:
        console.print(f"password of {operator_id} changed", highlight=False)


@click.group()
def channels() -> None:
    """Channels (M2): numbered by kind, located, with opening hours."""


_CHANNEL_COLUMNS = ("id", "kind", "name", "city", "area", "active", "open_now", "hours_text")
_hours_options = [
    click.option(
        "--hours", multiple=True, help='Opening hours, e.g. "mon-fri 09:00-18:00" (repeat).'
    ),
    click.option("--always", is_flag=True, help="Open round the clock."),
    click.option("--timezone", default=DEFAULT_ZONE, show_default=True),
]


def _hours(hours: tuple[str, ...], always: bool, timezone: str) -> dict[str, Any] | None:
    from gateway import cli as gateway_cli

    try:
        if always:
            return OpeningHours.always(timezone).model_dump()
        return OpeningHours.from_text(list(hours), timezone).model_dump() if hours else None
    except ValueError as exc:
        _fail(f"--hours: {exc}", gateway_cli.EXIT_INVALID)


@channels.command("list")
@connection
def channels_list(api: Api) -> None:
    """All channels and whether they are open now."""
    api.show(api.call("GET", "/channels"), _CHANNEL_COLUMNS)


@channels.command("show")
@click.argument("channel_id")
@connection
def channels_show(api: Api, channel_id: str) -> None:
    """One channel."""
    api.show(api.call("GET", f"/channels/{channel_id}"))


@channels.command("add")
@click.option("--kind", type=click.Choice([k.value for k in ChannelKind]), required=True)
@click.option("--name", required=True)
@click.option("--city", required=True)
@click.option("--area", required=True)
@click.option("--id", "channel_id", help="The number (default: the next of its kind).")
@_with(_hours_options)
@connection
def channels_add(
    api: Api,
    kind: str,
    name: str,
    city: str,
    area: str,
    channel_id: str | None,
    hours: tuple[str, ...],
    always: bool,
    timezone: str,
) -> None:
    """Register a channel (admin). Without --hours or --always it is never open to clerks."""
    body = _drop_none(
        kind=kind,
        name=name,
        city=city,
        area=area,
        id=channel_id,
        hours=_hours(hours, always, timezone),
    )
    api.show(api.call("POST", "/channels", json=body))


@channels.command("change")
@click.argument("channel_id")
@click.option("--name")
@click.option("--active/--closed", default=None, help="Open the channel or close it down.")
@_with(_hours_options)
@connection
def channels_change(
    api: Api,
    channel_id: str,
    name: str | None,
    active: bool | None,
    hours: tuple[str, ...],
    always: bool,
    timezone: str,
) -> None:
    """Rename a channel, change its hours, close or reopen it (admin; audited)."""
    body = _drop_none(name=name, active=active, hours=_hours(hours, always, timezone))
    api.show(api.call("PATCH", f"/channels/{channel_id}", json=body))


@click.command("audit")
@click.option("--of", "of", help="Only this operator.")
@click.option("--on", "on", help="Only this channel.")
@click.option("--outcome", type=click.Choice(["refused", "done"]))
@click.option("--limit", default=50, show_default=True)
@connection
def audit_command(
    api: Api, of: str | None, on: str | None, outcome: str | None, limit: int
) -> None:
    """The audit trail, newest first (admin): refusals and changes."""
    query = _drop_none(operator=of, channel=on, outcome=outcome, limit=limit)
    rows = api.call("GET", "/audit", params=query)
    api.show(rows, ("id", "at", "operator", "channel", "action", "outcome", "reason"))


COMMANDS: list[click.Command] = [numbers, sims, customers, operators, channels, audit_command]
