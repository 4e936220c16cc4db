"""A private pcscd with vpcd readers and emulated cards: the real PC/SC chain, on demand.

Used by the tests (tests/fixtures/pcsc.py), the card benchmark and the demo, so that the card
library is exercised through the same path a physical reader uses:
pyscard → libpcsclite → pcscd → vpcd (IFD handler) → TCP → `VpcdLink` → `UsimCard`.

How it is private: pcscd has its socket and pid file compiled in (/run/pcscd), so it runs in
its own mount namespace (`unshare -m`, `unshare -rm` when not root) with a directory of ours
bind-mounted over /run/pcscd, and with its own reader.conf.d. It never touches a system
pcscd. Clients reach it through `PCSCLITE_CSOCK_NAME`, which this module sets in os.environ.

Two constraints of the middleware shape the API:
- libpcsclite reads PCSCLITE_CSOCK_NAME once, when the process establishes its first PC/SC
  context, and keeps it. So every private pcscd started by one process uses the same socket
  directory (created on first use, removed at exit), and only one can run at a time.
- vpcd always listens on all interfaces (a DEVICENAME with a host name makes it connect out
  instead, and that mode crashes Debian 12's pcscd), and one vpcd entry gives two slots.
  The harness picks two free ports itself; pass `base_port` to choose them.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from smartcard import scard

from emulators.usim.card import UsimCard
from emulators.usim.vpcd import VpcdLink

SLOTS = 2  # vpcd's slots per reader.conf entry
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
_STATE_TIMEOUT_MS = 100

_socket_dir: Path | None = None
_running: PrivatePcscd | None = None
_process_lock = threading.Lock()


class PcscdError(RuntimeError):
    """The private pcscd could not be started, or a reader did not reach the wanted state."""


def missing_components() -> list[str]:
    """What this machine lacks to run the chain (Debian package names), empty if nothing."""
    missing = []
    if shutil.which("pcscd") is None and not Path("/usr/sbin/pcscd").exists():
        missing.append("pcscd")
    if not VPCD_DRIVER.exists():
        missing.append("vsmartcard-vpcd")
    if shutil.which("unshare") is None:
        missing.append("util-linux (unshare)")
    return missing


def _shared_socket_dir() -> Path:
    """The one socket directory of this process (see the module docstring for why)."""
    global _socket_dir
    if _socket_dir is None:
        _socket_dir = Path(tempfile.mkdtemp(prefix="provgw-pcscd-"))
        atexit.register(shutil.rmtree, _socket_dir, ignore_errors=True)
        os.environ["PCSCLITE_CSOCK_NAME"] = str(_socket_dir / "pcscd.comm")
    return _socket_dir


def _free_port_pair() -> int:
    """A port P with P and P+1 free on all interfaces (vpcd binds INADDR_ANY).

    Drawn below Linux's ephemeral range (32768+), so that no outgoing connection, such as
    a card's own link, is handed the port between this check and pcscd's bind."""
    for _ in range(50):
        port = random.randrange(20000, 32000, 2)
        if _bindable(port) and _bindable(port + 1):
            return port
    raise PcscdError("no two consecutive free TCP ports for vpcd")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


class PrivatePcscd:
    """A pcscd of our own with one vpcd reader entry (two slots) and the cards in them.

    Use as a context manager (sync or async) or call start()/stop(). Cards go in with
    `insert()` and out with `remove()`; `restart()` restarts pcscd while the cards stay
    plugged in (their links reconnect by themselves).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        reader: str = "Virtual PCD",
        base_port: int | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.reader = reader
        self._base_port = base_port
        self._process: subprocess.Popen[bytes] | None = None
        self._links: dict[int, VpcdLink] = {}

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def socket_path(self) -> Path:
        return _shared_socket_dir() / "pcscd.comm"

    @property
    def base_port(self) -> int:
        if self._base_port is None:
            raise PcscdError("pcscd not started")
        return self._base_port

    @property
    def log_path(self) -> Path:
        return self.workdir / "pcscd.log"

    def port(self, slot: int) -> int:
        self._check_slot(slot)
        return self.base_port + slot

    def reader_name(self, slot: int) -> str:
        self._check_slot(slot)
        return f"{self.reader} 00 {slot:02d}"

    @staticmethod
    def _check_slot(slot: int) -> None:
        if not 0 <= slot < SLOTS:
            raise ValueError(f"slot must be 0..{SLOTS - 1}, got {slot}")

    def start(self) -> None:
        global _running
        missing = missing_components()
        if missing:
            raise PcscdError(f"not installed: {', '.join(missing)}")
        with _process_lock:
            if _running is not None:
                raise PcscdError("a private pcscd is already running in this process")
            _running = self
        try:
            if self._base_port is None:
                self._base_port = _free_port_pair()
            atexit.register(self.stop)  # never leave a pcscd behind, even on an abrupt exit
            self._spawn()
        except BaseException:
            self._terminate()
            with _process_lock:
                _running = None
            raise

    def stop(self) -> None:
        """Pull every card, stop pcscd by its PID, release the process-wide slot."""
        global _running
        atexit.unregister(self.stop)
        for slot in list(self._links):
            self._links.pop(slot).stop()
        self._terminate()
        with _process_lock:
            if _running is self:
                _running = None

    def restart(self) -> None:
        """Kill and start pcscd again (same socket, ports and cards); wait for the readers."""
        self._terminate()
        self._spawn()

    def _spawn(self) -> None:
        conf = self.workdir / "reader.conf.d"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "{self.reader}"\n'
            f"DEVICENAME   /dev/null:{self.base_port}\n"
            f"LIBPATH      {VPCD_DRIVER}\n"
            f"CHANNELID    {self.base_port}\n"
        )
        run = self.socket_path.parent
        (run / "pcscd.comm").unlink(missing_ok=True)
        (run / "pcscd.pid").unlink(missing_ok=True)
        script = 'mkdir -p /run/pcscd && mount --bind "$1" /run/pcscd && exec pcscd -f -c "$2"'
        unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [*unshare, "sh", "-c", script, "pcscd", str(run), str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_for_readers(timeout=5.0)

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _wait_for_readers(self, timeout: float) -> None:
        wanted = {self.reader_name(s) for s in range(SLOTS)}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                code = self._process.returncode
                raise PcscdError(f"pcscd exited with {code}; {self._log_tail()}")
            if self.socket_path.exists() and wanted <= set(self._list_readers()):
                return
            time.sleep(0.02)
        raise PcscdError(f"pcscd readers {sorted(wanted)} did not appear; {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return "log: " + " | ".join(lines[-3:]) if lines else "log empty"

    @staticmethod
    def _list_readers() -> list[str]:
        rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rc != scard.SCARD_S_SUCCESS:
            return []
        try:
            rc, readers = scard.SCardListReaders(ctx, [])
            return list(readers) if rc == scard.SCARD_S_SUCCESS else []
        finally:
            scard.SCardReleaseContext(ctx)

    def __enter__(self) -> PrivatePcscd:
        self.start()
        return self

    def __exit__(
        self, exc: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> PrivatePcscd:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await asyncio.to_thread(self.stop)

    # -- cards ------------------------------------------------------------------------------

    def insert(
        self, card: UsimCard | None = None, slot: int = 0, *, timeout: float = 5.0
    ) -> UsimCard:
        """Put `card` (a fresh blank provgw card if None) in `slot`; return once pcscd sees it."""
        self.remove(slot)
        card = card if card is not None else UsimCard.blank()
        link = VpcdLink(card, self.port(slot))
        self._links[slot] = link
        link.start()
        self.wait_for_card(slot, present=True, timeout=timeout)
        return card

    def remove(self, slot: int = 0, *, timeout: float = 5.0) -> None:
        """Pull the card out of `slot` (nothing if empty); return once pcscd sees it gone."""
        link = self._links.pop(slot, None)
        if link is not None:
            link.stop()
            self.wait_for_card(slot, present=False, timeout=timeout)

    def swap(self, card: UsimCard, slot: int = 0) -> bool:
        """Put `card` behind the live connection of `slot`, unseen by pcscd; False if unable.

        Only when the slot holds a connected card of the same model (pcscd keeps the ATR it
        read at insertion). The new card is in its power-on state, which is all a client
        could observe after a re-insertion, without the ~0.8 s pcscd takes to notice a
        removal and an insertion: for giving each test a fresh card. Test insertion itself
        with `insert()`."""
        link = self._links.get(slot)
        if link is None or not link.connected or link.card.model != card.model:
            return False
        link.card = card
        return True

    def card(self, slot: int = 0) -> UsimCard | None:
        link = self._links.get(slot)
        return link.card if link is not None else None

    def link(self, slot: int = 0) -> VpcdLink | None:
        return self._links.get(slot)

    def wait_for_card(self, slot: int, *, present: bool = True, timeout: float = 5.0) -> None:
        """Block until pcscd reports the card in `slot` present (or absent).

        Uses SCardGetStatusChange, the way a PC/SC application waits; never pokes the vpcd
        port (pcscd would take that connection for a card). From asyncio code, run it with
        `asyncio.to_thread`."""
        name = self.reader_name(slot)
        rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rc != scard.SCARD_S_SUCCESS:
            raise PcscdError(f"no PC/SC context: {scard.SCardGetErrorMessage(rc)}")
        try:
            deadline = time.monotonic() + timeout
            known = scard.SCARD_STATE_UNAWARE
            while True:
                left_ms = int((deadline - time.monotonic()) * 1000)
                if left_ms <= 0:
                    what = "present" if present else "absent"
                    raise PcscdError(f"card in {name!r} not {what} after {timeout} s")
                rc, states = scard.SCardGetStatusChange(
                    ctx, min(left_ms, _STATE_TIMEOUT_MS), [(name, known)]
                )
                if rc == scard.SCARD_S_SUCCESS:
                    _, known, _ = states[0]
                    if bool(known & scard.SCARD_STATE_PRESENT) == present:
                        return
                    known &= ~scard.SCARD_STATE_CHANGED
                elif rc == scard.SCARD_E_UNKNOWN_READER:  # pcscd still adding its readers
                    time.sleep(0.02)
                    known = scard.SCARD_STATE_UNAWARE
                elif rc != scard.SCARD_E_TIMEOUT:
                    raise PcscdError(f"waiting for {name!r}: {scard.SCardGetErrorMessage(rc)}")
        finally:
            scard.SCardReleaseContext(ctx)
