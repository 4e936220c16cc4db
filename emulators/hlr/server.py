"""The HLR/HSS emulator as an SSH server: password login, one MML dialogue per shell channel.

Callbacks all the way (asyncssh's `SSHServerSession`): received text is framed into commands
and answered in the same callback, with no task, queue hop or thread per command. Only an
injected latency defers a command, with a timer; commands behind it wait their turn, so
replies always come in order.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import asyncssh

from emulators.alarms import AlarmTable
from emulators.hlr.auc import AuthCentre
from emulators.hlr.codes import ReturnCodes
from emulators.hlr.commands import MmlContext
from emulators.hlr.faults import Faults
from emulators.hlr.mml import CommandFramer
from emulators.hlr.reply import ReplyRenderer
from emulators.hlr.session import Account, MmlService, MmlSession, password_matches
from emulators.hlr.state import HlrState, Template
from emulators.hlr.statefile import StateFile
from emulators.service import ServicePort
from emulators.snmp import AgentSettings, SnmpAgent, SystemInfo, start_agent
from emulators.snmp.mib import PRODUCT_HLR

log = logging.getLogger(__name__)

# Offered ciphers. ChaCha20-Poly1305 is left out on purpose: asyncssh builds it from several
# cipher contexts per packet, which made it the emulator's largest cost per command (~2× the
# CPU of AES-GCM); every SSH client offers AES-GCM or AES-CTR as well.
CIPHERS = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr", "aes256-ctr")

DEFAULT_ACCOUNTS: Mapping[str, Account] = {"provgw": Account("provgw", admin=True)}


class _MmlChannel(asyncssh.SSHServerSession[str]):
    """One shell channel: frames input into commands and answers them in order."""

    def __init__(self, service: MmlService, peer: str) -> None:
        self._session = MmlSession(service, peer)
        self._faults = service.context.faults
        self._framer = CommandFramer()
        self._queue: deque[str] = deque()
        self._chan: asyncssh.SSHServerChannel[str] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._open = True
        self._paused = False
        self._ne_name = service.renderer.ne_name

    def connection_made(self, chan: asyncssh.SSHServerChannel[str]) -> None:
        self._chan = chan

    @property
    def _channel(self) -> asyncssh.SSHServerChannel[str]:
        assert self._chan is not None, "asyncssh calls connection_made first"
        return self._chan

    def pty_requested(self, *args: Any) -> bool:
        return True  # an engineer at a terminal; asyncssh then offers echo and line editing

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        return False  # MML is a dialogue: `ssh host COMMAND` is refused

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        self._channel.write(
            f"{self._ne_name} MML interface ready (provgw HLR emulator); log in with LGI\n"
        )

    def data_received(self, data: str, datatype: Any) -> None:
        self._queue.extend(self._framer.feed(data))
        self._answer_queued()

    def eof_received(self) -> bool:
        return False  # the client is done: close the channel

    def connection_lost(self, exc: Exception | None) -> None:
        self._open = False
        self._queue.clear()
        if self._timer is not None:
            self._timer.cancel()

    def pause_writing(self) -> None:
        # A client that sends without reading: stop answering and stop reading, so SSH flow
        # control pushes back on it instead of replies piling up in memory.
        self._paused = True
        self._channel.pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        self._channel.resume_reading()
        self._answer_queued()

    def _answer_queued(self) -> None:
        while self._queue and self._timer is None and self._open and not self._paused:
            delay = self._faults.delay()
            if delay > 0:
                self._timer = asyncio.get_running_loop().call_later(delay, self._answer_delayed)
                return
            self._answer(self._queue.popleft())

    def _answer_delayed(self) -> None:
        self._timer = None
        if self._queue and self._open:
            self._answer(self._queue.popleft())
            self._answer_queued()

    def _answer(self, text: str) -> None:
        answer = self._session.handle(text)
        if answer.drop_connection:
            self._open = False
            self._channel.get_connection().abort()
            return
        if answer.reply is not None:
            self._channel.write(answer.reply)
        if answer.close_channel:
            self._open = False
            self._channel.exit(0)


class _SshServer(asyncssh.SSHServer):
    """Per SSH connection: password check, then MML channels."""

    def __init__(
        self, emulator: HlrEmulator, connections: set[asyncssh.SSHServerConnection]
    ) -> None:
        self._emulator = emulator
        self._connections = connections
        self._conn: asyncssh.SSHServerConnection | None = None
        self._peer = ""

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        host, port = conn.get_extra_info("peername")[:2]
        self._peer = f"{host}:{port}"
        self._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return password_matches(self._emulator.users, username, password) is not None

    def session_requested(self) -> _MmlChannel:
        return _MmlChannel(self._emulator.service, self._peer)


def load_host_key(path: Path | None) -> asyncssh.SSHKey:
    """The key in `path`; if the file does not exist yet, a new one saved there (mode 0600)."""
    if path is not None and path.exists():
        try:
            return asyncssh.read_private_key(path)
        except (OSError, asyncssh.KeyImportError) as exc:
            raise ValueError(f"host key {path}: {exc}") from None
    key = asyncssh.generate_private_key("ssh-ed25519")
    if path is not None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(key.export_private_key())
    return key


class HlrEmulator:
    """The emulator, in-process: `async with HlrEmulator(port=0) as emu: emu.port …`.

    `users` are the SSH accounts, `operators` the MML (LGI) accounts — by default the same.
    `auc` sets the authentication centre's AMF, IND slot and RAND source.
    `state`, `faults` and `codes` can be inspected and changed while it runs.
    With `snmp` settings an SNMP agent runs beside it (`snmp`); ``faults.update(outage=True)``
    stops the SSH service (`service_port`), and the alarms it raises are in `alarms`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 2222,
        users: Mapping[str, Account] | None = None,
        operators: Mapping[str, Account] | None = None,
        ne_name: str = "HLR9820",
        templates: Mapping[int, Template] | None = None,
        codes: ReturnCodes | None = None,
        faults: Faults | None = None,
        state_file: Path | None = None,
        state_sync: bool = False,
        host_key: Path | None = None,
        auc: AuthCentre | None = None,
        snmp: AgentSettings | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.users: Mapping[str, Account] = dict(DEFAULT_ACCOUNTS if users is None else users)
        self.operators: Mapping[str, Account] = self.users if operators is None else dict(operators)
        self.ne_name = ne_name
        self.state = HlrState(templates)
        self.faults = faults or Faults()
        self.codes = codes or ReturnCodes()
        self.auc = auc or AuthCentre()
        self.service = MmlService(
            MmlContext(self.state, self.faults, self.auc),
            self.operators,
            self.codes,
            ReplyRenderer(ne_name),
        )
        self._state_file = (
            None
            if state_file is None
            else StateFile(state_file, self.state, interval=0.0 if state_sync else 0.1)
        )
        self._host_key_path = host_key
        self._acceptor: Any = None
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._host_key: asyncssh.SSHKey | None = None
        self.service_port = ServicePort(self.faults, stop=self._stop_ssh, start=self._listen)
        self._snmp_settings = snmp
        self.snmp: SnmpAgent | None = None

    @property
    def alarms(self) -> AlarmTable:
        return self.service_port.alarms

    async def start(self) -> None:
        """Load the state file (if any) and listen; `self.port` is then the real port."""
        if self._state_file is not None:
            self._state_file.load()
            self._state_file.attach()
        self._host_key = load_host_key(self._host_key_path)
        await self._listen()
        self.service_port.description = f"MML over SSH, {self.host}:{self.port}"
        self.service_port.attach()
        system = SystemInfo(
            "provgw HLR/HSS emulator (Huawei-style MML over SSH)", PRODUCT_HLR, self.ne_name
        )
        self.snmp = await start_agent(self._snmp_settings, system, self.service_port, self.host)

    async def _listen(self) -> None:
        self._acceptor = await asyncssh.create_server(
            lambda: _SshServer(self, self._connections),
            self.host,
            self.port,
            server_host_keys=[self._host_key],
            encoding="utf-8",
            errors="replace",
            keepalive_interval=0,
            encryption_algs=CIPHERS,
        )
        self.port = self._acceptor.get_port()
        log.info("%s listening on ssh://%s:%d", self.ne_name, self.host, self.port)

    def _stop_ssh(self) -> None:
        """The outage: stop listening and cut every session at once, as a crashed SSH daemon."""
        if self._acceptor is not None:
            self._acceptor.close()
            self._acceptor = None
        for conn in list(self._connections):
            conn.abort()

    async def stop(self) -> None:
        """Stop listening, close every connection, write the state file a last time."""
        await self.service_port.detach()
        if self.snmp is not None:
            await self.snmp.stop()
        if self._acceptor is not None:
            self._acceptor.close()
            for conn in list(self._connections):
                conn.close()
            await self._acceptor.wait_closed()
            for conn in list(self._connections):
                await conn.wait_closed()
            self._acceptor = None
        if self._state_file is not None:
            self._state_file.close()

    async def __aenter__(self) -> HlrEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
