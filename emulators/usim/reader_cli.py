"""`provgw emulate reader`: a card reader with a blank emulated USIM in it, and a control API.

A private pcscd (`PrivatePcscd`, never the system's) with a vpcd reader and a blank card in
slot 0, for a card agent or `provgw card` to use through real PC/SC: point clients at it with
``PCSCLITE_CSOCK_NAME``. A tiny HTTP API on loopback stands in for the clerk's hands:

  ``POST /insert`` — a fresh blank card in the reader (replacing any card);
  ``POST /remove`` — the card out;
  ``GET /status``  — ``{"reader", "card", "model"}``.

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click

from emulators.usim.card import ATRS, UsimCard
from emulators.usim.pcscd import PcscdError, PrivatePcscd, missing_components

EXIT_UNAVAILABLE = 3
SLOT = 0


class ReaderControl:
    """The hands at the reader: insert a fresh blank card, pull it, say what is in."""

    def __init__(self, pcsc: PrivatePcscd, *, model: str, adm1: str) -> None:
        self.pcsc = pcsc
        self.model = model
        self.adm1 = adm1
        self._lock = threading.Lock()  # one card movement at a time

    def insert(self) -> dict[str, Any]:
        with self._lock:
            self.pcsc.insert(UsimCard.blank(model=self.model, adm1=self.adm1), SLOT)
            return self.status()

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
@click.option("--json", "as_json", is_flag=True, help="Print the ready line as JSON.")
def reader(workdir: Path | None, control_port: int, model: str, adm1: str, as_json: bool) -> None:
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
    try:
        _serve(pcsc, control_port, model, adm1, as_json)
    finally:
        pcsc.stop()
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def _serve(pcsc: PrivatePcscd, port: int, model: str, adm1: str, as_json: bool) -> None:
    control = ReaderControl(pcsc, model=model, adm1=adm1)
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
        f'reader "{name}" with a blank {model} card; PCSCLITE_CSOCK_NAME={pcsc.socket_path}; '
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
