"""`python -m emulators.hlr …`: the same as `provgw emulate hlr …` (how the gateway spawns it)."""

from emulators.hlr.cli import hlr

hlr(prog_name="python -m emulators.hlr")
