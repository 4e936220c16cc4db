"""`provgw emulate …`: run one emulator on its own."""

from __future__ import annotations

import click

from emulators.handset.cli import handset
from emulators.hlr.cli import hlr
from emulators.smsc.cli import smsc
from emulators.usim.cli import card
from emulators.usim.reader_cli import reader


@click.group()
def emulate() -> None:
    """Run an emulated network element or card."""


emulate.add_command(hlr)
emulate.add_command(card)
emulate.add_command(smsc)
emulate.add_command(reader)
emulate.add_command(handset)
