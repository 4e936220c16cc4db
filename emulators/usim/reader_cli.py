"""`provgw emulate reader`: a card reader with a blank emulated USIM in it, and a control API.

A private pcscd (`PrivatePcscd`, never the system's) with a vpcd reader and a blank card in
slot 0, for a card agent, `provgw card` or an emulated handset to use through real PC/SC:
point clients at it with ``PCSCLITE_CSOCK_NAME``. A tiny HTTP API on loopback stands in for
the clerk's hands:

  ``POST /insert`` — a fresh blank card in the reader (replacing any card); with ``--store``,
                     the card kept in that file (created blank the first time);
  ``POST /remove`` — the card out;
  ``GET /status``  — ``{"reader", "card", "model"}``.

``--ota-keys`` gives blank cards OTA key sets (docs/ota.md), so that a handset in front of the
reader can take SMS-PP downloads for them; ``--store`` keeps the card's contents — a menu, the
OTA counters — across insertions and runs.

One line on stdout when ready (JSON with ``--json``) says where each part is; it runs until
SIGTERM/SIGINT and then stops pcscd by its PID. Exit codes: 0 stopped, 2 bad usage, 3 the
reader cannot run here (pcscd, vsmartcard-vpcd or unshare missing, or no mount namespace).
"""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click

from emulators.usim.card import ATRS, UsimCard
from emulators.usim.cli import parse_keyset
from emulators.usim.pcscd import PcscdError, PrivatePcscd, missing_components
from emulators.usim.state import StoreError
from simcard.ota_keys import KeySet

EXIT_UNAVAILABLE = 3
SLOT = 0


class ReaderControl:
    """The hands at the reader: insert a card (fresh blank, or the stored one), pull it, say
    what is in."""

    def __init__(
        self,
        pcsc: PrivatePcscd,
        *,
        model: str,
        adm1: str,
        ota_keys: Sequence[KeySet] = (),
        store: Path | None = None,
    ) -> None:
        self.pcsc = pcsc
        self.model = model
        self.adm1 = adm1
        self.ota_keys = tuple(ota_keys)
        self.store = store
        self._lock = threading.Lock()  # one card movement at a time

    def insert(self) -> dict[str, Any]:
        with self._lock:
            self.pcsc.insert(self._card(), SLOT)
            return self.status()

    def _card(self) -> UsimCard:
        if self.store is not None and self.store.exists():
            return UsimCard.load(self.store)
        return UsimCard.blank(self.store, model=self.model, adm1=self.adm1, ota_keys=self.ota_keys)

    def remove(self) -> dict[str, Any]:
        with self._lock:
            self.pcsc.remove(SLOT)
            return self.status()

    def status(self) -> dict[str, Any]:
        card = self.pcsc.card(SLOT)
        return {
            "reader": self.pcsc.reader_name(SLOT),
            "card": card is not None,
            "model": card.model if card is not None else None,
        }


def _handler(control: ReaderControl) -> type[BaseHTTPRequestHandler]:
    routes = {
        ("POST", "/insert"): control.insert,
        ("POST", "/remove"): control.remove,
        ("GET", "/status"): control.status,
    }

    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            action = routes.get((method, self.path.split("?", 1)[0]))
            if action is None:
                self._reply(404, {"error": f"no {method} {self.path}; try POST /insert, "
                                  "POST /remove or GET /status"})  # fmt: skip
                return
            try:
                self._reply(200, action())
            except PcscdError as exc:
                self._reply(503, {"error": str(exc)})

        def _reply(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:
            return None  # quiet: the one ready line is the output

    return Handler


def _say(as_json: bool, event: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(event) if as_json else text)


@click.command()
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for pcscd's reader configuration and log (default: a temporary one, "
    "removed at exit).",
)
@click.option(
    "--control-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Loopback port of the control API (0: any free port).",
)
@click.option(
    "--model",
    type=click.Choice(sorted(ATRS)),
    default="provgw",
    show_default=True,
    help="Model of the blank cards.",
)
@click.option(
    "--adm1",
    default="12345678",
    show_default=True,
    help="ADM1 of the blank cards: 4-8 digits or 16 hex digits.",
)
@click.option(
    "--ota-keys",
    "ota_keys",
    multiple=True,
    envvar="PROVGW_EMULATOR_OTA_KEYS",
    help="OTA key set of blank cards, VERSION:aes|3des:KIC:KID (hex), repeatable (as for "
    "`provgw emulate card`).",
)
@click.option(
    "--store",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file keeping the card (created blank if missing): what is written to it, over "
    "the air too, survives removal and restarts.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the ready line as JSON.")
def reader(
    workdir: Path | None,
    control_port: int,
    model: str,
    adm1: str,
    ota_keys: tuple[str, ...],
    store: Path | None,
    as_json: bool,
) -> None:
    """A PC/SC reader with a blank emulated USIM, and an HTTP API to insert and remove cards.

    Runs a private pcscd (the system's, if any, is untouched) with a vpcd reader; clients
    reach it with PCSCLITE_CSOCK_NAME set to the socket printed. vpcd's own ports listen on
    all interfaces (vpcd cannot bind loopback only): run it on a trusted machine.
    Exit codes: 0 stopped, 2 bad usage, 3 the reader cannot run here.
    """
    try:
        UsimCard.blank(model=model, adm1=adm1)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--adm1") from None
    try:
        keysets = [parse_keyset(text) for text in ota_keys]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--ota-keys") from None
    if store is not None and store.exists():
        try:
            UsimCard.load(store)
        except StoreError as exc:  # names the file and what is wrong with it
            raise click.BadParameter(str(exc), param_hint="--store") from None
    missing = missing_components()
    if missing:
        _unavailable(as_json, f"{', '.join(missing)} not installed")
    scratch = None if workdir else Path(tempfile.mkdtemp(prefix="provgw-reader-"))
    workdir = (workdir or scratch or Path()).resolve()  # pcscd needs an absolute path
    workdir.mkdir(parents=True, exist_ok=True)
    pcsc = PrivatePcscd(workdir)
    try:
        pcsc.start()
    except PcscdError as exc:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        _unavailable(as_json, str(exc))
    control = ReaderControl(pcsc, model=model, adm1=adm1, ota_keys=keysets, store=store)
    try:
        _serve(pcsc, control, control_port, as_json)
    finally:
        pcsc.stop()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def _serve(pcsc: PrivatePcscd, control: ReaderControl, port: int, as_json: bool) -> None:
    control.insert()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(control))
    thread = threading.Thread(target=server.serve_forever, name="reader-control", daemon=True)
    thread.start()
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    name = pcsc.reader_name(SLOT)
    _say(
        as_json,
        {
            "event": "ready",
            "reader": name,
            "PCSCLITE_CSOCK_NAME": str(pcsc.socket_path),
            "control": url,
        },
        f'reader "{name}" with a {control.model} card; PCSCLITE_CSOCK_NAME={pcsc.socket_path}; '
        f"control: POST {url}/insert, POST {url}/remove, GET {url}/status",
    )
    try:
        while not done.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    _say(as_json, {"event": "stopped"}, "reader stopped")


def _unavailable(as_json: bool, reason: str) -> NoReturn:
    _say(as_json, {"event": "unavailable", "reason": reason}, f"reader unavailable: {reason}")
    raise SystemExit(EXIT_UNAVAILABLE)


if __name__ == "__main__":
    reader(prog_name="python -m emulators.usim.reader_cli")
