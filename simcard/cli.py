"""`provgw card …`: read, write, verify and batch-program USIM cards."""

from __future__ import annotations

import click


@click.group()
def card() -> None:
    """Read, write and verify USIM cards through PC/SC readers."""
