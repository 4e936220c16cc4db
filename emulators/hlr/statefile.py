"""Optional persistence of the HLR state to a JSON file, so the emulator can be restarted.

Writing the whole state per command would cap throughput, so changes only mark the file
dirty; a write follows at most `interval` seconds later (one write covers every change in
between) and a final one on `close`. Each write goes to a temporary file that then replaces
the old one, so a reader or a restart never sees half a file.

With ``interval = 0`` (`--state-sync`) every change is on disk before the command that made it
is answered, as a real HLR commits before it replies: what the emulator acknowledged survives
it being killed. Rewriting the whole file per change would cost more the more subscribers there
are, so each change instead appends the records it touched (one IMSI's KI record and
subscriber, or their absence) to a journal beside the file, ``<file>.journal``, one JSON line
each; loading replays the journal over the file, and the journal is folded into the file every
`COMPACT_AFTER` lines and on `close`. Neither is fsync'ed: they survive the emulator being
killed, not the machine losing power.

Format versions: 1 had no SQNs; 2 adds the AuC's `sqn` to every KI entry; 3 adds the HSS's
part of every subscriber (SMS teleservices, PDN contexts, IMS and VoLTE, CUGs, push-to-talk).
Older files still load: every SQN then starts at 0 (a card that is ahead resynchronises once),
and every subscriber has SMS and none of the HSS services. Files are written as version 3,
which an older emulator refuses instead of silently dropping what it does not know.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from emulators.hlr.state import HlrState

FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
COMPACT_AFTER = 10_000


class StateFile:
    """Keeps `path` in step with `state` (the file holds the keys in clear: protect it)."""

    def __init__(self, path: Path, state: HlrState, interval: float = 0.1) -> None:
        self.path = path
        self.journal = path.with_name(path.name + ".journal")
        self._state = state
        self._interval = interval
        self._pending: asyncio.TimerHandle | None = None
        self._journal_fd: int | None = None
        self._journalled = 0

    def load(self) -> bool:
        """Restore the state from the file and its journal if either exists; `ValueError`
        naming a bad entry."""
        if not self.path.exists() and not self.journal.exists():
            return False
        data: dict[str, Any] = {"version": FORMAT_VERSION, "ki": {}, "subscribers": {}}
        if self.path.exists():
            data = self._read()
        self._replay(data)
        try:
            self._state.restore(data)
        except ValueError as exc:
            raise ValueError(f"{self.path}: {exc}") from None
        return True

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"{self.path}: {exc}") from None
        if not isinstance(data, dict) or data.get("version") not in READABLE_VERSIONS:
            versions = " or ".join(str(v) for v in READABLE_VERSIONS)
            raise ValueError(f"{self.path}: not an HLR emulator state file (version {versions})")
        return data

    def _replay(self, data: dict[str, Any]) -> None:
        """Apply the journal's entries, oldest first, to the file's tables (a last line cut
        short by a kill mid-write is dropped: its command was never answered)."""
        if not self.journal.exists():
            return
        lines = self.journal.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            try:
                entry = json.loads(line)
                imsi = entry["imsi"]
            except (ValueError, KeyError, TypeError):
                if number == len(lines):
                    break
                raise ValueError(f"{self.journal}: line {number} is not a journal entry") from None
            for table, record in (
                ("ki", entry.get("ki")),
                ("subscribers", entry.get("subscriber")),
            ):
                if record is None:
                    data[table].pop(imsi, None)
                else:
                    data[table][imsi] = record

    def attach(self) -> None:
        """Start following the state's changes (call from the running event loop)."""
        self._state.on_change = self._changed

    def _changed(self, imsis: tuple[str, ...]) -> None:
        if self._interval > 0:
            if self._pending is None:
                self._pending = asyncio.get_running_loop().call_later(self._interval, self.write)
        elif not imsis or self._journalled >= COMPACT_AFTER:
            self.write()
        else:
            self._append(imsis)

    def _append(self, imsis: tuple[str, ...]) -> None:
        if self._journal_fd is None:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
            self._journal_fd = os.open(self.journal, flags, 0o600)  # it holds keys
        entries = "".join(
            json.dumps(self._state.records(imsi), separators=(",", ":")) + "\n" for imsi in imsis
        )
        os.write(self._journal_fd, entries.encode())
        self._journalled += len(imsis)

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
        # The file now holds everything the journal did (replaying it again would be harmless).
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd = None
        self.journal.unlink(missing_ok=True)
        self._journalled = 0

    def close(self) -> None:
        """Stop following the state; write once more if a change is still unwritten."""
        self._state.on_change = None
        if self._pending is not None or self._journal_fd is not None:
            self.write()
