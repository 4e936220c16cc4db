"""WAL checkpoints on a thread of their own, so that the event loop never waits for one.

SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past
``wal_autocheckpoint`` pages: it copies the WAL back into the database file and syncs both. The
store commits on the event loop, so that COMMIT stalled every order in flight. Measured at full
load (5,000 open-account orders, `provgw bench orders`): one commit in about thirty carried a
checkpoint and took 5–10 ms instead of 0.5 ms, some 8 % of the gateway's time all told.

Here the store's connection never checkpoints. A thread with a connection of its own runs a
PASSIVE checkpoint every ``interval`` seconds: PASSIVE never takes the writer's lock, so the
store's commits go on meanwhile, and sqlite3 lets go of the GIL while SQLite copies and syncs,
so that work is done on another core. Under a steady stream of commits a PASSIVE checkpoint
never quite catches up with the writer, and SQLite starts the WAL over only once every frame in
it was copied: so when the WAL holds more than ``restart_frames``, a RESTART checkpoint copies
the few frames committed since the PASSIVE one while holding the writer back (about a
millisecond), and the WAL starts over. When the store closes, its connection (the last one)
checkpoints whatever is left and removes the WAL, as before.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class WalCheckpointer:
    """Checkpoints the WAL of the database at ``path`` until `close`."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str,
        interval: float = 0.05,
        restart_frames: int = 4096,  # 16 MiB of 4 KiB pages
    ) -> None:
        self._path = path
        self._synchronous = synchronous
        self._interval = interval
        self._restart_frames = restart_frames
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            # RESTART waits for the store's commit to end, and then for readers of older
            # snapshots (another process, an engineer's sqlite3 shell) while holding writers
            # back: so it waits briefly, and after a refusal not again before the WAL has
            # grown by as much once more.
            conn.execute("PRAGMA busy_timeout=20")
            restart_at = self._restart_frames
            while not self._stop.wait(self._interval):
                try:
                    _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames < restart_at:
                        continue
                    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                    restart_at = frames + self._restart_frames if busy else self._restart_frames
                except sqlite3.Error as exc:  # a full disk, say: the WAL grows meanwhile
                    log.warning("WAL checkpoint failed (tried again shortly): %s", exc)
        finally:
            conn.close()
