"""`provgw emulate hlr`: run the HLR/HSS emulator on its own until SIGTERM/SIGINT.

It prints exactly one line to stdout once it listens (JSON with `--json`), which is how a
parent process (the gateway, a benchmark) learns the port when it asked for `--port 0`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from emulators.hlr.auc import DEFAULT_AMF, AuthCentre
from emulators.hlr.configfile import read_codes, read_templates
from emulators.hlr.faults import Faults
from emulators.hlr.server import HlrEmulator
from emulators.hlr.session import Account
from emulators.serving import run
from emulators.snmp.options import agent_settings, snmp_options

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=2222, show_default=True, help="SSH port; 0 picks a free one.")
@click.option("--user", default="provgw", show_default=True, help="SSH user name.")
@click.option(
    "--password",
    default="provgw",
    envvar="PROVGW_HLR_PASSWORD",
    show_default=True,
    help="SSH password (or $PROVGW_HLR_PASSWORD).",
)
@click.option("--mml-user", help="MML operator for LGI  [default: the SSH user]")
@click.option(
    "--mml-password",
    envvar="PROVGW_HLR_MML_PASSWORD",
    help="MML operator password (or $PROVGW_HLR_MML_PASSWORD)  [default: the SSH password]",
)
@click.option(
    "--admin/--no-admin",
    default=True,
    show_default=True,
    help="May the MML operator use the engineer commands (SET/LST EMUFAULT, EXP STATE)?",
)
@click.option("--ne-name", default="HLR9820", show_default=True, help="NE name in replies.")
@click.option("--state", "state_file", type=_FILE, help="JSON file to load and keep the state in.")
@click.option(
    "--state-sync",
    is_flag=True,
    help="Write the state file before answering each change (survives SIGKILL; slower).",
)
@click.option("--host-key", type=_FILE, help="SSH host key file (created if missing).")
@click.option("--templates", type=_FILE, help="TOML/JSON file of templates (replaces 1–9).")
@click.option("--codes", type=_FILE, help="TOML/JSON file overriding return codes.")
@click.option("--latency-ms", default=0.0, show_default=True, help="Delay before each reply.")
@click.option("--jitter-ms", default=0.0, show_default=True, help="Extra random 0…N ms delay.")
@click.option("--error-rate", default=0.0, show_default=True, help="Fraction refused with 5001.")
@click.option("--error-code", default=5001, show_default=True, help="Code for injected errors.")
@click.option("--drop-rate", default=0.0, show_default=True, help="Fraction cut after executing.")
@click.option("--stuck-after", default=0, show_default=True, help="Sessions hang after N (0=no).")
@click.option(
    "--amf", default=DEFAULT_AMF, show_default=True, help="AMF of the AuC's vectors (4 hex)."
)
@click.option("--ind", default=0, show_default=True, help="IND slot of the AuC's SQNs (0-31).")
@snmp_options
@click.option("--json", "as_json", is_flag=True, help="Print the listening line as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Log refused commands to stderr.")
def hlr(
    host: str,
    port: int,
    user: str,
    password: str,
    mml_user: str | None,
    mml_password: str | None,
    admin: bool,
    ne_name: str,
    state_file: Path | None,
    state_sync: bool,
    host_key: Path | None,
    templates: Path | None,
    codes: Path | None,
    latency_ms: float,
    jitter_ms: float,
    error_rate: float,
    error_code: int,
    drop_rate: float,
    stuck_after: int,
    amf: str,
    ind: int,
    snmp_port: int | None,
    snmp_community: str,
    snmp_trap_targets: tuple[tuple[str, int], ...],
    as_json: bool,
    verbose: bool,
) -> None:
    """Run the HLR/HSS emulator (Huawei-style MML over SSH)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
    snmp = agent_settings(snmp_port, snmp_community, snmp_trap_targets)
    try:
        faults = Faults(
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            error_rate=error_rate,
            error_code=error_code,
            drop_rate=drop_rate,
            stuck_after=stuck_after,
        )
        emulator = HlrEmulator(
            host=host,
            port=port,
            users={user: Account(password)},
            operators={mml_user or user: Account(mml_password or password, admin=admin)},
            ne_name=ne_name,
            templates=None if templates is None else read_templates(templates),
            codes=None if codes is None else read_codes(codes),
            faults=faults,
            state_file=state_file,
            state_sync=state_sync,
            host_key=host_key,
            auc=AuthCentre(amf=amf, ind=ind),
            snmp=snmp,
        )
        run(emulator, lambda: _listening(emulator), as_json=as_json)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


def _listening(emulator: HlrEmulator) -> tuple[dict[str, Any], str]:
    snmp = emulator.snmp
    fields = {
        "host": emulator.host,
        "port": emulator.port,
        "ne": emulator.ne_name,
        "snmp_port": None if snmp is None else snmp.port,
    }
    line = f"HLR emulator {emulator.ne_name} listening on ssh://{emulator.host}:{emulator.port}"
    if snmp is not None:
        line += f", snmp udp://{snmp.host}:{snmp.port}"
    return fields, line
