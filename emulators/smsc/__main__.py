"""`python -m emulators.smsc …`: the same as `provgw emulate smsc …`."""

from emulators.smsc.cli import smsc

smsc(prog_name="python -m emulators.smsc")
