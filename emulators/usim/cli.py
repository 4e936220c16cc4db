"""`provgw emulate card`: put emulated USIM cards into vpcd reader slots until Ctrl-C."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import click

from emulators.usim.card import ATRS, UsimCard
from emulators.usim.state import StoreError
from emulators.usim.vpcd import VPCD_BASE_PORT, VpcdLink
from simcard.ota_keys import KeySet, OtaKeyError

_KEYSET_KINDS = {"aes": KeySet.aes, "3des": KeySet.tdes}


def parse_keyset(text: str) -> KeySet:
    """`VERSION:aes|3des:KIC:KID` (keys in hex) → a key set; ValueError naming the problem."""
    parts = text.split(":")
    if len(parts) != 4 or parts[1].lower() not in _KEYSET_KINDS:
        raise ValueError("an OTA key set is VERSION:aes|3des:KIC:KID (keys in hex)")
    try:
        version = int(parts[0])
        kic, kid = bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
        return _KEYSET_KINDS[parts[1].lower()](version, kic, kid)
    except OtaKeyError as exc:
        raise ValueError(str(exc)) from None
    except ValueError:
        raise ValueError("an OTA key set is VERSION:aes|3des:KIC:KID (keys in hex)") from None


def _open_card(
    store: Path | None, *, blank: bool, model: str, adm1: str, ota_keys: list[KeySet]
) -> UsimCard:
    if store is not None and store.exists() and not blank:
        return UsimCard.load(store)
    return UsimCard.blank(store, model=model, adm1=adm1, ota_keys=ota_keys)


@click.command()
@click.option(
    "--blank",
    is_flag=True,
    help="Start from a blank card even if the store exists (the store is overwritten).",
)
@click.option(
    "--store",
    "stores",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file keeping the card's contents and counters between runs; created blank "
    "if missing. Repeat once per --slot (in the same order). Without it the card is blank "
    "and lives in memory only.",
)
@click.option(
    "--model",
    type=click.Choice(sorted(ATRS)),
    default="provgw",
    show_default=True,
    help="Card model of a new blank card: its ATR (provgw: the emulator's own; sja2: a "
    "sysmoISIM-SJA2's). A loaded store keeps its model.",
)
@click.option(
    "--slot",
    "slots",
    multiple=True,
    type=click.IntRange(0, 255),
    help="vpcd slot to insert a card into (port = --port + slot); repeat for several cards. "
    "The stock reader.conf has slots 0 and 1.  [default: 0]",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Host where vpcd listens.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=VPCD_BASE_PORT,
    show_default=True,
    help="vpcd port of slot 0 (the CHANNELID in reader.conf).",
)
@click.option(
    "--adm1",
    default="12345678",
    show_default=True,
    help="ADM1 of a new blank card: 4-8 digits (sent by tools as ASCII) or 16 hex digits.",
)
@click.option(
    "--ota-keys",
    "ota_keys",
    multiple=True,
    envvar="PROVGW_EMULATOR_OTA_KEYS",
    help="OTA key set of a new blank card, VERSION:aes|3des:KIC:KID (hex), repeatable; "
    "from the environment as a space-separated list. The card's RFM applications answer "
    "SMS-PP downloads secured with it (docs/ota.md).",
)
def card(
    blank: bool,
    stores: tuple[Path, ...],
    model: str,
    slots: tuple[int, ...],
    host: str,
    port: int,
    adm1: str,
    ota_keys: tuple[str, ...],
) -> None:
    """Run emulated USIM cards in vpcd reader slots of a running pcscd, until Ctrl-C.

    Each card connects to vpcd as a TCP client and reconnects by itself when pcscd restarts.
    A blank card has every file FF-filled (EF.DIR names the USIM), zero Ki/OPc, PIN1 1234
    (disabled), PUK1 12345678 and the given ADM1; three wrong ADM1 tries block it for good.
    See docs/card-emulator.md.
    """
    slots = slots or (0,)
    if len(set(slots)) != len(slots):
        raise click.BadParameter("each slot may be given once", param_hint="--slot")
    if stores and len(stores) != len(slots):
        raise click.BadParameter(
            f"give one --store per --slot ({len(slots)} slots, {len(stores)} stores)",
            param_hint="--store",
        )
    if port + max(slots) > 65535:
        raise click.BadParameter("port + slot exceeds 65535", param_hint="--port")
    try:
        keysets = [parse_keyset(text) for text in ota_keys]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--ota-keys") from None
    try:
        cards = [
            _open_card(
                stores[i] if stores else None,
                blank=blank,
                model=model,
                adm1=adm1,
                ota_keys=keysets,
            )
            for i in range(len(slots))
        ]
    except StoreError as exc:  # names the file and what is wrong with it
        raise click.BadParameter(str(exc), param_hint="--store") from None
    except ValueError as exc:  # the only other bad input left: the ADM1 format
        raise click.BadParameter(str(exc), param_hint="--adm1") from None

    links = []
    for i, (slot, c) in enumerate(zip(slots, cards, strict=True)):
        where = f"store {stores[i]}" if stores else "in memory"
        click.echo(
            f"slot {slot}: {c.model} card ({where}) joins vpcd at {host}:{port + slot} "
            f'(reader "Virtual PCD 00 {slot:02d}" with the stock reader.conf)'
        )
        link = VpcdLink(c, port + slot, host, on_change=_reporter(slot))
        links.append(link)
        link.start()

    done = threading.Event()

    def _terminate(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _terminate)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for link in links:
            link.stop()
        click.echo("cards removed")


def _reporter(slot: int) -> Callable[[bool], None]:
    def report(connected: bool) -> None:
        state = "in the reader" if connected else "out (vpcd gone; reconnecting)"
        click.echo(f"slot {slot}: card {state}")

    return report
