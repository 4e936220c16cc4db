"""`provgw numbers|sims|customers|operators|channels …`."""

import click

COMMANDS: list[click.Command] = []
