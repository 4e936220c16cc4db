"""The command-line options every emulator takes for its SNMP agent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from emulators.snmp.agent import AgentSettings

F = TypeVar("F", bound=Callable[..., Any])


def snmp_options(command: F) -> F:
    """Add --snmp-port, --snmp-community and --snmp-trap-target to a click command."""
    for option in reversed(
        (
            click.option(
                "--snmp-port",
                type=click.IntRange(0, 65535),
                help="UDP port of the SNMPv2c agent; 0 picks a free one  [default: no agent]",
            ),
            click.option(
                "--snmp-community",
                default="public",
                envvar="PROVGW_SNMP_COMMUNITY",
                show_default=True,
                help="The agent's community (or $PROVGW_SNMP_COMMUNITY).",
            ),
            click.option(
                "--snmp-trap-target",
                "snmp_trap_targets",
                multiple=True,
                metavar="HOST:PORT",
                callback=_trap_targets,
                help="Where traps go on alarm raise and clear (repeat for more).",
            ),
        )
    ):
        command = option(command)
    return command


def agent_settings(
    snmp_port: int | None, snmp_community: str, snmp_trap_targets: tuple[tuple[str, int], ...]
) -> AgentSettings | None:
    """The agent the options ask for, or None without --snmp-port."""
    if snmp_port is None:
        if snmp_trap_targets:
            raise click.UsageError("--snmp-trap-target needs --snmp-port (the agent sends traps)")
        return None
    return AgentSettings(snmp_port, snmp_community, snmp_trap_targets)


def _trap_targets(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, int], ...]:
    targets = []
    for value in values:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise click.BadParameter(f"{value!r}: expected HOST:PORT, e.g. 127.0.0.1:162")
        targets.append((host, int(port)))
    return tuple(targets)
