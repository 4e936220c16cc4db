"""Files at rest that only the gateway's user may read: the database holds customers'
personal data and sealed keys, the key file the key to them.

Directories the gateway creates are 0700 and its files 0600 whatever the umask; a database
left 0644 by an older version is tightened when it is opened. SQLite gives the WAL and
shared-memory files the database file's own mode, so they follow. A directory that already
exists is not changed: it may be shared (``/var/lib``) and is not the gateway's to close.
"""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> None:
    """``path`` and any missing parents, each created 0700."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)
        directory.chmod(DIR_MODE)  # mkdir's mode passes through the umask


def private_file(path: Path) -> None:
    """``path`` exists and is 0600, its contents untouched (with a private directory if it
    had none)."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    for own in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if own.exists():
            own.chmod(FILE_MODE)
