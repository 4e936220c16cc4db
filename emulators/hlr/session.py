"""One MML session, independent of the transport: login state, faults, command → reply.

The SSH server feeds it complete commands and sends back what it answers; tests can drive it
directly. `handle` never awaits, so each command runs to completion before the next one on any
session starts — that, plus the state's check-then-change methods, makes commands atomic.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from emulators.hlr.codes import CommandError, Outcome, ReturnCode, ReturnCodes
from emulators.hlr.commands import COMMANDS, MmlContext, Role
from emulators.hlr.mml import mask_secrets, parse, printable
from emulators.hlr.reply import Fields, ReplyRenderer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Account:
    """Credentials of an SSH user or an MML operator; `admin` may use the engineer commands."""

    password: str
    admin: bool = False

    def __repr__(self) -> str:
        return f"Account(password='****', admin={self.admin})"


@dataclass(frozen=True)
class Answer:
    """What to do after a command: send `reply` (if any), then maybe close or drop."""

    reply: str | None
    close_channel: bool = False  # LGO: close the channel after the reply
    drop_connection: bool = False  # fault injection: cut the connection, no reply


def password_matches(accounts: Mapping[str, Account], name: str, password: str) -> Account | None:
    """The account if name and password match (compared in constant time), else None."""
    account = accounts.get(name)
    if account is not None and hmac.compare_digest(account.password.encode(), password.encode()):
        return account
    return None


@dataclass(frozen=True)
class MmlService:
    """What all sessions of one emulator share: context, operators, code table, renderer."""

    context: MmlContext
    operators: Mapping[str, Account]
    codes: ReturnCodes
    renderer: ReplyRenderer


class MmlSession:
    """The MML dialogue of one channel."""

    def __init__(self, service: MmlService, peer: str = "") -> None:
        self._service = service
        self._peer = peer
        self.operator: str | None = None
        self._admin = False
        self.answered = 0  # provisioning commands answered, for the stuck-session fault

    def handle(self, text: str) -> Answer:
        """Run one complete command (as framed by `CommandFramer`) and say what to send."""
        service = self._service
        faults = service.context.faults
        if faults.is_stuck(self.answered):
            return Answer(None)
        echo = printable(mask_secrets(text))
        try:
            command = parse(text)
            spec = COMMANDS.get(command.name)
            if spec is None:
                raise CommandError(Outcome.SYNTAX_ERROR, f"{command.name}: unknown command")
            if spec.role is not Role.LOGIN and self.operator is None:
                raise CommandError(Outcome.NO_RIGHTS, "log in first (LGI)")
            if spec.role is Role.ENGINEER and not self._admin:
                raise CommandError(Outcome.NO_RIGHTS, f"{command.name}: operator is not admin")
            args = spec.check(command)
            if spec.role is Role.LOGIN:
                self._login(args.text("OPNAME"), args.text("PWD"))
                return Answer(self._render(echo, service.codes[Outcome.OK]))
            if spec.role is Role.SESSION:
                return Answer(self._render(echo, service.codes[Outcome.OK]), close_channel=True)
            assert spec.handler is not None
            if spec.role is Role.ENGINEER:
                try:
                    fields = spec.handler(service.context, args)
                except ValueError as exc:
                    raise CommandError(Outcome.INVALID_VALUE, str(exc)) from None
                return Answer(self._render(echo, service.codes[Outcome.OK], fields))
            self.answered += 1
            if faults.inject_error():
                code = faults.error_code
                rc = service.codes.by_code(code) or ReturnCode(code, f"ERR{code}:Injected fault")
                return Answer(self._render(echo, rc, ok=False))
            fields = spec.handler(service.context, args)
            if faults.drop_after():
                log.info("%s: dropping the connection after %s", self._peer, command.name)
                return Answer(None, drop_connection=True)
            return Answer(self._render(echo, service.codes[Outcome.OK], fields))
        except CommandError as exc:
            log.info("%s: %s refused (%s): %s", self._peer, echo, exc.outcome.name, exc.detail)
            return Answer(self._render(echo, service.codes[exc.outcome], ok=False))

    def _login(self, name: str, password: str) -> None:
        account = password_matches(self._service.operators, name, password)
        if account is None:
            raise CommandError(Outcome.BAD_LOGIN, "OPNAME/PWD: incorrect user name or password")
        self.operator, self._admin = name, account.admin

    def _render(
        self, echo: str, rc: ReturnCode, fields: Fields | None = None, *, ok: bool = True
    ) -> str:
        return self._service.renderer.render(echo, rc, ok=ok, fields=fields)
