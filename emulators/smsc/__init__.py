"""SMSC emulator speaking SMPP 3.4, with an HTTP JSON admin API (see docs/smsc.md).

In-process use (tests)::

    async with SmscEmulator(port=0) as smsc:
        smsc.port, smsc.admin_port, smsc.messages("8613800138000"), smsc.bar("8613800138000")
        smsc.faults.update(refuse_rate=1.0)

On its own: `provgw emulate smsc` or `python -m emulators.smsc`.
"""

from emulators.smsc.faults import Faults
from emulators.smsc.server import SmscEmulator
from emulators.smsc.store import Message, Part

__all__ = ["Faults", "Message", "Part", "SmscEmulator"]
