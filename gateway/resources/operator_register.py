"""The operator register and login (see `gateway.resources.operators` for what is kept and why
a login is remembered)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import replace

from pydantic import SecretStr

from gateway.resources import audit
from gateway.resources.channels import local_time
from gateway.resources.lockout import Lockout, LoginPolicy
from gateway.resources.operators import (
    LOGIN_MEMORY_S,
    WRONG_LOGIN,
    Operator,
    OperatorChange,
    OperatorIn,
)
from gateway.resources.passwords import (
    OWASP_COST,
    ScryptCost,
    hash_password_async,
    verify_password_async,
)
from gateway.resources.refusals import Invalid, NotAllowed, NotFound, Throttled, Unavailable
from gateway.store import OrderStore, Tx
from gateway.store import channels as channel_rows
from gateway.store import operators as rows


def _assign(tx: Tx, operator_id: str, channels: list[str]) -> None:
    unknown = [c for c in channels if channel_rows.find(tx, c) is None]
    if unknown:
        raise Invalid(f"no such channel: {', '.join(unknown)}", field="channels")
    rows.assign_channels(tx, operator_id, channels)


class Operators:
    """The operator register and login."""

    def __init__(
        self,
        store: OrderStore,
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

        def job(tx: Tx) -> Operator:
            if rows.find(tx, new.id) is not None:
                raise Unavailable(f"operator {new.id} exists already", field="id")
            taken = rows.holder_of_job_number(tx, new.job_number)
            if taken is not None:
                raise Unavailable(
                    f"job number {new.job_number} belongs to operator {taken}",
                    field="job_number",
                )
            fresh = Operator(new.id, new.job_number, new.name, new.role, True, ())
            if not rows.insert(tx, fresh, password_hash=hashed, now=now):
                raise Unavailable(f"operator {new.id} exists already", field="id")
            _assign(tx, new.id, new.channels)
            audit.record(
                tx,
                at=now,
                operator=by,
                action=f"create operator {new.id}",
                outcome="done",
                detail={"role": new.role.value, "channels": sorted(new.channels)},
            )
            created = rows.find(tx, new.id)
            assert created is not None
            return created

        return await self.store.run(job)

    async def get(self, operator_id: str) -> Operator:
        found = await self.store.run(lambda tx: rows.find(tx, operator_id))
        if found is None:
            raise NotFound(f"no operator {operator_id}", field="operator")
        return found

    async def all(self) -> list[Operator]:
        def job(tx: Tx) -> list[Operator]:
            return [op for i in rows.ids(tx) if (op := rows.find(tx, i)) is not None]

        return await self.store.run(job)

    async def change(self, operator_id: str, change: OperatorChange, *, by: str) -> Operator:
        now = self.clock()

        def job(tx: Tx) -> Operator:
            before = rows.find(tx, operator_id)
            if before is None:
                raise NotFound(f"no operator {operator_id}", field="operator")
            rows.update(
                tx,
                replace(
                    before,
                    name=change.name if change.name is not None else before.name,
                    role=change.role or before.role,
                    active=change.active if change.active is not None else before.active,
                ),
                now=now,
            )
            if change.channels is not None:
                _assign(tx, operator_id, change.channels)
            after = rows.find(tx, operator_id)
            assert after is not None
            audit.record(
                tx,
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

        def job(tx: Tx) -> None:
            if not rows.set_password_hash(tx, operator_id, hashed, now=now):
                raise NotFound(f"no operator {operator_id}", field="operator")
            audit.record(
                tx, at=now, operator=by, action=f"set password of {operator_id}", outcome="done"
            )

        await self.store.run(job)
        self._remembered.clear()
        self.lockout.clear(operator_id)

    def _memory(self, operator_id: str, password: str, stored: str) -> str:
        """Keyed on the stored hash too: a password set by another gateway process ends what
        this one remembers of the old password at once."""
        return hmac.new(
            self._memory_key, f"{operator_id}\0{password}\0{stored}".encode(), hashlib.sha256
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
            known = await self.store.run(lambda tx: rows.find(tx, operator_id) is not None)
            shown = locked if known else locked.anonymous()
            await self._audit_login(
                operator_id if known else None, channel, now, "refused", shown.message(now)
            )
            raise Throttled(locked.message(now), retry_after=locked.seconds_left(now))

        def load(tx: Tx) -> tuple[Operator | None, str | None]:
            return rows.find(tx, operator_id), rows.password_hash(tx, operator_id)

        operator, stored = await self.store.run(load)
        memory = self._memory(operator_id, password, stored or "")
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
            lambda tx: audit.record(
                tx,
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
