"""A private Mosquitto broker: its own port and directory, optional password file and ACL,
persistence on — for the bus tests (`tests/fixtures/mosquitto.py`) and `provgw bench bus`, which
must be able to stop and restart it (the machine's shared broker on 1883 is never used). A lab
stand-in, so it lives here and not in the gateway's packages. Stopped by its PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import shutil
import signal
import socket
import subprocess
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path


class MosquittoMissing(RuntimeError):
    """The Debian package ``mosquitto`` is not installed."""


def binary(name: str) -> str:
    """``mosquitto`` (in /usr/sbin, often off a user's PATH) or ``mosquitto_passwd``."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if path is None:
        raise MosquittoMissing(f"{name} (Debian package mosquitto) is not installed")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Broker:
    """A running broker; `restart` stops it (it saves its persistence file on SIGTERM) and
    starts it again on the same port."""

    directory: Path
    port: int
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            binary("mosquitto"),
            "-c",
            str(self.directory / "mosquitto.conf"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(200):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            if self.process.returncode is not None:
                raise RuntimeError(f"mosquitto exited: see {self.directory / 'mosquitto.log'}")
            await asyncio.sleep(0.05)
        raise RuntimeError("mosquitto did not come up")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 10)

    async def restart(self, down_s: float = 0.0) -> None:
        await self.stop()
        await asyncio.sleep(down_s)
        await self.start()


def write_config(
    directory: Path, port: int, users: Mapping[str, str] | None = None, acl: str | None = None
) -> None:
    """mosquitto.conf in ``directory``: loopback only, persistence on; with ``users`` a
    password file (and anonymous clients refused), with ``acl`` an ACL file."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        # Run as whoever runs it: as root, Mosquitto would switch to user mosquitto, who cannot
        # read these files.
        f"user {getpass.getuser()}",
        f"listener {port} 127.0.0.1",
        "persistence true",
        f"persistence_location {directory}/",
        "autosave_interval 1",
        "max_queued_messages 100000",
        "max_inflight_messages 0",
        "set_tcp_nodelay true",  # no Nagle delay on what the broker sends (40 ms a message)
        f"log_dest file {directory / 'mosquitto.log'}",
        "log_type error",
        "log_type warning",
        "log_type notice",
    ]
    if users:
        passwd = directory / "passwd"
        passwd.write_text("")
        passwd.chmod(0o600)
        for user, password in users.items():
            subprocess.run(
                [binary("mosquitto_passwd"), "-b", str(passwd), user, password],
                check=True,
                capture_output=True,
            )
        lines += ["allow_anonymous false", f"password_file {passwd}"]
    else:
        lines.append("allow_anonymous true")
    if acl is not None:
        (directory / "acl").write_text(acl)
        (directory / "acl").chmod(0o600)
        lines.append(f"acl_file {directory / 'acl'}")
    (directory / "mosquitto.conf").write_text("\n".join(lines) + "\n")


@contextlib.asynccontextmanager
async def mosquitto(
    directory: Path, users: Mapping[str, str] | None = None, acl: str | None = None
) -> AsyncIterator[Broker]:
    """A broker on a free port for the block."""
    port = free_port()
    write_config(directory, port, users, acl)
    broker = Broker(directory, port)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()
