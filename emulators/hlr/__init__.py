"""HLR/HSS emulator speaking Huawei-style MML over SSH (contract: docs/dialects/huawei-mml.md).

In-process use (tests)::

    async with HlrEmulator(port=0) as emu:
        emu.port, emu.state.snapshot(), emu.faults.update(error_rate=1.0)

On its own: `provgw emulate hlr` or `python -m emulators.hlr` (see docs/hlr-emulator.md).
"""

from emulators.hlr.auc import AuthCentre
from emulators.hlr.codes import Outcome, ReturnCode, ReturnCodes
from emulators.hlr.faults import Faults
from emulators.hlr.server import HlrEmulator
from emulators.hlr.session import Account
from emulators.hlr.state import HlrState, Template

__all__ = [
    "Account",
    "AuthCentre",
    "Faults",
    "HlrEmulator",
    "HlrState",
    "Outcome",
    "ReturnCode",
    "ReturnCodes",
    "Template",
]
