"""Optional persistence of the HLR state to a JSON file, so the emulator can be restarted.

Writing the whole state per command would cap throughput, so changes only mark the file
dirty; a write follows at most `interval` seconds later (one write covers every change in
between) and a final one on `close`. With ``interval = 0`` every change is written before the
command that made it is answered, as a real HLR commits before it replies: then what the
emulator acknowledged survives it being killed (`--state-sync`, for fault tests). Each write
goes to a temporary file that then replaces the old one, so a reader or a restart never sees
half a file. It is not fsync'ed: it survives the emulator being killed, not the machine losing
power.

Format versions: 1 had no SQNs; 2 adds the AuC's `sqn` to every KI entry. Version 1 files
still load (every SQN then starts at 0, and a card that is ahead resynchronises once); files
are written as version 2, which an emulator from before the AuC refuses instead of silently
dropping the SQNs.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

from emulators.hlr.state import HlrState

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


class StateFile:
    """Keeps `path` in step with `state` (the file holds the keys in clear: protect it)."""

    def __init__(self, path: Path, state: HlrState, interval: float = 0.1) -> None:
        self.path = path
        self._state = state
        self._interval = interval
        self._pending: asyncio.TimerHandle | None = None

    def load(self) -> bool:
        """Restore the state from the file if it exists; `ValueError` naming a bad entry."""
        if not self.path.exists():
            return False
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"{self.path}: {exc}") from None
        if not isinstance(data, dict) or data.get("version") not in READABLE_VERSIONS:
            versions = " or ".join(str(v) for v in READABLE_VERSIONS)
            raise ValueError(f"{self.path}: not an HLR emulator state file (version {versions})")
        try:
            self._state.restore(data)
        except ValueError as exc:
            raise ValueError(f"{self.path}: {exc}") from None
        return True

    def attach(self) -> None:
        """Start following the state's changes (call from the running event loop)."""
        self._state.on_change = self._changed

    def _changed(self) -> None:
        if self._interval <= 0:
            self.write()
        elif self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self._interval, self.write)

    def write(self) -> None:
        """Write the state now."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        data = {"version": FORMAT_VERSION, **self._state.snapshot(reveal_secrets=True)}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(data, file, separators=(",", ":"))
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        """Stop following the state; write once more if a change is still unwritten."""
        self._state.on_change = None
        if self._pending is not None:
            self.write()
