"""`provgw emulate card` (being built)."""

import click


@click.command()
def card() -> None:
    """Run the USIM card emulator behind pcscd (vpcd)."""
    raise click.ClickException("not built yet")
