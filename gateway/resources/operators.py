"""Operators (操作人员, M7): the people who act, with job number, role and channels.

Passwords are kept only as scrypt hashes (`gateway.resources.passwords`). A successful login is
remembered in memory for a few minutes under a keyed digest of the credentials — not the
password — so that an API client sending HTTP Basic credentials with every request does not
pay half a second of scrypt each time; changing an operator drops every remembered login.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from gateway.identifiers import SafeText
from gateway.orders import ChannelId, OperatorId
from gateway.resources import audit
from gateway.resources.access import Role
from gateway.resources.channels import load_channel, local_time
from gateway.resources.lockout import Lockout, LoginPolicy
from gateway.resources.passwords import (
    OWASP_COST,
    ScryptCost,
    hash_password_async,
    verify_password_async,
)
from gateway.resources.refusals import Invalid, NotAllowed, NotFound, Throttled, Unavailable
from gateway.store import SqliteStore, Tx

JobNumber = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,16}$")]
LOGIN_MEMORY_S = 300.0
WRONG_LOGIN = "wrong operator or password"


def _password_rules(value: SecretStr) -> SecretStr:
    if not 8 <= len(value.get_secret_value()) <= 128:
        raise ValueError("password must be 8 to 128 characters")
    return value


class OperatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    id: OperatorId
    job_number: JobNumber
    name: SafeText = Field(min_length=1, max_length=60)
    role: Role
    password: SecretStr
    channels: list[ChannelId] = Field(default_factory=list, max_length=100)

    _check_password = field_validator("password")(_password_rules)


class OperatorChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: SafeText | None = Field(None, min_length=1, max_length=60)
    role: Role | None = None
    active: bool | None = None
    channels: list[ChannelId] | None = Field(None, max_length=100)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    password: SecretStr

    _check_password = field_validator("password")(_password_rules)


@dataclass(frozen=True)
class Operator:
    id: str
    job_number: str
    name: str
    role: Role
    active: bool
    channels: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job_number": self.job_number,
            "name": self.name,
            "role": self.role.value,
            "active": self.active,
            "channels": list(self.channels),
        }


def load_operator(conn: Tx, operator_id: str) -> Operator | None:
    row = conn.execute(
        "SELECT id, job_number, name, role, active FROM operators WHERE id=?", (operator_id,)
    ).fetchone()
    if row is None:
        return None
    channels = conn.execute(
        "SELECT channel_id FROM operator_channels WHERE operator_id=? ORDER BY channel_id",
        (operator_id,),
    ).fetchall()
    return Operator(
        row[0], row[1], row[2], Role(row[3]), bool(row[4]), tuple(c[0] for c in channels)
    )


def _assign(conn: Tx, operator_id: str, channels: list[str]) -> None:
    unknown = [c for c in channels if load_channel(conn, c) is None]
    if unknown:
        raise Invalid(f"no such channel: {', '.join(unknown)}", field="channels")
    conn.execute("DELETE FROM operator_channels WHERE operator_id=?", (operator_id,))
    conn.executemany(
        "INSERT INTO operator_channels (operator_id, channel_id) VALUES (?,?)",
        [(operator_id, c) for c in sorted(set(channels))],
    )


class Operators:
    """The operator register and login."""

    def __init__(
        self,
        store: SqliteStore,
        *,
        clock: Callable[[], float] = time.time,
        cost: ScryptCost = OWASP_COST,
        login: LoginPolicy | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.cost = cost
        self.lockout = Lockout(login or LoginPolicy(), clock)
        self._memory_key = secrets.token_bytes(32)
        self._remembered: dict[str, float] = {}
        self._decoy: str | None = None

    async def create(self, new: OperatorIn, *, by: str) -> Operator:
        if new.password.get_secret_value().lower() == new.id.lower():
            raise Invalid("password must not be the operator id", field="password")
        hashed = await hash_password_async(new.password.get_secret_value(), self.cost)
        now = self.clock()

        def job(conn: Tx) -> Operator:
            if load_operator(conn, new.id) is not None:
                raise Unavailable(f"operator {new.id} exists already", field="id")
            taken = conn.execute(
                "SELECT id FROM operators WHERE job_number=?", (new.job_number,)
            ).fetchone()
            if taken is not None:
                raise Unavailable(
                    f"job number {new.job_number} belongs to operator {taken[0]}",
                    field="job_number",
                )
            conn.execute(
                "INSERT INTO operators (id, job_number, name, role, password, active,"
                " created_at, updated_at) VALUES (?,?,?,?,?,1,?,?)",
                (new.id, new.job_number, new.name, new.role.value, hashed, now, now),
            )
            _assign(conn, new.id, new.channels)
            audit.record(
                conn,
                at=now,
                operator=by,
                action=f"create operator {new.id}",
                outcome="done",
                detail={"role": new.role.value, "channels": sorted(new.channels)},
            )
            created = load_operator(conn, new.id)
            assert created is not None
            return created

        return await self.store.run(job)

    async def get(self, operator_id: str) -> Operator:
        found = await self.store.run(lambda conn: load_operator(conn, operator_id))
        if found is None:
            raise NotFound(f"no operator {operator_id}", field="operator")
        return found

    async def all(self) -> list[Operator]:
        def job(conn: Tx) -> list[Operator]:
            ids = [r[0] for r in conn.execute("SELECT id FROM operators ORDER BY id")]
            return [op for i in ids if (op := load_operator(conn, i)) is not None]

        return await self.store.run(job)

    async def change(self, operator_id: str, change: OperatorChange, *, by: str) -> Operator:
        now = self.clock()

        def job(conn: Tx) -> Operator:
            before = load_operator(conn, operator_id)
            if before is None:
                raise NotFound(f"no operator {operator_id}", field="operator")
            conn.execute(
                "UPDATE operators SET name=?, role=?, active=?, updated_at=? WHERE id=?",
                (
                    change.name if change.name is not None else before.name,
                    (change.role or before.role).value,
                    int(change.active if change.active is not None else before.active),
                    now,
                    operator_id,
                ),
            )
            if change.channels is not None:
                _assign(conn, operator_id, change.channels)
            after = load_operator(conn, operator_id)
            assert after is not None
            audit.record(
                conn,
                at=now,
                operator=by,
                action=f"change operator {operator_id}",
                outcome="done",
                detail={"before": before.as_dict(), "after": after.as_dict()},
            )
            return after

        result = await self.store.run(job)
        self._remembered.clear()
        return result

    async def set_password(self, operator_id: str, password: SecretStr, *, by: str) -> None:
        if password.get_secret_value().lower() == operator_id.lower():
            raise Invalid("password must not be the operator id", field="password")
        hashed = await hash_password_async(password.get_secret_value(), self.cost)
        now = self.clock()

        def job(conn: Tx) -> None:
            cur = conn.execute(
                "UPDATE operators SET password=?, updated_at=? WHERE id=?",
                (hashed, now, operator_id),
            )
            if cur.rowcount == 0:
                raise NotFound(f"no operator {operator_id}", field="operator")
            audit.record(
                conn, at=now, operator=by, action=f"set password of {operator_id}", outcome="done"
            )

        await self.store.run(job)
        self._remembered.clear()
        self.lockout.clear(operator_id)

    def _memory(self, operator_id: str, password: str) -> str:
        return hmac.new(
            self._memory_key, f"{operator_id}\0{password}".encode(), hashlib.sha256
        ).hexdigest()

    async def authenticate(
        self, operator_id: str, password: str, *, channel: str = "-", address: str | None = None
    ) -> Operator:
        """The operator, if the password is right and they are active; else `NotAllowed`,
        audited. An unknown id and a wrong password get the same answer after the same time.
        After too many wrong passwords for the operator id or from the client ``address``,
        `Throttled` without checking the password (`gateway.resources.lockout`).

        The audit names an unknown id only as ``(unknown)``: people type passwords into the
        wrong field, and the trail must never hold one."""
        now = self.clock()
        locked = self.lockout.locked(operator_id, address)
        if locked is not None:
            known = await self.store.run(lambda conn: load_operator(conn, operator_id) is not None)
            shown = locked if known else locked.anonymous()
            await self._audit_login(
                operator_id if known else None, channel, now, "refused", shown.message(now)
            )
            raise Throttled(locked.message(now), retry_after=locked.seconds_left(now))
        memory = self._memory(operator_id, password)

        def load(conn: Tx) -> tuple[Operator | None, str | None]:
            row = conn.execute(
                "SELECT password FROM operators WHERE id=?", (operator_id,)
            ).fetchone()
            return load_operator(conn, operator_id), row[0] if row else None

        operator, stored = await self.store.run(load)
        if operator is not None and operator.active and self._remembered.get(memory, 0) > now:
            return operator
        if operator is None or stored is None:
            await verify_password_async(password, await self._decoy_hash())
            reason = WRONG_LOGIN
        elif not await verify_password_async(password, stored):
            reason = WRONG_LOGIN
        elif not operator.active:
            reason = f"operator {operator_id} is disabled"
        else:
            self._remember(memory, now)
            self.lockout.clear(operator_id)
            return operator
        known = operator is not None
        await self._audit_login(operator_id if known else None, channel, now, "refused", reason)
        for lock in self.lockout.failed(operator_id, address):
            shown = lock if known else lock.anonymous()
            await self._audit_login(
                operator_id if known else None,
                channel,
                now,
                "locked",
                f"{shown.key} locked until {local_time(lock.until)} after too many wrong passwords",
            )
        raise NotAllowed(reason)

    async def _audit_login(
        self, operator_id: str | None, channel: str, now: float, outcome: str, reason: str
    ) -> None:
        await self.store.run(
            lambda conn: audit.record(
                conn,
                at=now,
                operator=operator_id or "(unknown)",
                channel=channel,
                action="login",
                outcome=outcome,
                reason=reason,
            )
        )

    def _remember(self, memory: str, now: float) -> None:
        if len(self._remembered) > 10_000:
            self._remembered = {k: t for k, t in self._remembered.items() if t > now}
        self._remembered[memory] = now + LOGIN_MEMORY_S

    async def _decoy_hash(self) -> str:
        if self._decoy is None:
            self._decoy = await hash_password_async(secrets.token_hex(16), self.cost)
        return self._decoy
