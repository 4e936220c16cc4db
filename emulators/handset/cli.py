"""`provgw emulate handset`: an emulated phone — a number, a card in a PC/SC reader, attached
to the SMSC emulator — until SIGTERM/SIGINT.

It prints one line when it is attached (JSON with ``--json``), or, when it cannot run, one line
saying why and exits 3 (the card cannot be reached) — as the card reader emulator does. The
reader is usually the one `provgw emulate reader` runs: point the handset at its pcscd with
``--pcsc-socket`` (or ``PCSCLITE_CSOCK_NAME``), both printed in the reader's ready line.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import click

from emulators.handset.api import HandsetApi
from emulators.handset.link import LinkDown
from emulators.handset.phone import Handset, menu_dict
from emulators.serving import run
from simcard.errors import CardLayerError
from simcard.transport import PcscTransport

EXIT_UNAVAILABLE = 3
ATTACH_TIMEOUT_S = 10.0


class _Running:
    """The handset and its control API, as one async context (for `emulators.serving`)."""

    def __init__(self, handset: Handset, host: str, admin_port: int) -> None:
        self.handset = handset
        self.api = HandsetApi(handset)
        self.host = host
        self.admin_port = admin_port

    async def __aenter__(self) -> _Running:
        await self.handset.start()
        try:
            await self.handset.link.wait_attached(ATTACH_TIMEOUT_S)
            self.admin_port = await self.api.start(self.host, self.admin_port)
        except BaseException:
            await self.handset.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.api.stop()
        await self.handset.stop()


def _smsc(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{text!r}: expected HOST:PORT (the SMSC's handset port)")
    return host, int(port)


@click.command()
@click.option("--msisdn", required=True, help="The handset's number, international, no '+'.")
@click.option("--reader", required=True, help="PC/SC reader holding its card (or part of a name).")
@click.option(
    "--smsc",
    default="127.0.0.1:2776",
    show_default=True,
    help="The SMSC emulator's handset port, HOST:PORT.",
)
@click.option(
    "--pcsc-socket",
    type=click.Path(dir_okay=False, path_type=Path),
    help="pcscd's socket (PCSCLITE_CSOCK_NAME), as `provgw emulate reader` prints it.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Control API address.")
@click.option("--admin-port", default=0, show_default=True, help="Control API port; 0 = free.")
@click.option("--inbox-size", default=100, show_default=True, help="Messages the inbox holds.")
@click.option("--json", "as_json", is_flag=True, help="Print the ready line as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Log deliveries and the card to stderr.")
def handset(
    msisdn: str,
    reader: str,
    smsc: str,
    pcsc_socket: Path | None,
    host: str,
    admin_port: int,
    inbox_size: int,
    as_json: bool,
    verbose: bool,
) -> None:
    """An emulated phone on the SMSC emulator, its card in a PC/SC reader.

    SMS-PP data download (PID 7F, class 2) goes to the card as ENVELOPE and the card's PoR and
    SMS back as MO; other SMS land in the inbox. The control API (GET /status, /inbox, /menu;
    POST /menu/ID, /sms) stands in for the subscriber. See docs/handset.md.
    Exit codes: 0 stopped, 2 bad usage, 3 the card or the SMSC cannot be reached.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    if not (msisdn.isdigit() and 5 <= len(msisdn) <= 15):
        raise click.BadParameter(
            "expected an international number, 5-15 digits, no '+'", param_hint="--msisdn"
        )
    address = _smsc(smsc)
    if pcsc_socket is not None:  # read by libpcsclite when the first context is made
        os.environ["PCSCLITE_CSOCK_NAME"] = str(pcsc_socket)
    try:
        transport = PcscTransport(reader, shared=True)
        phone = Handset(msisdn, transport, address, reader=transport.reader, inbox_size=inbox_size)
        running = _Running(phone, host, admin_port)
        run(running, lambda: _ready(running, address), as_json=as_json)
    except (CardLayerError, LinkDown, OSError) as exc:
        reason = str(exc) or type(exc).__name__
        line = {"event": "unavailable", "reason": reason}
        click.echo(json.dumps(line) if as_json else f"handset unavailable: {reason}")
        raise SystemExit(EXIT_UNAVAILABLE) from None


def _ready(running: _Running, smsc: tuple[str, int]) -> tuple[dict[str, Any], str]:
    phone = running.handset
    menu = phone.menu
    fields = {
        "msisdn": phone.msisdn,
        "reader": phone.reader,
        "smsc": f"{smsc[0]}:{smsc[1]}",
        "admin_port": running.admin_port,
        "menu": None if menu is None else menu_dict(menu),
    }
    line = (
        f"handset {phone.msisdn} (card in {phone.reader!r}) attached to {smsc[0]}:{smsc[1]}; "
        f"control http://{running.host}:{running.admin_port}"
    )
    return fields, line
