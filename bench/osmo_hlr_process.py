"""A private osmo-hlr process: configuration and database in a directory, its own loopback address.

For tests (`tests/fixtures/osmo_hlr.py`) and benchmarks (`osmo_bench.py`), which need a real
osmo-hlr they can throw away; a lab stand-in, so it lives here and not in the gateway's
packages. osmo-hlr's ports are
fixed (VTY 4258, CTRL 4259, GSUP 4222) and only the address can be chosen, so each instance
binds all three to a loopback address of its own: 127.0.0.2 when those ports are free there,
else a random 127.x.y.z. (127.0.0.1:4222 belongs to NATS on the project's machines.) The
process is stopped by its PID, never by name.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

VTY_PORT, CTRL_PORT, GSUP_PORT = 4258, 4259, 4222

CONFIG = """\
log stderr
 logging filter all 1
 logging color 0
 logging print category 1
 logging print level 1
 logging level main notice
 logging level db notice
 logging level auc notice
 logging level ss notice
 logging level linp error
line vty
 bind {address}
ctrl
 bind {address}
hlr
 gsup
  bind ip {address}
"""


class OsmoHlrUnavailable(RuntimeError):
    """osmo-hlr would not start."""


class OsmoHlrNotInstalled(OsmoHlrUnavailable):
    """There is no osmo-hlr binary on the PATH."""


def _ports_free(address: str) -> bool:
    for port in (VTY_PORT, CTRL_PORT, GSUP_PORT):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((address, port))
            except OSError:
                return False
    return True


def _addresses() -> Iterator[str]:
    yield "127.0.0.2"
    rng = random.Random()
    while True:
        yield f"127.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}.{rng.randrange(2, 255)}"


class OsmoHlrProcess:
    """One osmo-hlr run from ``rundir`` (created if missing; its old database is removed).

    `start` returns once CTRL accepts connections; `stop` (or leaving the ``with`` block)
    terminates the process by PID and waits for it.
    """

    ctrl_port = CTRL_PORT
    vty_port = VTY_PORT
    gsup_port = GSUP_PORT

    def __init__(self, rundir: Path) -> None:
        self.rundir = rundir
        self.address = ""
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("osmo-hlr is not running")
        return self.process.pid

    def start(self, attempts: int = 10, timeout: float = 5.0) -> None:
        binary = shutil.which("osmo-hlr")
        if binary is None:
            raise OsmoHlrNotInstalled("osmo-hlr not installed")
        self.rundir.mkdir(parents=True, exist_ok=True)
        addresses = _addresses()
        for _ in range(attempts):
            address = next(addresses)
            if _ports_free(address) and self._launch(binary, address, timeout):
                return
        raise OsmoHlrUnavailable(
            f"osmo-hlr did not start on any of {attempts} loopback addresses:\n{self.log()}"
        )

    def _launch(self, binary: str, address: str, timeout: float) -> bool:
        """Start on ``address``; False when another process took it first (try another)."""
        config = self.rundir / "osmo-hlr.cfg"
        config.write_text(CONFIG.format(address=address))
        for stale in self.rundir.glob("hlr.db*"):
            stale.unlink()
        with (self.rundir / "osmo-hlr.log").open("wb") as log:
            self.process = subprocess.Popen(
                [binary, "-c", str(config), "-l", str(self.rundir / "hlr.db")],
                cwd=self.rundir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.address = address
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                socket.create_connection((address, CTRL_PORT), timeout=0.5).close()
            except OSError:
                time.sleep(0.005)
                continue
            if self.process.poll() is None:  # the CTRL that answered is this process's
                return True
        self.stop()
        raise OsmoHlrUnavailable(f"osmo-hlr CTRL did not answer within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def log(self) -> str:
        path = self.rundir / "osmo-hlr.log"
        return path.read_text(errors="replace") if path.exists() else ""
