"""`provgw sms …`: SMS as a customer's phone would send them, through the SMSC emulator's admin
API (``POST /mo``) — for demos and tests of what the gateway does with mobile-originated
messages, without an emulated handset. A command group of the emulators, loaded by the
gateway's CLI through its entry point (the gateway never imports the emulators).

Exit codes: 0 sent; 2 invalid input; 5 the SMSC emulator could not be reached; 6 the SMSC
refused the message (e.g. the number is barred).
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click
import httpx

EXIT_INVALID, EXIT_UNREACHABLE, EXIT_REFUSED = 2, 5, 6


@click.group()
def sms() -> None:
    """SMS from a (simulated) phone, through the SMSC emulator."""


@sms.command("send-mo")
@click.option("--from", "source", required=True, help="The phone's number, international.")
@click.option("--to", "destination", required=True, help="Where to, e.g. 10086.")
@click.option(
    "--smsc",
    default="http://127.0.0.1:8775",
    show_default=True,
    help="The SMSC emulator's admin API.",
)
@click.option("--user", default="provgw", show_default=True, help="Admin API user.")
@click.option(
    "--password",
    default="provgw",
    envvar="PROVGW_SMSC_ADMIN_PASSWORD",
    show_default=True,
    help="Admin API password (or $PROVGW_SMSC_ADMIN_PASSWORD).",
)
@click.option("--hex", "binary", is_flag=True, help="TEXT is hex user data (TP-UD), not text.")
@click.option("--pid", type=click.IntRange(0, 255), default=0, help="TP-PID (with --hex).")
@click.option("--dcs", type=click.IntRange(0, 255), default=4, help="TP-DCS (with --hex).")
@click.option("--udhi", is_flag=True, help="The hex user data starts with a header.")
@click.option("--json", "as_json", is_flag=True, help="Print the SMSC's answer as JSON.")
@click.argument("text")
def send_mo(
    source: str,
    destination: str,
    smsc: str,
    user: str,
    password: str,
    binary: bool,
    pid: int,
    dcs: int,
    udhi: bool,
    as_json: bool,
    text: str,
) -> None:
    """Send TEXT from --from to --to as if that phone had sent it (long text is split into
    concatenated parts). What the SMSC does with it depends on --to: a service number goes
    to the gateway's bind as deliver_sm, a handset's number to that handset."""
    body: dict[str, Any] = {"from": source, "to": destination}
    if binary:
        body.update(data=text, pid=pid, dcs=dcs, udhi=udhi)
    else:
        body["text"] = text
    try:
        response = httpx.post(
            f"{smsc.rstrip('/')}/mo", json=body, auth=(user, password), timeout=10
        )
    except httpx.HTTPError as exc:
        _fail(f"the SMSC emulator at {smsc} cannot be reached: {exc}", EXIT_UNREACHABLE)
    try:
        answer = response.json()
    except json.JSONDecodeError:
        answer = {"error": response.text}
    if response.status_code != 200:
        code = EXIT_REFUSED if response.status_code == 409 else EXIT_INVALID
        _fail(str(answer.get("error", answer)), code)
    if as_json:
        click.echo(json.dumps(answer))
    else:
        ids = answer["message_ids"]
        click.echo(f"sent from {source} to {destination}: {len(ids)} part(s), {' '.join(ids)}")


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)
