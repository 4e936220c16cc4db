"""The `provgw` command line.

The gateway's own commands live here; other top-level packages contribute their command groups
(`provgw card …`, `provgw emulate …`) through the ``provgw.commands`` entry-point group, so the
gateway never imports the emulators.

Exit codes: 0 done; 1 the order ended failed or compensated (with ``--wait``); 2 bad usage or
invalid input; 3 not found; 4 conflict (same order id, different body); 5 the gateway or an NE
could not be reached; 6 refused (channel closed, operator not allowed, number not held …).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import time
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import httpx
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from gateway.bus.cli import bus
from gateway.config import load_config
from gateway.db_cli import database_errors, database_option, db, with_database
from gateway.orders import roaming_list
from gateway.resources.bench import BENCH_COMMANDS as RESOURCE_BENCHES
from gateway.resources.cli import COMMANDS as RESOURCE_COMMANDS
from gateway.validation import clerk_errors

EXIT_ORDER_FAILED = 1
EXIT_INVALID = 2
EXIT_NOT_FOUND = 3
EXIT_CONFLICT = 4
EXIT_UNREACHABLE = 5
EXIT_REFUSED = 6

DEFAULT_URL = "http://127.0.0.1:8080"
console = Console()
_CONFIG = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="provgw")
def main() -> None:
    """provgw: provisioning gateway for mobile operators.

    Exit codes: 0 done, 1 order failed, 2 invalid input, 3 not found, 4 conflict,
    5 unreachable, 6 refused.
    """


def _fail(message: str, code: int) -> None:
    console.print(f"[red]error:[/red] {message}", highlight=False)
    sys.exit(code)


def _say(text: str) -> None:
    """A line for the operator; never folded, so addresses and commands stay whole."""
    console.print(text, soft_wrap=True, highlight=False)


def _read_json(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
        return json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        _fail(f"cannot read {path}: {exc}", EXIT_INVALID)


@main.command()
@click.option("--config", "config_path", type=_CONFIG, help="TOML configuration file.")
@click.option("--demo", is_flag=True, help="Start an embedded HLR emulator and use it.")
@click.option("--host", default="127.0.0.1", show_default=True, help="API address.")
@click.option("--port", default=8080, show_default=True, help="API port.")
@database_option
def serve(config_path: Path | None, demo: bool, host: str, port: int, database: str | None) -> None:
    """Run the gateway: REST API, engine, and (with --demo) its emulators."""
    from gateway.serve import serve_gateway

    config = with_database(load_config(config_path), database)
    if not demo and not config.network_elements:
        _fail("no network elements configured: give --config FILE or use --demo", EXIT_INVALID)
    with database_errors():
        asyncio.run(serve_gateway(config, host=host, port=port, demo=demo, say=_say))


@main.command()
@click.argument("order_file", metavar="ORDER.json")
@click.option("--config", "config_path", type=_CONFIG, help="TOML configuration file.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plan(order_file: str, config_path: Path | None, as_json: bool) -> None:
    """Show the plan for an order and the exact command each step sends. Touches no NE.

    The lines the order refers to are taken from the gateway's database, if there is one.
    """
    from gateway.planning_view import PlanView

    config = load_config(config_path)
    try:
        view = asyncio.run(PlanView.build(_read_json(order_file), config))
    except ValidationError as exc:
        errors = clerk_errors(exc.errors())
        if as_json:
            click.echo(json.dumps({"errors": errors}))
        else:
            for e in errors:
                console.print(f"[red]{e['field']}[/red]: {e['message']}", highlight=False)
        sys.exit(EXIT_INVALID)
    if as_json:
        click.echo(json.dumps(view.as_dict(), ensure_ascii=False, indent=2))
    else:
        view.print(console)
    sys.exit(0 if view.refused is None else EXIT_ORDER_FAILED)


@main.group()
def order() -> None:
    """Submit and inspect orders through a running gateway's API."""


def _client(url: str) -> httpx.Client:
    channel = os.environ.get("PROVGW_CHANNEL")  # a counter role names its channel (M2)
    headers = {"X-Provgw-Channel": channel} if channel else {}
    return httpx.Client(base_url=url, timeout=30, headers=headers)


def _request(url: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        with _client(url) as client:
            return client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        _fail(f"cannot reach the gateway at {url}: {exc}", EXIT_UNREACHABLE)
    raise AssertionError("unreachable")


_url = click.option(
    "--url",
    default=DEFAULT_URL,
    show_default=True,
    envvar="PROVGW_URL",
    help="Gateway API (or $PROVGW_URL).",
)
_json = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@order.command("submit")
@click.argument("order_file", metavar="ORDER.json")
@click.option("--wait", is_flag=True, help="Wait until the order is terminal.")
@_url
@_json
def order_submit(order_file: str, wait: bool, url: str, as_json: bool) -> None:
    """Submit an order (a JSON file, or - for standard input).

    The order's operator logs in with the password in $PROVGW_PASSWORD, or typed at the prompt.
    """
    order_data = _read_json(order_file)
    operator = str(order_data.get("operator", "")) if isinstance(order_data, dict) else ""
    _submit(order_data, _login(operator), wait=wait, url=url, as_json=as_json)


def _submit(
    order_data: Any, auth: tuple[str, str] | None, *, wait: bool, url: str, as_json: bool
) -> None:
    """POST /orders, say what became of it, and exit with the order's exit code."""
    resp = _request(url, "POST", "/orders", json=order_data, auth=auth)
    body = resp.json()
    if resp.status_code == 422:
        _print_errors(body, as_json)
        sys.exit(EXIT_INVALID)
    if resp.status_code == 409:
        _fail(body["detail"], EXIT_CONFLICT)
    if resp.status_code in (401, 403):
        _fail(f"refused: {body['detail']}", EXIT_REFUSED)
    resp.raise_for_status()
    if wait:
        body = _wait(url, body["order_id"], auth, channel=str(order_data.get("channel") or ""))
    _show_summary(body, as_json)
    sys.exit(EXIT_ORDER_FAILED if body["state"] in ("failed", "compensated") else 0)


def _login(operator: str | None) -> tuple[str, str] | None:
    """HTTP Basic credentials of ``operator``: the password from $PROVGW_PASSWORD, or asked
    for at a terminal; None without either (a gateway without access control needs none)."""
    if not operator:
        return None
    password = os.environ.get("PROVGW_PASSWORD")
    if password is None and sys.stdin.isatty():
        password = click.prompt(f"password of {operator}", hide_input=True)
    return (operator, password) if password is not None else None


_operator = click.option(
    "--operator",
    envvar="PROVGW_OPERATOR",
    help="Your operator id (or $PROVGW_OPERATOR); password from $PROVGW_PASSWORD or a prompt.",
)


def _wait(
    url: str, order_id: str, auth: tuple[str, str] | None, channel: str | None = None
) -> dict[str, Any]:
    """Poll the order until it ends — read from the channel it was placed at (a counter role
    names its channel on every read)."""
    headers = {"X-Provgw-Channel": channel} if channel else {}
    while True:
        resp = _request(url, "GET", f"/orders/{order_id}", auth=auth, headers=headers)
        body: dict[str, Any] = resp.json()
        if resp.status_code in (401, 403):
            _fail(f"refused: {body['detail']}", EXIT_REFUSED)
        if body["state"] in ("completed", "failed", "compensated"):
            return body
        time.sleep(0.2)


def _print_errors(body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False))
        return
    for e in body.get("errors", []):
        console.print(f"[red]{e['field']}[/red]: {e['message']}", highlight=False)


def _show_summary(body: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False))
        return
    colour = {"completed": "green", "failed": "red", "compensated": "yellow"}.get(
        body["state"], "cyan"
    )
    console.print(
        f"order {body['order_id']} ({body['kind']}): [{colour}]{body['state']}[/{colour}]",
        highlight=False,
    )
    if body.get("reason"):
        console.print(f"  reason: {body['reason']}", highlight=False)


@order.command("show")
@click.argument("order_id")
@_url
@_operator
@_json
def order_show(order_id: str, url: str, operator: str | None, as_json: bool) -> None:
    """Show one order: state, plan with commands, steps and the masked transcript."""
    resp = _request(url, "GET", f"/orders/{order_id}", auth=_login(operator))
    if resp.status_code in (401, 403):
        _fail(f"refused: {resp.json()['detail']}", EXIT_REFUSED)
    if resp.status_code == 404:
        _fail(f"no order {order_id}", EXIT_NOT_FOUND)
    body = resp.json()
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    _show_summary(body, False)
    table = Table("#", "NE", "step", "state", "command")
    for step in body["plan"]:
        table.add_row(
            str(step["index"] + 1),
            step["ne"],
            step["description"],
            step["state"],
            step["command"] or "",
        )
    console.print(table)
    for t in body["transcript"]:
        console.print(
            f"[dim]{t['phase']} {t['step'] + 1} {t['outcome']} {t['code']} "
            f"{t['elapsed_ms']} ms[/dim] {t['command']}",
            highlight=False,
        )


@order.command("list")
@click.option(
    "--state", help="accepted, provisioning, waiting_for_ne, completed, failed, compensated"
)
@click.option(
    "--attention", is_flag=True, help="Only orders left for an engineer (an undo the NE refused)."
)
@click.option("--kind", help="order kind, e.g. open_account")
@click.option("--msisdn", help="11-digit number")
@click.option("--limit", default=50, show_default=True)
@_url
@_operator
@_json
def order_list(
    state: str | None,
    attention: bool,
    kind: str | None,
    msisdn: str | None,
    limit: int,
    url: str,
    operator: str | None,
    as_json: bool,
) -> None:
    """List orders, newest first."""
    given = {"state": state, "kind": kind, "msisdn": msisdn, "limit": limit}
    params: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if attention:
        params["attention"] = "true"
    resp = _request(url, "GET", "/orders", params=params, auth=_login(operator))
    if resp.status_code in (401, 403):
        _fail(f"refused: {resp.json()['detail']}", EXIT_REFUSED)
    if resp.status_code == 422:
        _fail(resp.json()["detail"], EXIT_INVALID)
    rows = resp.json()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("order", "kind", "number", "state", "reason")
    for r in rows:
        why = r["reason"] or r.get("note") or ""
        if r.get("waiting_for"):
            why = f"waiting for {r['waiting_for']} since {_local(r['waiting_since'])}: {why}"
        if r.get("needs_attention"):
            why = f"NEEDS AN ENGINEER: {why}"
        table.add_row(r["order_id"], r["kind"], r["msisdn"] or "", r["state"], why)
    console.print(table)


def _local(at: float | None) -> str:
    """A stored time in this machine's local time, as an engineer reads clocks."""
    return "—" if at is None else datetime.fromtimestamp(at).astimezone().strftime("%H:%M:%S")


@main.group()
def ota() -> None:
    """Manage cards in the field over the air: orders ota_update and stk_activate (docs/ota.md).

    Each places an order through the gateway's API, as `order submit` does, with the same exit
    codes; the card's OTA keys and profile come from the SIM stock. Proof is the card's PoR.
    """


def _ota_order(kind: str, msisdn: str, order_id: str | None, channel: str, operator: str) -> Any:
    stamp = f"{time.time():.3f}".replace(".", "")
    return {
        "kind": kind,
        "order_id": order_id or f"{kind.replace('_', '-')}-{msisdn}-{stamp}",
        "channel": channel,
        "operator": operator,
        "msisdn": msisdn,
    }


_ota_options = [
    click.option("--order-id", help="Default: ota-update-<msisdn>-<time> / stk-activate-…"),
    click.option("--channel", envvar="PROVGW_CHANNEL", required=True, help="Or $PROVGW_CHANNEL."),
    click.option(
        "--operator", envvar="PROVGW_OPERATOR", required=True, help="Or $PROVGW_OPERATOR."
    ),
    click.option("--wait", is_flag=True, help="Wait until the card's PoR settles the order."),
    _url,
    _json,
]


def _with_ota_options(command: Any) -> Any:
    for option in reversed(_ota_options):
        command = option(command)
    return command


@ota.command("update")
@click.argument("msisdn")
@click.option("--spn", help="Service provider name the phone shows (EF.SPN).")
@click.option(
    "--roaming",
    help="Roaming list (EF.OPLMNwAcT) in order of preference: MCC-MNC[:tech+tech],… e.g. "
    "'460-00:e-utran,454-00'; technologies utran, e-utran, ng-ran, gsm, gsm-compact (none "
    "named: all); '' clears the list.",
)
@click.option("--sms-centre", help="SMS centre address (EF.SMSP), e.g. +8613800100500.")
@_with_ota_options
def ota_update(
    msisdn: str,
    spn: str | None,
    roaming: str | None,
    sms_centre: str | None,
    order_id: str | None,
    channel: str,
    operator: str,
    wait: bool,
    url: str,
    as_json: bool,
) -> None:
    """Change the card in MSISDN's phone over the air (空中写卡): SPN, roaming list, SMS centre."""
    order_data = _ota_order("ota_update", msisdn, order_id, channel, operator)
    if spn is not None:
        order_data["spn"] = spn
    if roaming is not None:
        try:
            order_data["roaming_networks"] = roaming_list(roaming)
        except ValueError as exc:
            _fail(f"--roaming: {exc}", EXIT_INVALID)
    if sms_centre is not None:
        order_data["sms_centre"] = sms_centre
    _submit(order_data, _login(operator), wait=wait, url=url, as_json=as_json)


@ota.command("stk-activate")
@click.argument("msisdn")
@click.option(
    "--menu",
    "menu_file",
    metavar="MENU.json",
    help='The menu: {"title", "items": [{"id", "label", "destination", "text"}]}; default: '
    "the gateway's [ota.stk_menu].",
)
@_with_ota_options
def ota_stk_activate(
    msisdn: str,
    menu_file: str | None,
    order_id: str | None,
    channel: str,
    operator: str,
    wait: bool,
    url: str,
    as_json: bool,
) -> None:
    """开通STK业务: put the operator's STK menu on the card in MSISDN's phone, over the air.

    Refused (exit 1 with --wait) when the SIM stock or the card's profile says the card has no
    toolkit menu or no OTA keys.
    """
    order_data = _ota_order("stk_activate", msisdn, order_id, channel, operator)
    if menu_file is not None:
        order_data["menu"] = _read_json(menu_file)
    _submit(order_data, _login(operator), wait=wait, url=url, as_json=as_json)


@main.group()
def ne() -> None:
    """Network elements: how each is doing, as the gateway sees it."""


@ne.command("status")
@_url
@_operator
@_json
def ne_status(url: str, operator: str | None, as_json: bool) -> None:
    """Each NE and card station: circuit breaker (whether orders are sent to it), what it
    says of itself (SNMP or probe), latency and error rate of recent replies. Exit 5 while
    any NE is unreachable."""
    resp = _request(url, "GET", "/network", auth=_login(operator))
    if resp.status_code in (401, 403):
        _fail(f"refused: {resp.json()['detail']}", EXIT_REFUSED)
    rows = resp.json()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
    else:
        table = Table("name", "kind", "breaker", "NE says", "latency", "errors", "last error")
        for r in rows:
            breaker = r.get("breaker") or "—"
            if r.get("unreachable_since"):
                breaker += f" since {_local(r['unreachable_since'])}"
            latency = "—" if r["latency_ms"] is None else f"{r['latency_ms']:.1f} ms"
            errors = "—" if r["error_rate"] is None else f"{r['error_rate'] * 100:.1f} %"
            table.add_row(
                r["name"],
                f"{r['kind']} ({r['dialect']})",
                breaker,
                r.get("health") or "—",
                latency,
                errors,
                r["last_error"] or "",
            )
        console.print(table)
    if any(r.get("breaker") not in (None, "closed") for r in rows):
        raise SystemExit(EXIT_UNREACHABLE)


def _load_plugins() -> None:
    main.add_command(db)
    for command in RESOURCE_COMMANDS:
        main.add_command(command)
    main.add_command(bus)
    for ep in entry_points(group="provgw.commands"):
        main.add_command(ep.load(), ep.name)


_load_plugins()


@main.group()
def bench() -> None:
    """Benchmarks (results go to docs/performance.md)."""


BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"
"""The source checkout's benchmarks: code that starts lab stand-ins (a private osmo-hlr) and
talks to NEs by hand, which an installed gateway does not carry."""


def _bench_module(name: str) -> ModuleType:
    """``bench/<name>.py`` of the source checkout, imported on demand."""
    if not (BENCH_DIR / f"{name}.py").is_file():
        _fail(f"this benchmark needs a source checkout of provgw (bench/{name}.py)", EXIT_NOT_FOUND)
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))  # its modules import their neighbours by name
    return importlib.import_module(name)


for _resource_bench in RESOURCE_BENCHES:
    bench.add_command(_resource_bench)


@bench.command("orders")
@click.option("-n", "count", default=5000, show_default=True, help="Open-account orders to run.")
@click.option("--sessions", default=8, show_default=True, help="MML sessions to the HLR.")
@click.option("--ne-latency-ms", default=0.0, show_default=True, help="Emulated NE latency.")
@click.option("--window", default=256, show_default=True, help="Orders in flight at most.")
@click.option(
    "--product",
    default="4g-basic",
    show_default=True,
    help="4g-basic: 3 commands per order; voice-only: 2.",
)
@click.option(
    "--access-control/--no-access-control",
    default=True,
    show_default=True,
    help="Check channel, operator and opening hours at intake, as in production.",
)
@click.option(
    "--pin/--no-pin",
    default=True,
    show_default=True,
    help="Give the emulator a core of its own and the gateway the others (an NE is another "
    "host); --no-pin leaves both to the scheduler.",
)
@click.option(
    "--database",
    metavar="URL",
    help="Also run on PostgreSQL (postgresql://… of a server: a scratch database is made "
    "there and dropped), printed beside the SQLite figure of the same run.",
)
@_json
def bench_orders(
    count: int,
    sessions: int,
    ne_latency_ms: float,
    window: int,
    product: str,
    access_control: bool,
    pin: bool,
    database: str | None,
    as_json: bool,
) -> None:
    """Open-account orders end to end: engine, SQLite store, real SSH to the HLR emulator
    (a separate process). Reports orders/s, NE commands/s, latency and CPU per order; with
    --database, PostgreSQL's beside SQLite's and their ratios."""
    from gateway.bench import compare_backends, machine_description, result_dict, run_bench

    if database is not None:
        with_database(load_config(None), database)  # exits 2 on a bad URL
        if not database.startswith(("postgresql://", "postgres://")):
            _fail("--database: a postgresql:// URL (SQLite is always run)", EXIT_INVALID)
    settings = {
        "sessions": sessions,
        "ne_latency_ms": ne_latency_ms,
        "window": window,
        "product": product,
        "show_progress": not as_json,
        "access_control": access_control,
        "pin": pin,
    }
    with database_errors():
        if database is None:
            out = result_dict(asyncio.run(run_bench(count, **settings)))  # type: ignore[arg-type]
        else:
            out = asyncio.run(compare_backends(count, database, **settings))
    out |= {"machine": machine_description()}
    if as_json:
        click.echo(json.dumps(out))
        return
    for key, value in out.items():
        console.print(f"{key:28} {value}", highlight=False)


@bench.command("crash")
@click.option("--trials", default=200, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--database",
    metavar="URL",
    help="PostgreSQL server (postgresql://…): a scratch database is made there and dropped. "
    "Without it: SQLite, one gateway.",
)
@click.option("--processes", default=2, show_default=True, type=click.IntRange(1, 8))
@click.option("--seed", default=20261121, show_default=True)
@_json
def bench_crash(
    trials: int, database: str | None, processes: int, seed: int, as_json: bool
) -> None:
    """Gateways SIGKILLed mid-plan, trial after trial: every accepted order terminal, no step
    done twice, the HLR exactly as the completed orders imply. Exit 1 if not."""
    import tempfile

    from gateway.bench import machine_description
    from gateway.bench_crash import result_dict, run_crash_trials
    from gateway.store.postgresql import scratch_database

    if database is not None:
        with_database(load_config(None), database)  # exits 2 on a bad URL
    with Progress(disable=as_json, transient=True) as bar:
        task = bar.add_task("crash trials", total=trials)

        def progress(done: int) -> None:
            bar.update(task, completed=done)

        with database_errors():
            if database is None:
                with tempfile.TemporaryDirectory(prefix="provgw-crash-db-") as tmp:
                    result = asyncio.run(
                        run_crash_trials(
                            trials, Path(tmp) / "provgw.db", seed=seed, progress=progress
                        )
                    )
            else:
                with scratch_database(database, "provgw_crash") as url:
                    result = asyncio.run(
                        run_crash_trials(
                            trials, url, processes=processes, seed=seed, progress=progress
                        )
                    )
    out = result_dict(result) | {"machine": machine_description()}
    if as_json:
        click.echo(json.dumps(out))
    else:
        for key, value in out.items():
            console.print(f"{key:20} {value}", highlight=False)
    if not result.ok:
        raise SystemExit(EXIT_ORDER_FAILED)


@bench.command("takeover")
@click.option(
    "--database",
    metavar="URL",
    default="postgresql://postgres@127.0.0.1:5432/postgres",
    show_default=True,
    help="PostgreSQL server: a scratch database is made there and dropped.",
)
@_json
def bench_takeover(database: str, as_json: bool) -> None:
    """Two gateways on PostgreSQL, one SIGKILLed with orders mid-plan: seconds until the
    other holds them all (target: the lease + 1 s)."""
    from gateway.bench_crash import measure_takeover
    from gateway.store.postgresql import scratch_database

    with_database(load_config(None), database)
    with database_errors(), scratch_database(database, "provgw_takeover") as url:
        out = asyncio.run(measure_takeover(url))
    if as_json:
        click.echo(json.dumps(out))
        return
    for key, value in out.items():
        console.print(f"{key:20} {value}", highlight=False)


@bench.command("storm")
@click.option("-n", "count", default=2000, show_default=True, help="Orders in each of 3 phases.")
@click.option("--outage-s", default=30.0, show_default=True, help="The long outage.")
@click.option("--short-outage-s", default=2.0, show_default=True, help="The short one.")
@click.option("--error-rate", default=0.1, show_default=True, help="Commands answered busy.")
@click.option("--drop-rate", default=0.01, show_default=True, help="Sessions cut after a change.")
@click.option("--latency-ms", default=5.0, show_default=True, help="Every reply's latency.")
@click.option("--spike-rate", default=0.02, show_default=True, help="Replies that spike.")
@click.option("--spike-ms", default=500.0, show_default=True, help="How much later they come.")
@click.option("--window", default=128, show_default=True, help="Orders in flight at most.")
@_json
def bench_storm(
    count: int,
    outage_s: float,
    short_outage_s: float,
    error_rate: float,
    drop_rate: float,
    latency_ms: float,
    spike_rate: float,
    spike_ms: float,
    window: int,
    as_json: bool,
) -> None:
    """Mixed orders against an HLR that answers busy, spikes, drops sessions and is killed
    twice: every order terminal, the HLR exactly as the completed orders imply. Exit 1 if
    not; reports goodput under errors ÷ clean, and recovery after each restart."""
    from gateway.bench import machine_description
    from gateway.bench_storm import StormSettings, result_dict, run_storm

    settings = StormSettings(
        orders_per_phase=count,
        outage_s=outage_s,
        short_outage_s=short_outage_s,
        error_rate=error_rate,
        drop_rate=drop_rate,
        latency_ms=latency_ms,
        spike_rate=spike_rate,
        spike_ms=spike_ms,
        window=window,
    )
    result = asyncio.run(run_storm(settings, show_progress=not as_json))
    out = result_dict(result) | {"machine": machine_description()}
    if as_json:
        click.echo(json.dumps(out))
    else:
        for key, value in out.items():
            console.print(f"{key:16} {value}", highlight=False)
    unfinished = any(set(p.states) - {"completed"} for p in result.phases)
    if unfinished or not result.hlr_agrees:
        raise SystemExit(1)


@bench.command("bus")
@click.option("-n", "count", default=5000, show_default=True, help="Orders each way.")
@click.option("--window", default=256, show_default=True, help="Orders in flight at most.")
@_json
def bench_bus(count: int, window: int, as_json: bool) -> None:
    """Orders over the MQTT bus (publish → terminal status received) beside the same run's
    direct intake, through a private Mosquitto. Needs a source checkout (bench/bus_bench.py)
    and the Debian package mosquitto."""
    from gateway.bench import machine_description

    bus_bench = _bench_module("bus_bench")
    try:
        result = asyncio.run(bus_bench.run_bus_bench(count, window=window, progress=not as_json))
    except bus_bench.MosquittoMissing as exc:
        _fail(str(exc), EXIT_UNREACHABLE)
    _print_figures(bus_bench.result_dict(result) | {"machine": machine_description()}, as_json)


def _print_figures(out: dict[str, Any], as_json: bool) -> None:
    """A benchmark's figures: one JSON object, or one aligned line each."""
    if as_json:
        click.echo(json.dumps(out))
        return
    for key, value in out.items():
        console.print(f"{key:28} {value}", highlight=False)


@bench.command("osmo")
@click.option("-n", "count", default=2000, show_default=True, help="Open-account orders a round.")
@click.option("--window", default=64, show_default=True, help="Orders in flight at most.")
@click.option("--rounds", default=3, show_default=True, type=click.IntRange(1, 30))
@_json
def bench_osmo(count: int, window: int, rounds: int, as_json: bool) -> None:
    """Open-account orders into a real osmo-hlr (started privately) through the gateway,
    against osmo-hlr's own single-client CTRL rate in the same run. Needs a source checkout:
    the benchmark is bench/osmo_bench.py."""
    from gateway.bench import machine_description

    osmo_bench = _bench_module("osmo_bench")
    try:
        result = asyncio.run(osmo_bench.run_osmo_bench(count, window=window, rounds=rounds))
    except osmo_bench.OsmoHlrUnavailable as exc:
        _fail(str(exc), EXIT_UNREACHABLE)
    out = osmo_bench.result_dict(result) | {"machine": machine_description()}
    if as_json:
        click.echo(json.dumps(out))
        return
    for key, value in out.items():
        if key != "rounds":
            console.print(f"{key:28} {value}", highlight=False)
    for i, r in enumerate(result.rounds, 1):
        console.print(f"round {i}: {r}", highlight=False)
