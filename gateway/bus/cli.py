"""`provgw bus …`: place orders over the bus and follow statuses, as an upstream system would.

The broker and the credentials come from the ``[bus]`` section of ``--config`` or from the
options; the password from ``$PROVGW_BUS_PASSWORD`` (never an option: it would show in the
process list). Exit codes as ``provgw order submit`` (gateway/cli.py): 0 completed, 1 failed
or compensated, 2 invalid input, 4 conflict, 5 the broker unreachable or no end in time,
6 refused (the broker's ACL or the gateway's access policy).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from gateway.bus.client import BusClient, Followed
from gateway.bus.connection import ConnectionLost, Endpoint, PublishRefused
from gateway.bus.topics import STATUS_ALL, status_topic
from gateway.config import BusConfig, load_config

EXIT_ORDER_FAILED, EXIT_INVALID, EXIT_CONFLICT, EXIT_UNREACHABLE, EXIT_REFUSED = 1, 2, 4, 5, 6
_REFUSAL_EXIT = {"invalid": EXIT_INVALID, "conflict": EXIT_CONFLICT, "not_allowed": EXIT_REFUSED}
console = Console()


def _endpoint(config_path: Path | None, url: str | None, user: str | None) -> Endpoint:
    section = (load_config(config_path).bus if config_path else None) or BusConfig()
    if url is not None:
        section = section.model_copy(update={"url": url})
    password = os.environ.get("PROVGW_BUS_PASSWORD") or section.secret()
    return Endpoint(
        host=section.host,
        port=section.port,
        client_id=f"provgw-cli-{socket.gethostname()}-{os.getpid()}",
        username=user or section.username,
        password=password,
        clean_start=True,
    )


_options = [
    click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False,
                 path_type=Path), help="Gateway TOML file whose [bus] section to use."),
    click.option("--broker", "url", help="mqtt://HOST:PORT (default: the [bus] section's)."),
    click.option("--user", help="Broker user name (password: $PROVGW_BUS_PASSWORD)."),
    click.option("--json", "as_json", is_flag=True, help="Machine-readable output."),
]  # fmt: skip


def _with_options(fn: Any) -> Any:
    for option in reversed(_options):
        fn = option(fn)
    return fn


@click.group()
def bus() -> None:
    """The MQTT order bus: submit orders and watch statuses (docs/bus.md)."""


def _exit_code(followed: Followed) -> int:
    final = followed.final or {}
    if final.get("state") == "refused":
        return _REFUSAL_EXIT.get(str(final.get("why")), EXIT_REFUSED)
    if final.get("state") in ("failed", "compensated"):
        return EXIT_ORDER_FAILED
    return 0 if final else EXIT_UNREACHABLE


@bus.command("submit")
@click.argument("files", nargs=-1, required=True, metavar="ORDER.json…")
@click.option("--timeout", default=300.0, show_default=True, help="Seconds to wait for ends.")
@_with_options
def bus_submit(
    files: tuple[str, ...],
    timeout: float,
    config_path: Path | None,
    url: str | None,
    user: str | None,
    as_json: bool,
) -> None:
    """Publish orders (the JSON of POST /orders) and wait for each one's terminal status.
    The exit code is the worst of the orders'."""
    bodies: list[dict[str, Any]] = []
    for name in files:
        try:
            body = json.loads(sys.stdin.read() if name == "-" else Path(name).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            console.print(f"[red]error:[/red] cannot read {name}: {exc}", highlight=False)
            sys.exit(EXIT_INVALID)
        if not isinstance(body, dict) or not isinstance(body.get("order_id"), str):
            console.print(f"[red]error:[/red] {name}: an order needs an order_id", highlight=False)
            sys.exit(EXIT_INVALID)
        bodies.append(body)
    endpoint = _endpoint(config_path, url, user)
    try:
        heard = asyncio.run(_submit(endpoint, bodies, timeout))
    except PublishRefused as exc:
        console.print(f"[red]refused:[/red] {exc}", highlight=False)
        sys.exit(EXIT_REFUSED)
    except (ConnectionLost, TimeoutError) as exc:
        console.print(f"[red]error:[/red] {exc or 'no terminal status in time'}", highlight=False)
        sys.exit(EXIT_UNREACHABLE)
    codes = []
    for followed in heard.values():
        final = followed.final or {}
        codes.append(_exit_code(followed))
        if as_json:
            click.echo(json.dumps(final, ensure_ascii=False))
        else:
            reason = f"  {final['reason']}" if final.get("reason") else ""
            console.print(f"{followed.order_id}  {final.get('state')}{reason}", highlight=False)
    sys.exit(max(codes, default=0))


async def _submit(
    endpoint: Endpoint, bodies: list[dict[str, Any]], wait_s: float
) -> dict[str, Followed]:
    async with BusClient(endpoint) as client:
        await client.submit(bodies)
        async with asyncio.timeout(wait_s):
            return await client.wait(b["order_id"] for b in bodies)


@bus.command("watch")
@click.option("--order", "order_id", help="Only this order's statuses.")
@_with_options
def bus_watch(
    order_id: str | None, config_path: Path | None, url: str | None, user: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Print every status as the gateway publishes it, until interrupted."""
    endpoint = _endpoint(config_path, url, user)

    def show(_topic: str, body: dict[str, Any]) -> None:
        if as_json:
            click.echo(json.dumps(body, ensure_ascii=False), nl=True)
            sys.stdout.flush()
            return
        extra = body.get("reason") or body.get("ne") or ""
        console.print(f"{body.get('order_id')}  {body.get('state')}  {extra}", highlight=False)

    async def watch() -> None:
        async with BusClient(endpoint, on_status=show) as client:
            await client.follow(status_topic(order_id) if order_id else STATUS_ALL)
            await client.connection.lost
            raise ConnectionLost(client.connection.lost.result())

    try:
        asyncio.run(watch())
    except KeyboardInterrupt:
        pass
    except ConnectionLost as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(EXIT_UNREACHABLE)
