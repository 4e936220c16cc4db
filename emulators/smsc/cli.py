"""`provgw emulate smsc`: run the SMSC emulator on its own until SIGTERM/SIGINT.

It prints exactly one line to stdout once it listens (JSON with `--json`), which is how a
parent process (a test, a benchmark, the demo) learns the ports when it asked for `--port 0`.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from emulators.serving import run
from emulators.smsc.core import DELIVER_WINDOW
from emulators.smsc.faults import DROP_STAGES, Faults
from emulators.smsc.outbox import DeliveryPolicy
from emulators.smsc.server import BARRED_STATUS, IDEMPOTENCY_TAG, SmscEmulator
from emulators.snmp.options import agent_settings, snmp_options

SERVICE_NUMBERS = ("10086", "10658800")
"""Customer service (keywords such as CXXZ) and the OTA server's address (cards' PoRs)."""


def _status(text: str) -> int:
    """A command_status as decimal or 0x-hex."""
    try:
        return int(text, 0)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a number (e.g. 0x58)") from None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=2775, show_default=True, help="SMPP port; 0 picks a free one.")
@click.option("--admin-port", default=8775, show_default=True, help="Admin HTTP port; 0 = free.")
@click.option("--no-admin", is_flag=True, help="Do not start the admin HTTP API.")
@click.option(
    "--handset-port", default=2776, show_default=True, help="Handsets' link port; 0 = free."
)
@click.option("--no-handsets", is_flag=True, help="Do not listen for handsets.")
@click.option(
    "--service-number",
    "service_numbers",
    multiple=True,
    default=SERVICE_NUMBERS,
    show_default=True,
    help="A number whose MO messages go to the ESME as deliver_sm (repeat).",
)
@click.option(
    "--deliver-window",
    default=DELIVER_WINDOW,
    show_default=True,
    help="deliver_sm awaiting a deliver_sm_resp per bind, at most.",
)
@click.option("--mo-retry-ms", default=1000.0, show_default=True, help="First MO retry wait.")
@click.option(
    "--mo-retry-max-ms", default=60000.0, show_default=True, help="Longest MO retry wait."
)
@click.option(
    "--mo-validity-s", default=3600.0, show_default=True, help="MO not taken by then expire."
)
@click.option(
    "--mo-loss-rate", default=0.0, show_default=True, help="Fraction of MO acknowledged, lost."
)
@click.option("--system-id", default="provgw", show_default=True, help="ESME account (bind).")
@click.option(
    "--password",
    default="provgw",
    envvar="PROVGW_SMSC_PASSWORD",
    show_default=True,
    help="ESME password, at most 8 characters (or $PROVGW_SMSC_PASSWORD).",
)
@click.option("--admin-user", help="Admin API user  [default: the system id]")
@click.option(
    "--admin-password",
    envvar="PROVGW_SMSC_ADMIN_PASSWORD",
    help="Admin API password (or $PROVGW_SMSC_ADMIN_PASSWORD)  [default: the ESME password]",
)
@click.option("--smsc-id", default="SMSC", show_default=True, help="system_id in bind responses.")
@click.option("--bar", "barred", multiple=True, help="A number to bar from the start (repeat).")
@click.option(
    "--barred-status",
    default=hex(BARRED_STATUS),
    show_default=True,
    help="command_status refusing a barred number.",
)
@click.option("--no-idempotency", is_flag=True, help=f"Ignore the key TLV 0x{IDEMPOTENCY_TAG:04X}.")
@click.option("--receipt-delay-ms", default=100.0, show_default=True, help="Delay of receipts.")
@click.option("--latency-ms", default=0.0, show_default=True, help="Delay of each submit_sm_resp.")
@click.option("--jitter-ms", default=0.0, show_default=True, help="Extra random 0…N ms delay.")
@click.option("--refuse-rate", default=0.0, show_default=True, help="Fraction of submits refused.")
@click.option("--refuse-status", default="0x58", show_default=True, help="Their command_status.")
@click.option("--drop-rate", default=0.0, show_default=True, help="Fraction cutting the bind.")
@click.option("--drop-stage", type=click.Choice(DROP_STAGES), default="stored", show_default=True)
@click.option("--seed", type=int, help="Seed of the fault generator (repeatable runs).")
@snmp_options
@click.option("--json", "as_json", is_flag=True, help="Print the listening line as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Log binds and refusals to stderr.")
def smsc(
    host: str,
    port: int,
    admin_port: int,
    no_admin: bool,
    handset_port: int,
    no_handsets: bool,
    service_numbers: tuple[str, ...],
    deliver_window: int,
    mo_retry_ms: float,
    mo_retry_max_ms: float,
    mo_validity_s: float,
    mo_loss_rate: float,
    system_id: str,
    password: str,
    admin_user: str | None,
    admin_password: str | None,
    smsc_id: str,
    barred: tuple[str, ...],
    barred_status: str,
    no_idempotency: bool,
    receipt_delay_ms: float,
    latency_ms: float,
    jitter_ms: float,
    refuse_rate: float,
    refuse_status: str,
    drop_rate: float,
    drop_stage: str,
    seed: int | None,
    snmp_port: int | None,
    snmp_community: str,
    snmp_trap_targets: tuple[tuple[str, int], ...],
    as_json: bool,
    verbose: bool,
) -> None:
    """Run the SMSC emulator (SMPP 3.4, admin API over HTTP)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    snmp = agent_settings(snmp_port, snmp_community, snmp_trap_targets)
    try:
        faults = Faults(
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            refuse_rate=refuse_rate,
            refuse_status=_status(refuse_status),
            drop_rate=drop_rate,
            drop_stage=drop_stage,
            mo_loss_rate=mo_loss_rate,
            receipt_delay_ms=receipt_delay_ms,
        )
        if not 0 < mo_retry_ms <= mo_retry_max_ms or mo_validity_s <= 0:
            raise ValueError("--mo-retry-ms, --mo-retry-max-ms, --mo-validity-s: 0 < first ≤ max")
        if seed is not None:
            faults.rng.seed(seed)
        emulator = SmscEmulator(
            host=host,
            port=port,
            admin_port=None if no_admin else admin_port,
            accounts={system_id: password},
            admin_user=admin_user,
            admin_password=admin_password,
            system_id=smsc_id,
            faults=faults,
            barred=barred,
            barred_status=_status(barred_status),
            idempotency_tag=None if no_idempotency else IDEMPOTENCY_TAG,
            snmp=snmp,
            handset_port=None if no_handsets else handset_port,
            service_numbers=service_numbers,
            deliver_window=deliver_window,
            delivery=DeliveryPolicy(mo_retry_ms / 1000, mo_retry_max_ms / 1000, mo_validity_s),
        )
        run(emulator, lambda: _listening(emulator), as_json=as_json)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


def _listening(emulator: SmscEmulator) -> tuple[dict[str, Any], str]:
    fields = {
        "host": emulator.host,
        "port": emulator.port,
        "admin_port": emulator.admin_port,
        "handset_port": emulator.handset_port,
        "system_id": emulator.system_id,
        "service_numbers": sorted(emulator.service_numbers),
        "snmp_port": None if emulator.snmp is None else emulator.snmp.port,
    }
    line = f"SMSC emulator {emulator.system_id} listening on smpp://{emulator.host}:{emulator.port}"
    if emulator.admin_port is not None:
        line += f", admin http://{emulator.host}:{emulator.admin_port}"
    if emulator.handset_port is not None:
        line += f", handsets {emulator.host}:{emulator.handset_port}"
    if emulator.snmp is not None:
        line += f", snmp udp://{emulator.snmp.host}:{emulator.snmp.port}"
    return fields, line
