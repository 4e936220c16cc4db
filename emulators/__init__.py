"""Emulators of third-party hardware: HLR/HSS (MML over SSH), USIM card (APDU over vpcd).

They import nothing from `gateway` or `adapters`: sharing codec code with the adapters would
hide bugs in both. For the same reason the emulators keep their own copy of the gateway's one
warning filter (see `gateway/__init__.py`): asyncssh's DSA deprecation warnings under
cryptography ≥ 46 would otherwise fill the stderr an emulator shares with ``provgw serve``.
"""

import warnings

warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"asyncssh\.")
