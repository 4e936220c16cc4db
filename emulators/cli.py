"""`provgw emulate …`: run one emulator on its own."""

from __future__ import annotations

import click


@click.group()
def emulate() -> None:
    """Run an emulated network element or card."""
