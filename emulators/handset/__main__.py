"""`python -m emulators.handset …`: the same as `provgw emulate handset …`."""

from emulators.handset.cli import handset

handset(prog_name="python -m emulators.handset")
