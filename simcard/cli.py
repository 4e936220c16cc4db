"""`provgw card …`: list readers, read, write, verify and batch-program USIM cards.

Exit codes (also in `provgw card --help` and docs/simcard.md):
0 done · 1 the card refused a command · 2 bad usage or invalid profile/CSV · 3 no reader, no
card, or the card left the reader · 4 ADM1/PIN1 rejected (never retried) · 5 not the expected
card (not blank, other ICCID, unknown model) · 6 verification failed · 7 card half-written —
do not issue it · 8 batch done with some cards failed.

Keys and codes may come from options or the environment (PROVGW_ADM1, PROVGW_KI, PROVGW_OPC,
PROVGW_OP, PROVGW_PIN1); they are never printed.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, Protocol

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from simcard import agent as card_agent
from simcard import batch as batch_io
from simcard.errors import (
    AdmRejectedError,
    CardLayerError,
    CardNotBlankError,
    CardRemovedError,
    HalfWrittenCardError,
    PinRejectedError,
    ReaderError,
    UnknownCardError,
    VerificationError,
    WrongCardError,
)
from simcard.models import MODELS, CardModel, by_name, detect
from simcard.profile import CardProfile, ProfileError, adm_code, pin_code
from simcard.reader import format_reading, read_card
from simcard.transport import PcscTransport, Transport, list_readers
from simcard.verifier import verify_card
from simcard.writer import write_card

EXIT_CARD = 1
EXIT_INVALID = 2
EXIT_NO_CARD = 3
EXIT_REFUSED_CODE = 4
EXIT_WRONG_CARD = 5
EXIT_NOT_VERIFIED = 6
EXIT_HALF_WRITTEN = 7
EXIT_BATCH_FAILURES = 8

_EXIT_CODES: tuple[tuple[type[Exception], int], ...] = (
    (ProfileError, EXIT_INVALID),
    (OSError, EXIT_INVALID),
    (HalfWrittenCardError, EXIT_HALF_WRITTEN),
    (AdmRejectedError, EXIT_REFUSED_CODE),
    (PinRejectedError, EXIT_REFUSED_CODE),
    (ReaderError, EXIT_NO_CARD),
    (CardRemovedError, EXIT_NO_CARD),
    (CardNotBlankError, EXIT_WRONG_CARD),
    (WrongCardError, EXIT_WRONG_CARD),
    (UnknownCardError, EXIT_WRONG_CARD),
    (VerificationError, EXIT_NOT_VERIFIED),
)

err_console = Console(stderr=True, highlight=False)


class Slot(Transport, Protocol):
    """A reader slot as the CLI uses it: a transport that can also wait for cards.

    `PcscTransport` is one; tests pass another through the click context (`obj["slot"]`).
    """

    def wait_for_card(self, timeout: float | None = None, *, present: bool = True) -> bool: ...


SlotFactory = Callable[[str | None, bool], Slot]


def exit_code(exc: Exception) -> int:
    """The documented exit code for an error."""
    return next((code for cls, code in _EXIT_CODES if isinstance(exc, cls)), EXIT_CARD)


def _fail(exc: Exception, as_json: bool) -> NoReturn:
    code = exit_code(exc)
    if as_json:
        click.echo(json.dumps({"ok": False, "error": str(exc), "kind": type(exc).__name__}))
    else:
        err_console.print(f"[red]error:[/red] {escape(str(exc))}")
    sys.exit(code)


@contextmanager
def _guard(as_json: bool) -> Iterator[None]:
    try:
        yield
    except (CardLayerError, ValueError, OSError) as exc:
        _fail(exc, as_json)


def _slot(ctx: click.Context, reader: str | None, shared: bool) -> Slot:
    factory: SlotFactory | None = (ctx.obj or {}).get("slot")
    if factory is None:
        return PcscTransport(reader, shared=shared)
    return factory(reader, shared)


_reader_option = click.option(
    "--reader", "-r", help="Reader name or part of it (default: the only one)."
)
_shared_option = click.option(
    "--shared", is_flag=True, help="Open the reader shared, not exclusively."
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")


def _profile_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--profile",
            "profile_file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Profile as JSON (CardProfile fields).",
        ),
        click.option(
            "--csv",
            "csv_file",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="pySim-style CSV; pick the row with --row or --iccid.",
        ),
        click.option("--row", type=int, help="1-based data row of --csv."),
        click.option("--iccid", help="ICCID (also picks the --csv row)."),
        click.option("--imsi", help="IMSI."),
        click.option("--mcc", help="MCC (default: from the IMSI)."),
        click.option("--mnc", help="MNC, 2 or 3 digits (default: 2 from the IMSI)."),
        click.option("--ki", envvar="PROVGW_KI", help="Ki, 32 hex digits [env PROVGW_KI]."),
        click.option("--opc", envvar="PROVGW_OPC", help="OPc, 32 hex digits [env PROVGW_OPC]."),
        click.option("--op", envvar="PROVGW_OP", help="OP (OPc is derived) [env PROVGW_OP]."),
        click.option(
            "--algorithm",
            type=click.Choice(["milenage", "comp128v1"]),
            help="Authentication algorithm.",
        ),
        click.option("--spn", help="Service provider name (GSM alphabet or Chinese)."),
        click.option("--msisdn", help="MSISDN, +international or national."),
        click.option("--smsc", help="SMS centre number."),
        click.option(
            "--acc", help="Access classes, 4 hex digits (default from the IMSI's last digit)."
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _load_profile(
    profile_file: Path | None, csv_file: Path | None, row: int | None, fields: dict[str, Any]
) -> CardProfile:
    """A profile from a JSON file, a CSV row, options, or a mix (options win)."""
    given = {k: v for k, v in fields.items() if v is not None}
    base: dict[str, Any] = {}
    if profile_file is not None:
        try:
            base = json.loads(profile_file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ProfileError(f"cannot read {profile_file}: {exc}") from None
        if not isinstance(base, dict):
            raise ProfileError(f"{profile_file}: expected a JSON object of profile fields")
    if csv_file is not None:
        return _csv_row(csv_file, row, given)
    return CardProfile.create({**base, **given})


def _csv_row(csv_file: Path, row: int | None, given: dict[str, Any]) -> CardProfile:
    wanted_iccid = given.get("iccid")
    with csv_file.open(newline="") as stream:
        for index, (_, item) in enumerate(batch_io.read_csv(stream), start=1):
            if isinstance(item, ProfileError):
                if row == index:
                    raise item
                continue
            if row == index or (row is None and item.iccid == wanted_iccid):
                return CardProfile.create({**item.model_dump(), **given})
    which = f"number {row}" if row is not None else f"with ICCID {wanted_iccid}"
    raise ProfileError(f"{csv_file}: no valid row {which}")


def _model(name: str | None) -> CardModel | None:
    return by_name(name) if name else None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def card() -> None:
    """Read, write and verify USIM cards through PC/SC readers.

    Exit codes: 0 done, 1 card refused a command, 2 invalid input, 3 no reader/card or card
    removed, 4 ADM1/PIN1 rejected (never retried), 5 not the expected card, 6 verification
    failed, 7 card half-written (do not issue), 8 batch done with failures.
    """


@card.command()
@_json_option
def readers(as_json: bool) -> None:
    """List PC/SC readers, whether a card is in each, and its model."""
    with _guard(as_json):
        found = []
        for name in list_readers():
            entry: dict[str, Any] = {"reader": name, "card": False}
            transport = PcscTransport(name, shared=True)
            try:
                if transport.card_present():
                    atr = transport.connect()
                    entry.update(card=True, atr=atr.hex(), model=_model_name(atr))
            except CardLayerError as exc:
                entry["error"] = str(exc)
            finally:
                transport.disconnect()
            found.append(entry)
    if as_json:
        click.echo(json.dumps(found))
        return
    if not found:
        click.echo("no readers")
    for entry in found:
        state = f"{entry['model']} (ATR {entry['atr']})" if entry["card"] else "no card"
        click.echo(f"{entry['reader']}: {entry.get('error', state)}")


def _model_name(atr: bytes) -> str:
    return next((m.name for m in MODELS if atr in m.atrs), "unknown model")


@card.command()
@_reader_option
@_shared_option
@click.option(
    "--pin1", envvar="PROVGW_PIN1", help="PIN1, if the card has it enabled [env PROVGW_PIN1]."
)
@_json_option
@click.pass_context
def read(
    ctx: click.Context, reader: str | None, shared: bool, pin1: str | None, as_json: bool
) -> None:
    """Read and decode the card (like pySim-read). Never presents ADM1."""
    with _guard(as_json):
        transport = _slot(ctx, reader, shared)
        try:
            transport.connect()
            result = read_card(transport, pin1=pin_code(pin1) if pin1 else None)
        finally:
            transport.disconnect()
    click.echo(json.dumps(result, ensure_ascii=False) if as_json else format_reading(result))


@card.command()
@_reader_option
@_shared_option
@_profile_options
@click.option(
    "--adm1",
    envvar="PROVGW_ADM1",
    help="ADM1: up to 8 characters or 16 hex digits [env PROVGW_ADM1].",
)
@click.option("--model", "model_name", help="Card model (default: detected from the ATR).")
@click.option(
    "--not-blank", is_flag=True, help="Allow writing over a card that already has an IMSI."
)
@click.option(
    "--no-verify", is_flag=True, help="Skip the AUTHENTICATE proof (read-back still done)."
)
@_json_option
@click.pass_context
def write(
    ctx: click.Context,
    /,
    reader: str | None,
    shared: bool,
    adm1: str | None,
    model_name: str | None,
    not_blank: bool,
    no_verify: bool,
    as_json: bool,
    profile_file: Path | None,
    csv_file: Path | None,
    row: int | None,
    **fields: Any,
) -> None:
    """Write a profile to a blank card, read it back and prove the keys."""
    with _guard(as_json):
        profile = _load_profile(profile_file, csv_file, row, fields)
        adm = adm_code(adm1) if adm1 else None
        model = _model(model_name)
        transport = _slot(ctx, reader, shared)
        try:
            transport.connect()
            report = write_card(
                transport,
                profile,
                model=model,
                adm1=adm,
                expect_blank=not not_blank,
                prove=not no_verify,
            )
        finally:
            transport.disconnect()
    if as_json:
        click.echo(json.dumps({"ok": True, **report.as_dict()}))
    else:
        click.echo(f"{report.summary()} — {report.apdus} APDUs, {report.elapsed_ms:.0f} ms")


@card.command()
@_reader_option
@_shared_option
@_profile_options
@click.option("--model", "model_name", help="Card model (default: detected from the ATR).")
@_json_option
@click.pass_context
def verify(
    ctx: click.Context,
    /,
    reader: str | None,
    shared: bool,
    model_name: str | None,
    as_json: bool,
    profile_file: Path | None,
    csv_file: Path | None,
    row: int | None,
    **fields: Any,
) -> None:
    """Check a card against a profile: read every file, then prove the keys by AUTHENTICATE."""
    with _guard(as_json):
        profile = _load_profile(profile_file, csv_file, row, fields)
        transport = _slot(ctx, reader, shared)
        try:
            atr = transport.connect()
            model = _model(model_name) or detect(atr)
            result = verify_card(transport, profile, model)
        finally:
            transport.disconnect()
    if as_json:
        out = {"ok": True, "model": model.name, "checked": list(result.checked)}
        out |= {"absent": list(result.absent), "sqn": result.proof.sqn}
        out |= {"contexts": list(result.proof.contexts), "apdus": result.apdus}
        click.echo(json.dumps(out))
    else:
        click.echo(
            f"{model.name}: {len(result.checked)} files match, keys proven "
            f"({' and '.join(result.proof.contexts)} AUTHENTICATE), {result.apdus} APDUs"
        )


@card.command(name="batch")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_reader_option
@_shared_option
@click.option(
    "--adm1",
    envvar="PROVGW_ADM1",
    help="ADM1 for every card when the CSV has none [env PROVGW_ADM1].",
)
@click.option("--model", "model_name", help="Card model (default: detected from each ATR).")
@click.option(
    "--not-blank", is_flag=True, help="Allow writing over cards that already have an IMSI."
)
@click.option(
    "--wait",
    "wait_s",
    type=float,
    default=None,
    help="Give up waiting for a card after this many seconds.",
)
@_json_option
@click.pass_context
def batch(
    ctx: click.Context,
    csv_file: Path,
    reader: str | None,
    shared: bool,
    adm1: str | None,
    model_name: str | None,
    not_blank: bool,
    wait_s: float | None,
    as_json: bool,
) -> None:
    """Write every row of a pySim-style CSV, one card after the other.

    Asks for each card, notices when it is inserted (by polling the reader), writes, reads back
    and verifies it, and asks for it to be removed. A card that fails is reported and skipped;
    the batch goes on. A summary closes the run.
    """
    with _guard(as_json):
        adm = adm_code(adm1) if adm1 else None
        model = _model(model_name)
        with csv_file.open(newline="") as stream:
            rows = list(batch_io.read_csv(stream))
        slot = _slot(ctx, reader, shared)
    results = _run_batch(
        slot, rows, adm=adm, model=model, expect_blank=not not_blank, wait_s=wait_s, as_json=as_json
    )
    failed = [r for r in results if not r["ok"]]
    if as_json:
        click.echo(json.dumps({"ok": not failed, "cards": results}))
    else:
        done = len(results) - len(failed)
        click.echo(f"batch: {done} cards written, {len(failed)} failed, {len(rows)} rows")
        for r in failed:
            click.echo(f"  line {r['line']}: {r.get('iccid', '?')}: {r['error']}")
    if failed:
        sys.exit(EXIT_BATCH_FAILURES)


def _run_batch(
    slot: Slot,
    rows: list[tuple[int, CardProfile | ProfileError]],
    *,
    adm: bytes | None,
    model: CardModel | None,
    expect_blank: bool,
    wait_s: float | None,
    as_json: bool,
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    say = err_console.print
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err_console, disable=as_json) as progress:
        task = progress.add_task("cards", total=len(rows))
        for line, item in rows:
            if isinstance(item, ProfileError):
                results.append({"line": line, "ok": False, "error": str(item)})
                progress.advance(task)
                continue
            progress.update(task, description=f"ICCID {item.iccid}")
            if not as_json:
                say(f"insert the card for ICCID {item.iccid} (line {line})")
            results.append(_batch_card(slot, line, item, adm, model, expect_blank, wait_s))
            if not as_json:
                ok = results[-1]["ok"]
                outcome = "done" if ok else "FAILED: " + escape(results[-1]["error"])
                say(f"  {outcome} — remove the card")
            slot.wait_for_card(wait_s, present=False)
            progress.advance(task)
    return results


def _batch_card(
    slot: Slot,
    line: int,
    profile: CardProfile,
    adm: bytes | None,
    model: CardModel | None,
    expect_blank: bool,
    wait_s: float | None,
) -> dict[str, Any]:
    base = {"line": line, "iccid": profile.iccid, "imsi": profile.imsi}
    if not slot.wait_for_card(wait_s, present=True):
        return {**base, "ok": False, "error": "no card inserted in time"}
    try:
        slot.connect()
        report = write_card(slot, profile, model=model, adm1=adm, expect_blank=expect_blank)
        return {**base, "ok": True, **report.as_dict()}
    except (CardLayerError, ValueError) as exc:
        return {**base, "ok": False, "error": str(exc), "exit_code": exit_code(exc)}
    finally:
        slot.disconnect()


@card.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--count", type=int, required=True, help="Number of profiles.")
@click.option("--first-imsi", required=True, help="IMSI of the first card; the next ones count up.")
@click.option("--first-iccid", required=True, help="ICCID of the first card (with its Luhn digit).")
@click.option("--mnc", help="MNC, 2 or 3 digits (default: 2 from the IMSI).")
@click.option(
    "--op", envvar="PROVGW_OP", help="Operator OP: OPc = f(Ki, OP) per card [env PROVGW_OP]."
)
@click.option("--spn", help="Service provider name.")
@click.option("--smsc", help="SMS centre number.")
@click.option("--adm1", envvar="PROVGW_ADM1", help="ADM1 of the blank cards, copied to every row.")
def generate(
    out: Path, count: int, first_imsi: str, first_iccid: str, mnc: str | None, op: str | None,
    spn: str | None, smsc: str | None, adm1: str | None,
) -> None:  # fmt: skip
    """Generate a batch CSV (fresh Ki/OPc/PINs from `secrets`), readable by pySim-prog too."""
    template = {k: v for k, v in {"mnc": mnc, "spn": spn, "smsc": smsc, "adm1": adm1}.items() if v}
    with _guard(False):
        op_bytes = bytes.fromhex(op) if op else None
        profiles = batch_io.generate(count, first_imsi, first_iccid, op=op_bytes, template=template)
        out.touch(mode=0o600, exist_ok=False)
        with out.open("w", newline="") as stream:
            batch_io.write_csv(stream, profiles)
    click.echo(f"{count} profiles written to {out} (mode 600: it holds the keys)")


@card.command()
@click.option("--gateway", required=True, help="The gateway's base URL, e.g. https://gw:8443.")
@click.option("--station", required=True, help="The card station this reader serves.")
@_reader_option
@click.option(
    "--token-env",
    default="PROVGW_AGENT_TOKEN",
    show_default=True,
    help="Variable holding the station's bearer token (not an option: command lines are "
    "visible to every user of the machine).",
)
@click.option(
    "--poll",
    "poll_wait_s",
    type=click.FloatRange(1, 60),
    default=25.0,
    show_default=True,
    help="Seconds one long poll for jobs may wait.",
)
@click.option("--json", "as_json", is_flag=True, help="Log as JSON lines (on stderr).")
def agent(
    gateway: str,
    station: str,
    reader: str | None,
    token_env: str,
    poll_wait_s: float,
    as_json: bool,
) -> None:
    """Serve a gateway's card station from a reader on this machine, until SIGTERM/Ctrl-C.

    Connects out to the gateway (a clerk's PC need not be reachable), takes its card jobs —
    write a blank card, answer a challenge, read the IMSI back — and reports the reader and
    whether a card is in it. Reconnects by itself. See docs/card-agent.md.

    Exit codes: 0 stopped, 2 bad usage or the token variable not set, 4 the gateway refused
    the token, 5 the gateway has no agent station of that name.
    """
    token = os.environ.get(token_env, "")
    if not token:
        raise click.UsageError(f"${token_env} is not set: it must hold the station's token")
    if not gateway.startswith(("http://", "https://")):
        raise click.BadParameter("expected an http:// or https:// URL", param_hint="--gateway")
    card_agent.configure_logging(as_json)
    settings = card_agent.AgentSettings(
        gateway=gateway.rstrip("/"),
        station=station,
        token=token,
        reader=reader,
        poll_wait_s=poll_wait_s,
    )
    sys.exit(asyncio.run(card_agent.run_agent(settings)))
