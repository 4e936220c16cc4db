"""Huawei-style MML over SSH: a pool of logged-in MML sessions to one HLR/HSS.

One SSH connection carries up to ``sessions`` session channels; each channel is one MML
session, logged in (``LGI``) when it opens and logged out (``LGO``) when the adapter closes. A
command checks a channel out of the pool, writes one line and waits for ``---    END``; MML
sessions answer one command at a time, so concurrency is the number of channels.

What a failure means for the command decides its `Outcome`:

* nothing could be sent (no connection, login refused, adapter closed) → TRANSIENT;
* sent, and then no complete reply (timeout, connection lost, garbled framing) → UNKNOWN: the
  NE may have carried it out, and the engine reconciles by reading the subscriber back. The
  channel is thrown away, since a late reply would otherwise be taken for the next command's;
* a reply → its RETCODE, classified by `adapters.mml.classify`.

It is also an `AuthenticationCentre` when the NE has provgw's AuC extension (``GEN AUTHVEC`` /
``MOD AUTHSQN``, the HLR emulator's): `auth_vector` and `resync`. A vector's XRES/CK/IK reach
only the caller, never a `Reply`, a transcript or a log line.

A lost connection is re-established on the next use; consecutive failures to connect or to
log in are spaced by an exponential backoff, during which commands fail fast as TRANSIENT.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import asyncssh
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from adapters import mml
from adapters.rate_limit import TokenBucket
from gateway.operations import AuthVector, Lookup, Operation, Outcome, Reply, SubscriberView

log = logging.getLogger(__name__)

SUBSCRIBER_NOT_DEFINED = 3001
RECORD_NOT_DEFINED = 3007
NO_UMTS_AUTH = 3015
AUTS_INVALID = 3016


class MmlSshSettings(BaseModel):
    """How to reach one HLR/HSS and how hard to drive it."""

    # Errors name the field but never echo what was typed: it may be a password.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    name: str = Field("hlr", description="the NE's name in plans and transcripts")
    host: str = "127.0.0.1"
    port: int = Field(22, ge=1, le=65535)
    username: str = Field(description="SSH user")
    password: SecretStr = Field(description="SSH password")
    operator: str = Field(description="MML operator (LGI OPNAME)")
    operator_password: SecretStr = Field(description="MML operator password (LGI PWD)")
    hlrsn: int = Field(1, ge=0, le=255, description="HLR number in every command")
    sessions: int = Field(4, ge=1, le=256, description="MML sessions (SSH channels) at most")
    rate_limit: float = Field(0.0, ge=0, description="commands per second; 0 = unlimited")
    rate_burst: int = Field(1, ge=1, description="commands that may go out back to back")
    command_timeout: float = Field(10.0, gt=0, description="seconds to wait for a reply")
    connect_timeout: float = Field(5.0, gt=0, description="seconds to connect and log in")
    transient_codes: frozenset[int] = mml.DEFAULT_TRANSIENT_CODES
    host_key_policy: Literal["known-hosts", "accept-any"] = Field(
        "known-hosts", description="accept-any only for emulators on a trusted network"
    )
    known_hosts_file: Path | None = Field(None, description="default: ~/.ssh/known_hosts")
    ciphers: tuple[str, ...] = Field(
        ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com"),
        description="SSH ciphers in order of preference; AES-GCM costs a fraction of ChaCha20 "
        "per packet in asyncssh, and packets are what MML traffic is made of",
    )
    reconnect_backoff: float = Field(0.5, gt=0, description="first wait after a failed connect")
    reconnect_backoff_max: float = Field(30.0, gt=0)

    @field_validator("operator")
    @classmethod
    def _operator_quotable(cls, value: str) -> str:
        mml.quoted("OPNAME", value)
        return value

    @field_validator("operator_password")
    @classmethod
    def _password_quotable(cls, value: SecretStr) -> SecretStr:
        mml.quoted("PWD", value.get_secret_value(), secret=True)
        return value


class NeUnavailable(ConnectionError):
    """The NE could not be asked, or gave an answer that says nothing about the subscriber."""


class _NotSent(ConnectionError):
    """The command never left the adapter."""


class _LoginRefused(ConnectionError):
    """The MML login failed; nothing of the command was sent."""


class _LostAfterSending(ConnectionError):
    """The channel closed while a reply was awaited."""


class _Session(asyncssh.SSHClientSession[str]):
    """One MML channel's receive side: gathers output and hands each complete reply over."""

    def __init__(self) -> None:
        self._buffer = ""
        self._waiter: asyncio.Future[str] | None = None
        self.closed = False

    def data_received(self, data: str, datatype: asyncssh.DataType) -> None:
        buffer = self._buffer + data
        end = _find_end(buffer, max(0, len(self._buffer) - len(mml.END_LINE)))
        if end < 0:
            self._buffer = buffer
            return
        self._buffer = buffer[end:]
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(buffer[:end].lstrip())
        else:
            log.warning("discarding an unsolicited MML reply: %r", mml.mask(buffer[:end])[:200])

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(_LostAfterSending(f"channel closed: {exc or 'by the NE'}"))

    def expect(self) -> asyncio.Future[str]:
        """A future for the next complete reply; one at a time, set before the command is sent."""
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        return waiter


def _find_end(buffer: str, start: int) -> int:
    """Index just past the first ``---    END`` that begins a line at or after ``start``."""
    while (at := buffer.find(mml.END_LINE, start)) >= 0:
        if at == 0 or buffer[at - 1] == "\n":
            return at + len(mml.END_LINE)
        start = at + 1
    return -1


def _expire(waiter: asyncio.Future[str]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class _Channel:
    """One logged-in MML session: an SSH session channel and its receive side."""

    __slots__ = ("channel", "link", "session")

    def __init__(
        self, channel: asyncssh.SSHClientChannel[str], session: _Session, link: _Link
    ) -> None:
        self.channel = channel
        self.session = session
        self.link = link

    @property
    def usable(self) -> bool:
        return not self.session.closed and not self.link.lost

    async def ask(self, line: str, within: float) -> str:
        """Send one command line and return its raw reply."""
        if not self.usable:
            raise _NotSent("channel already closed")
        waiter = self.session.expect()
        try:
            self.channel.write(line + "\n")
        except (OSError, asyncssh.Error) as exc:
            waiter.cancel()
            raise _NotSent(str(exc)) from exc
        timer = asyncio.get_running_loop().call_later(within, _expire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    def abandon(self) -> None:
        self.channel.close()


class _Link(asyncssh.SSHClient):
    """The SSH connection's client side; remembers whether the connection went away."""

    def __init__(self) -> None:
        self.lost = False
        self.connection: asyncssh.SSHClientConnection | None = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if exc is not None:
            log.warning("SSH connection lost: %s", exc)


class MmlOverSsh:
    """`NetworkElement` for a Huawei-style HLR/HSS reached over SSH (see module docstring)."""

    dialect = "huawei-mml"

    def __init__(self, settings: MmlSshSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self._idle: list[_Channel] = []
        self._slots = asyncio.Semaphore(settings.sessions)
        self._bucket = (
            TokenBucket(settings.rate_limit, settings.rate_burst) if settings.rate_limit else None
        )
        self._link: _Link | None = None
        self._connecting = asyncio.Lock()
        self._failures = 0
        self._retry_at = 0.0
        self._closed = False
        self._timeout = settings.command_timeout
        self._transient = settings.transient_codes

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def render(self, op: Operation) -> str:
        return mml.render(op, hlrsn=self.settings.hlrsn)

    async def execute(self, op: Operation) -> Reply:
        return await self._send(mml.command_for(op, self.settings.hlrsn))

    async def read(self, lookup: Lookup) -> SubscriberView:
        hlrsn = self.settings.hlrsn
        sub = await self._send(mml.list_subscriber(lookup, hlrsn))
        sub_fields = _listed(sub, SUBSCRIBER_NOT_DEFINED)
        imsi = sub_fields["IMSI"] if sub_fields is not None else lookup.imsi
        ki_fields = None
        if imsi is not None:
            ki_fields = _listed(await self._send(mml.list_auth(imsi, hlrsn)), RECORD_NOT_DEFINED)
        try:
            return mml.view_from_lst(sub_fields, ki_fields)
        except (KeyError, ValueError) as exc:
            # A view built on a guess would mislead reconciliation; better not to know yet.
            raise NeUnavailable(f"{self.name}: LST answer not understood: {exc}") from None

    async def auth_vector(self, imsi: str) -> AuthVector:
        """One fresh vector for ``imsi`` from the NE's AuC (``GEN AUTHVEC``).

        `LookupError` when the NE has no authentication data for the IMSI, or none a UMTS
        vector can come from (a 2G SIM's, a KI without OPc); `ConnectionError` when the NE
        cannot be asked, is busy, or does not know the command (a real HLR: vectors come over
        MAP/Diameter there); `ValueError` for an IMSI that is not 15 digits (nothing is sent).
        """
        reply, fields = await self._exchange(mml.request_vector(imsi, self.settings.hlrsn))
        self._check_auc_reply(reply, imsi)
        try:
            return mml.vector_from_fields(fields)
        except ValueError as exc:
            raise NeUnavailable(f"{self.name}: vector not understood: {exc}") from None

    async def resync(self, imsi: str, rand: str, auts: str) -> None:
        """Hand the AuC the AUTS a card answered to ``rand`` (``MOD AUTHSQN``, hex strings).

        After it the NE's next vector for ``imsi`` is fresh for the card (TS 33.102 §6.3.5).
        `ValueError` when the NE finds the AUTS does not verify (MAC-S: the card's keys or the
        RAND differ) or a value is malformed (nothing is sent); otherwise as `auth_vector`.
        """
        command = mml.resynchronise(imsi, rand, auts, self.settings.hlrsn)
        reply, _ = await self._exchange(command)
        if reply.code == str(AUTS_INVALID):
            raise ValueError(f"auts: {self.name} refused the AUTS for IMSI {imsi}: {reply.text}")
        self._check_auc_reply(reply, imsi)

    def _check_auc_reply(self, reply: Reply, imsi: str) -> None:
        """Raise what the `AuthenticationCentre` protocol promises for a refused AuC command."""
        if reply.ok:
            return
        if reply.code == str(RECORD_NOT_DEFINED):
            raise LookupError(f"{self.name}: no authentication data for IMSI {imsi}")
        if reply.code == str(NO_UMTS_AUTH):
            raise LookupError(
                f"{self.name}: the authentication data of IMSI {imsi} gives no UMTS vector "
                f"(not MILENAGE with an OPc): {reply.text}"
            )
        raise NeUnavailable(f"{reply.command}: {reply.outcome.value} {reply.code} {reply.text}")

    async def close(self) -> None:
        """Let commands in flight finish, log every session out, and close the connection."""
        if self._closed:
            return
        self._closed = True
        for _ in range(self.settings.sessions):
            await self._slots.acquire()
        idle, self._idle = self._idle, []
        await asyncio.gather(*(self._log_out(channel) for channel in idle))
        link, self._link = self._link, None
        if link is not None and link.connection is not None:
            link.connection.close()
            await link.connection.wait_closed()
        for _ in range(self.settings.sessions):
            self._slots.release()  # commands still queued now see `_closed` and give up

    async def _send(self, command: mml.Command) -> Reply:
        reply, _ = await self._exchange(command)
        return reply

    async def _exchange(self, command: mml.Command) -> tuple[Reply, dict[str, str]]:
        """Send ``command``: its `Reply` (secrets masked), and the reply's fields unmasked.

        The unmasked fields are for the one caller that needs a secret back (a vector);
        they are empty when the NE gave no reply.
        """
        masked = command.text()
        async with self._slots:
            if self._closed:
                reply = _failed(Outcome.TRANSIENT, "closed", masked, "adapter is closed; not sent")
                return reply, {}
            try:
                channel = await self._checkout()
            except (OSError, asyncssh.Error) as exc:
                return _failed(Outcome.TRANSIENT, "not-sent", masked, f"not sent: {exc}"), {}
            if self._bucket is not None:
                await self._bucket.acquire()
            started = time.perf_counter()
            try:
                raw = await channel.ask(command.text(reveal=True), self._timeout)
                parsed = mml.parse_reply(raw)
            except _NotSent as exc:
                channel.abandon()
                return _failed(Outcome.TRANSIENT, "not-sent", masked, f"not sent: {exc}"), {}
            except TimeoutError:
                channel.abandon()
                log.warning("%s: no reply within %ss to %s", self.name, self._timeout, masked)
                return _failed(Outcome.UNKNOWN, "timeout", masked, "no reply in time", started), {}
            except _LostAfterSending as exc:
                channel.abandon()
                log.warning("%s: %s after sending %s", self.name, exc, masked)
                return _failed(Outcome.UNKNOWN, "disconnected", masked, str(exc), started), {}
            except mml.ReplyFramingError as exc:
                channel.abandon()  # the stream is out of step: a fresh channel is safer
                log.warning("%s: garbled reply to %s: %s", self.name, masked, exc)
                garbled = _failed(
                    Outcome.UNKNOWN, "garbled", masked, str(exc), started, mml.mask(raw)
                )
                return garbled, {}
            except BaseException:
                channel.abandon()  # cancelled mid-command: its reply would go to the next one
                raise
            self._idle.append(channel)
        outcome = mml.classify(parsed.code, self._transient)
        response = mml.mask(raw)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: %s -> %s", self.name, masked, response)
        reply = Reply(
            outcome=outcome,
            code=str(parsed.code),
            text=parsed.text,
            fields=_masked_fields(parsed.fields),
            command=masked,
            response=response,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )
        return reply, parsed.fields

    async def _checkout(self) -> _Channel:
        """An idle logged-in channel, or a new one (the caller holds a pool slot)."""
        while self._idle:
            channel = self._idle.pop()
            if channel.usable:
                return channel
            channel.abandon()
        return await self._open_channel()

    async def _open_channel(self) -> _Channel:
        """A new logged-in channel.

        Failures to connect or to log in are spaced by an exponential backoff, so that a wrong
        password does not hammer the NE (many lock an operator out after a few attempts).
        """
        now = time.monotonic()
        if now < self._retry_at:
            raise _NotSent(f"NE unavailable; next attempt in {self._retry_at - now:.1f}s")
        try:
            channel = await self._log_in(await self._connected())
        except (OSError, asyncssh.Error) as exc:
            self._failures += 1
            backoff = self.settings.reconnect_backoff * 2 ** (self._failures - 1)
            self._retry_at = time.monotonic() + min(backoff, self.settings.reconnect_backoff_max)
            log.warning(
                "%s: no session (attempt %d): %s", self.name, self._failures, mml.mask(str(exc))
            )
            raise
        self._failures = 0
        return channel

    async def _log_in(self, link: _Link) -> _Channel:
        assert link.connection is not None
        timeout = self.settings.connect_timeout
        session = _Session()
        opening = link.connection.create_session(lambda: session)
        chan, _ = await asyncio.wait_for(opening, timeout)
        channel = _Channel(chan, session, link)
        login = mml.login(
            self.settings.operator,
            self.settings.operator_password.get_secret_value(),
            self.settings.hlrsn,
        )
        try:
            reply = mml.parse_reply(await channel.ask(login.text(reveal=True), timeout))
        except (TimeoutError, ConnectionError, mml.ReplyFramingError) as exc:
            channel.abandon()
            raise _LoginRefused(f"login failed: {exc or 'no reply in time'}") from None
        if reply.code != 0:
            channel.abandon()
            log.error("%s: MML login refused: %s %s", self.name, reply.code, mml.mask(reply.text))
            raise _LoginRefused(f"login refused: {reply.code} {reply.text}")
        return channel

    async def _connected(self) -> _Link:
        """The live SSH connection, reconnecting (one caller at a time) when it was lost."""
        async with self._connecting:
            link = self._link
            if link is None or link.lost:
                link = self._link = await self._connect()
            return link

    async def _connect(self) -> _Link:
        s = self.settings
        link = _Link()
        known_hosts: Any = None
        if s.host_key_policy == "known-hosts":
            known_hosts = str(s.known_hosts_file) if s.known_hosts_file is not None else ()
        try:
            link.connection = await asyncssh.connect(
                s.host,
                s.port,
                username=s.username,
                password=s.password.get_secret_value(),
                known_hosts=known_hosts,
                client_factory=lambda: link,
                client_keys=None,
                agent_path=None,
                preferred_auth="password",
                config=None,
                connect_timeout=s.connect_timeout,
                encryption_algs=list(s.ciphers),
            )
        except TimeoutError as exc:
            raise OSError(f"connect timed out after {s.connect_timeout}s") from exc
        log.info("%s: connected to %s:%d", self.name, s.host, s.port)
        return link

    async def _log_out(self, channel: _Channel) -> None:
        try:
            await channel.ask(mml.LOGOUT, self.settings.command_timeout)
        except (TimeoutError, ConnectionError) as exc:
            log.info("%s: logout not acknowledged: %s", self.name, exc)
        channel.abandon()


def _failed(
    outcome: Outcome,
    code: str,
    command: str,
    text: str,
    started: float | None = None,
    response: str = "",
) -> Reply:
    """A reply the adapter makes up when the NE gave none; ``code`` says why, in words."""
    elapsed = (time.perf_counter() - started) * 1000.0 if started is not None else 0.0
    return Reply(
        outcome=outcome,
        code=code,
        text=mml.mask(text),
        command=command,
        response=response,
        elapsed_ms=elapsed,
    )


def _masked_fields(fields: dict[str, str]) -> dict[str, str]:
    """``fields`` with secret values masked: a copy when there are any, else ``fields`` itself."""
    secret = mml.SECRET_NAMES.intersection(fields)
    if not secret:
        return fields
    return {name: mml.MASK if name in secret else value for name, value in fields.items()}


def _listed(reply: Reply, absent_code: int) -> dict[str, str] | None:
    """The LST body of ``reply``; None when the NE says the record does not exist."""
    if reply.ok:
        return reply.fields
    if reply.code == str(absent_code):
        return None
    raise NeUnavailable(f"{reply.command}: {reply.outcome.value} {reply.code} {reply.text}")
