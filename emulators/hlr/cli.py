"""`provgw emulate hlr` (being built)."""

import click


@click.command()
def hlr() -> None:
    """Run the HLR/HSS emulator (MML over SSH)."""
    raise click.ClickException("not built yet")
