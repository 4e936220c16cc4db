"""Huawei-style MML over SSH: a pool of logged-in MML sessions to one HLR/HSS.

One SSH connection carries up to ``sessions`` session channels; each channel is one MML
session, logged in (``LGI``) when it opens and logged out (``LGO``) when the adapter closes.
Commands queue in arrival order; an idle channel writes the next one and waits for
``---    END``. MML sessions answer one command at a time, so concurrency is the number of
channels. A reply hands its channel the next queued command in the same callback, so a session
is busy for the NE's latency and hardly longer (``docs/performance.md``).

What a failure means for the command decides its `Outcome` (the failures are
`adapters.transport_failures`'):

* nothing could be sent (no connection, login refused, adapter closed) → TRANSIENT;
* sent, and then no complete reply (timeout, connection lost, garbled framing) → UNKNOWN: the
  NE may have carried it out, and the engine reconciles by reading the subscriber back. The
  channel is thrown away, since a late reply would otherwise be taken for the next command's;
* a reply → its RETCODE, classified by `adapters.huawei_mml.mml.classify`.

All but a garbled reply are transport failures (`Reply.unreachable`); a busy NE (5001) is the
NE answering, not one.

A caller that is cancelled after its command went out leaves the channel waiting for that
reply, which is then dropped; the channel stays in step and in the pool.

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
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import asyncssh
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from adapters.huawei_mml import mml
from adapters.rate_limit import TokenBucket
from adapters.transport_failures import (
    AdapterClosed,
    Garbled,
    LostAfterSending,
    NeUnavailable,
    NoAnswer,
    NotSent,
    TransportFailure,
    failure_reply,
)
from gateway.operations import AuthVector, Lookup, Operation, Reply, SubscriberView

log = logging.getLogger(__name__)

PROBE_IMSI = "001010000000000"
"""The test network's MCC/MNC (001/01), subscriber 0: no live HLR holds it."""
SUBSCRIBER_NOT_DEFINED = 3001
RECORD_NOT_DEFINED = 3007
NO_UMTS_AUTH = 3015
AUTS_INVALID = 3016


class _LoginRefused(NotSent):
    """The NE answered the login with a refusal (or not at all): its credentials or its
    operator account are the trouble, not the network."""


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
    reconnect_backoff_max: float = Field(
        1.0,
        gt=0,
        description="longest wait between connection attempts: short, because the NE's circuit "
        "breaker already spaces out probes of an NE that is down, and a restarted NE should "
        "get its sessions back within one probe interval",
    )
    login_backoff_max: float = Field(
        30.0,
        gt=0,
        description="longest wait after the NE refused the login: long, so that a wrong "
        "password does not get the operator locked out",
    )

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


class _Pending:
    """One command line on its way: the future its reply goes to, and when it was sent."""

    __slots__ = ("elapsed_ms", "line", "reply", "sent_at", "timer")

    def __init__(self, line: str, reply: asyncio.Future[tuple[str, mml.ParsedReply]]) -> None:
        self.line = line
        self.reply = reply
        self.sent_at = 0.0
        self.elapsed_ms = 0.0
        self.timer: asyncio.TimerHandle | None = None

    def fail(self, exc: Exception) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if not self.reply.done():
            self.reply.set_exception(exc)


def _find_end(buffer: str, start: int) -> int:
    """Index just past the first ``---    END`` that begins a line at or after ``start``."""
    while (at := buffer.find(mml.END_LINE, start)) >= 0:
        if at == 0 or buffer[at - 1] == "\n":
            return at + len(mml.END_LINE)
        start = at + 1
    return -1


class _Channel(asyncssh.SSHClientSession[str]):
    """One MML session: an SSH session channel and the one command it is waiting on.

    Everything happens in asyncssh's callbacks: a complete reply is parsed and handed to its
    caller's future, and the channel goes straight back to the pool, which gives it the next
    queued command in the same callback. Between a reply and the next command there is no
    task switch, so with a slow NE the sessions are busy for its latency and little more.
    """

    def __init__(self, pool: MmlOverSsh, link: _Link) -> None:
        self.pool = pool
        self.link = link
        self.chan: asyncssh.SSHClientChannel[str] | None = None
        self.current: _Pending | None = None
        self.closed = False
        self._buffer = ""

    @property
    def usable(self) -> bool:
        return not self.closed and not self.link.lost

    def send(self, pending: _Pending, within: float) -> None:
        """Write ``pending``'s line; its reply (or a timeout after ``within`` s) settles it."""
        assert self.chan is not None and self.current is None
        self.current = pending
        try:
            self.chan.write(pending.line + "\n")
        except (OSError, asyncssh.Error) as exc:
            self.current = None
            pending.fail(NotSent(str(exc)))
            self.abandon()
            return
        pending.sent_at = time.perf_counter()
        pending.timer = asyncio.get_running_loop().call_later(within, self._expire, pending)

    def data_received(self, data: str, datatype: asyncssh.DataType) -> None:
        buffer = self._buffer + data
        end = _find_end(buffer, max(0, len(self._buffer) - len(mml.END_LINE)))
        if end < 0:
            self._buffer = buffer
            return
        self._buffer = buffer[end:]
        raw = buffer[:end].lstrip()
        pending, self.current = self.current, None
        if pending is None:
            log.warning("discarding an unsolicited MML reply: %r", mml.mask(raw)[:200])
            return
        pending.elapsed_ms = (time.perf_counter() - pending.sent_at) * 1000.0
        try:
            parsed = mml.parse_reply(raw)
        except mml.ReplyFramingError as exc:
            pending.fail(Garbled(str(exc), raw))
            self.abandon()  # the stream is out of step: a fresh channel is safer
            return
        if pending.timer is not None:
            pending.timer.cancel()
        if not pending.reply.done():  # a caller that gave up (cancelled) gets nothing
            pending.reply.set_result((raw, parsed))
        self.pool.idle_again(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        pending, self.current = self.current, None
        if pending is not None:
            why = f"channel closed: {exc or 'by the NE'}"
            pending.fail(LostAfterSending(why) if pending.sent_at else NotSent(why))
        self.pool.channel_gone(self)

    def _expire(self, pending: _Pending) -> None:
        if self.current is pending:
            # A late reply would be taken for the next command's: the channel goes.
            self.current = None
            pending.fail(NoAnswer("no reply in time"))
            self.abandon()

    def abandon(self) -> None:
        """Close the channel and take it out of the pool."""
        self.closed = True
        if self.chan is not None:
            self.chan.close()
        self.pool.channel_gone(self)


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
        self._queue: deque[_Pending] = deque()
        self._idle: list[_Channel] = []
        self._channels: set[_Channel] = set()
        self._opening: set[asyncio.Task[None]] = set()
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

    def check(self, op: Operation) -> None:
        mml.check(op)

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

    async def probe(self) -> None:
        """``LST SUB`` of an IMSI no operator assigns: any answer proves the NE is there."""
        reply = await self._send(mml.list_subscriber(Lookup(imsi=PROBE_IMSI), self.settings.hlrsn))
        if reply.unreachable:
            raise NeUnavailable(f"{self.name}: {reply.code}: {reply.text}")

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
        """Let commands in flight finish, log every session out, and close the connection.
        Commands still queued are not sent (TRANSIENT ``closed``)."""
        if self._closed:
            return
        self._closed = True
        queued, self._queue = self._queue, deque()
        for pending in queued:
            pending.fail(AdapterClosed("adapter is closed; not sent"))
        for task in self._opening:
            task.cancel()
        await asyncio.gather(*self._opening, return_exceptions=True)
        in_flight = [c.current.reply for c in self._channels if c.current is not None]
        await asyncio.gather(*in_flight, return_exceptions=True)
        self._idle.clear()
        channels, self._channels = self._channels, set()
        idle = [c for c in channels if c.current is None and c.usable]
        await asyncio.gather(*(self._log_out(channel) for channel in idle))
        for channel in channels:
            channel.abandon()
        link, self._link = self._link, None
        if link is not None and link.connection is not None:
            link.connection.close()
            await link.connection.wait_closed()

    async def _send(self, command: mml.Command) -> Reply:
        reply, _ = await self._exchange(command)
        return reply

    async def _exchange(self, command: mml.Command) -> tuple[Reply, dict[str, str]]:
        """Send ``command``: its `Reply` (secrets masked), and the reply's fields unmasked.

        The unmasked fields are for the one caller that needs a secret back (a vector);
        they are empty when the NE gave no reply.
        """
        masked = command.text()
        pending = _Pending(command.text(reveal=True), asyncio.get_running_loop().create_future())
        if self._closed:
            return self._failed(AdapterClosed("adapter is closed; not sent"), masked, pending), {}
        self._queue.append(pending)
        self._dispatch()
        try:
            raw, parsed = await pending.reply
        except TransportFailure as failure:
            return self._failed(failure, masked, pending), {}
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
            elapsed_ms=pending.elapsed_ms,
        )
        return reply, parsed.fields

    def _failed(self, failure: TransportFailure, command: str, pending: _Pending) -> Reply:
        """The reply made up when ``failure`` kept the NE's reply to ``command`` from us."""
        if isinstance(failure, NotSent):
            text = str(failure) if isinstance(failure, AdapterClosed) else f"not sent: {failure}"
            return failure_reply(failure, command=command, text=mml.mask(text), may_have_run=False)
        if isinstance(failure, NoAnswer):
            log.warning("%s: no reply within %ss to %s", self.name, self._timeout, command)
        else:
            log.warning("%s: %s after sending %s", self.name, failure.code, command)
        return failure_reply(
            failure,
            command=command,
            text=mml.mask(str(failure)),
            may_have_run=True,
            elapsed_ms=(time.perf_counter() - pending.sent_at) * 1000.0 if pending.sent_at else 0.0,
            response=mml.mask(failure.raw) if isinstance(failure, Garbled) else "",
        )

    # -- the pool ------------------------------------------------------------------------
    #
    # Commands queue in arrival order; an idle channel takes the next one at once, whether it
    # became idle in a reply's callback or just logged in. Channels are opened on demand, up
    # to ``sessions``, by tasks of their own, so a slow login delays no reply.

    def _dispatch(self) -> None:
        """Hand queued commands to idle channels; open channels while the pool has room."""
        queue, idle = self._queue, self._idle
        while queue and idle:
            pending = queue.popleft()
            if pending.reply.done():
                continue  # its caller gave up before it was sent
            channel = idle.pop()
            if not channel.usable:
                queue.appendleft(pending)
                self._channels.discard(channel)
                continue
            delay = self._bucket.reserve() if self._bucket is not None else 0.0
            if delay > 0.0:
                channel.current = pending  # held for this command until its slot comes
                asyncio.get_running_loop().call_later(delay, self._send_late, channel, pending)
            else:
                channel.send(pending, self._timeout)
        opening = len(self._opening)
        room = self.settings.sessions - len(self._channels) - opening
        for _ in range(min(len(queue) - opening, room)):
            self._opening.add(asyncio.create_task(self._open(), name=f"{self.name}-session"))

    def _send_late(self, channel: _Channel, pending: _Pending) -> None:
        """A rate-limited command's slot has come."""
        if channel.current is not pending:
            return  # the channel went in the meantime, and the command with it
        channel.current = None
        if self._closed:
            pending.fail(AdapterClosed("adapter is closed; not sent"))
        elif pending.reply.done():
            self.idle_again(channel)
        else:
            channel.send(pending, self._timeout)

    def idle_again(self, channel: _Channel) -> None:
        """``channel`` answered a command: it takes the next queued one, if any. (A channel
        logging in or out is not in the pool yet, or any more.)"""
        if self._closed or channel not in self._channels:
            return
        self._idle.append(channel)
        if self._queue:
            self._dispatch()

    def channel_gone(self, channel: _Channel) -> None:
        """``channel`` closed or was abandoned: it leaves the pool (queued commands may need
        a replacement)."""
        self._channels.discard(channel)
        if channel in self._idle:
            self._idle.remove(channel)
        if self._queue and not self._closed:
            self._dispatch()

    async def _open(self) -> None:
        """Open one channel for the pool (a task of its own, in ``_opening`` while it runs)."""
        me = asyncio.current_task()
        try:
            channel = await self._open_channel()
        except (OSError, asyncssh.Error) as exc:
            if not self._channels and self._opening <= {me}:
                # Nobody is left to serve the queue: its commands were not sent.
                queued, self._queue = self._queue, deque()
                for pending in queued:
                    pending.fail(NotSent(str(exc)))
            return
        finally:
            self._opening.discard(me)
        if self._closed:
            await self._log_out(channel)
            return
        self._channels.add(channel)
        self.idle_again(channel)

    async def _open_channel(self) -> _Channel:
        """A new logged-in channel.

        Failures to connect or to log in are spaced by an exponential backoff: up to
        ``login_backoff_max`` after a refused login, so that a wrong password does not hammer
        the NE (many lock an operator out after a few attempts); up to the short
        ``reconnect_backoff_max`` when the NE could not be reached, so that it has its sessions
        back soon after it returns.
        """
        now = time.monotonic()
        if now < self._retry_at:
            raise NotSent(f"NE unavailable; next attempt in {self._retry_at - now:.1f}s")
        try:
            channel = await self._log_in(await self._connected())
        except (OSError, asyncssh.Error) as exc:
            self._failures += 1
            s = self.settings
            cap = s.login_backoff_max if isinstance(exc, _LoginRefused) else s.reconnect_backoff_max
            backoff = s.reconnect_backoff * 2 ** (self._failures - 1)
            self._retry_at = time.monotonic() + min(backoff, cap)
            log.warning(
                "%s: no session (attempt %d): %s", self.name, self._failures, mml.mask(str(exc))
            )
            raise
        self._failures = 0
        return channel

    async def _ask(self, channel: _Channel, line: str, within: float) -> mml.ParsedReply:
        """One command on ``channel`` outside the queue (login, logout)."""
        pending = _Pending(line, asyncio.get_running_loop().create_future())
        channel.send(pending, within)
        _, parsed = await pending.reply
        return parsed

    async def _log_in(self, link: _Link) -> _Channel:
        assert link.connection is not None
        timeout = self.settings.connect_timeout
        channel = _Channel(self, link)
        opening = link.connection.create_session(lambda: channel)
        channel.chan, _ = await asyncio.wait_for(opening, timeout)
        login = mml.login(
            self.settings.operator,
            self.settings.operator_password.get_secret_value(),
            self.settings.hlrsn,
        )
        try:
            reply = await self._ask(channel, login.text(reveal=True), timeout)
        except (TimeoutError, ConnectionError) as exc:
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
            await self._ask(channel, mml.LOGOUT, self.settings.command_timeout)
        except (TimeoutError, ConnectionError) as exc:
            log.info("%s: logout not acknowledged: %s", self.name, exc)
        channel.abandon()


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
