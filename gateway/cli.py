"""The `provgw` command line.

The gateway's own commands live here; other top-level packages contribute their command groups
(`provgw card …`, `provgw emulate …`) through the ``provgw.commands`` entry-point group, so the
gateway never imports the emulators.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="provgw")
def main() -> None:
    """provgw: provisioning gateway for mobile operators."""


def _load_plugins() -> None:
    for ep in entry_points(group="provgw.commands"):
        command = ep.load()
        main.add_command(command, ep.name)


_load_plugins()
