"""Operators: scrypt-hashed passwords, roles, login that tells nothing away, and its audit."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from gateway.resources import audit
from gateway.resources.access import GRANTS, Permission, Role, require
from gateway.resources.operators import OperatorChange, OperatorIn
from gateway.resources.passwords import OWASP_COST, hash_password, verify_password
from gateway.resources.refusals import Invalid, NotAllowed, NotFound, Unavailable
from gateway.resources.service import Resources
from gateway.store import SqliteStore
from tests.resources.conftest import FAST, Clock


def new(operator_id: str = "clerk9", **over: object) -> OperatorIn:
    data = {
        "id": operator_id,
        "job_number": "BJ-0009",
        "name": "Zhao Lei",
        "role": "clerk",
        "password": "correct horse",
        "channels": ["OUT001"],
    }
    return OperatorIn.model_validate(data | over)


def test_the_default_cost_is_owasps() -> None:
    assert (OWASP_COST.n, OWASP_COST.r, OWASP_COST.p) == (2**17, 8, 1)


def test_hashes_are_salted_and_carry_their_cost() -> None:
    first, second = hash_password("secret-pw", FAST), hash_password("secret-pw", FAST)
    assert first != second, "a fresh salt each time"
    assert first.startswith("scrypt$256$8$1$") and "secret-pw" not in first
    assert verify_password("secret-pw", first) and verify_password("secret-pw", second)
    assert not verify_password("secret-pW", first)
    assert not verify_password("secret-pw", "md5$whatever")
    assert not verify_password("secret-pw", "scrypt$x$8$1$AA==$AA==")


async def test_operators_log_in_and_wrong_logins_are_audited(
    demo: Resources, store: SqliteStore
) -> None:
    created = await demo.operators.create(new(), by="admin1")
    assert (created.role, created.channels, created.active) == (Role.CLERK, ("OUT001",), True)
    stored = await store.run(
        lambda c: c.execute("SELECT password FROM operators WHERE id='clerk9'").fetchone()[0]
    )
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert (await demo.operators.authenticate("clerk9", "correct horse")).id == "clerk9"
    for who, password in (("clerk9", "wrong horse"), ("correct horse", "oops")):
        with pytest.raises(NotAllowed, match="wrong operator or password"):
            await demo.operators.authenticate(who, password, channel="OUT001")
    refused = await audit.entries(store, outcome="refused")
    assert [(e.operator, e.channel, e.action) for e in refused] == [
        ("(unknown)", "OUT001", "login"),
        ("clerk9", "OUT001", "login"),
    ]
    assert "horse" not in repr(refused), "a password typed as an id is not kept"


async def test_a_disabled_operator_cannot_log_in_even_if_remembered(demo: Resources) -> None:
    await demo.operators.create(new(), by="admin1")
    await demo.operators.authenticate("clerk9", "correct horse")
    await demo.operators.change("clerk9", OperatorChange(active=False), by="admin1")
    with pytest.raises(NotAllowed, match="operator clerk9 is disabled"):
        await demo.operators.authenticate("clerk9", "correct horse")


async def test_a_new_password_replaces_the_old_one(demo: Resources, clock: Clock) -> None:
    await demo.operators.create(new(), by="admin1")
    await demo.operators.authenticate("clerk9", "correct horse")
    await demo.operators.set_password("clerk9", SecretStr("battery staple"), by="clerk9")
    with pytest.raises(NotAllowed):
        await demo.operators.authenticate("clerk9", "correct horse")
    assert (await demo.operators.authenticate("clerk9", "battery staple")).id == "clerk9"
    with pytest.raises(Invalid, match="not be the operator id"):
        await demo.operators.set_password("clerk9", SecretStr("CLERK9"), by="clerk9")


async def test_operator_records_are_checked(demo: Resources) -> None:
    await demo.operators.create(new(), by="admin1")
    with pytest.raises(Unavailable, match="exists already"):
        await demo.operators.create(new(job_number="X1"), by="admin1")
    with pytest.raises(Unavailable, match="job number BJ-0009 belongs to operator clerk9"):
        await demo.operators.create(new("clerk10"), by="admin1")
    with pytest.raises(Invalid, match="no such channel: OUT404"):
        await demo.operators.create(
            new("clerk11", job_number="X2", channels=["OUT404"]), by="admin1"
        )
    with pytest.raises(NotFound):
        await demo.operators.get("clerk11")
    with pytest.raises(Invalid, match="not be the operator id"):
        await demo.operators.create(
            new("longname1", job_number="X3", password="LongName1"), by="admin1"
        )
    for field, value in (
        ("password", "short"),
        ("role", "boss"),
        ("id", "bad id"),
        ("job_number", "#1"),
    ):
        with pytest.raises(ValidationError) as caught:
            new(**{field: value})
        assert caught.value.errors()[0]["loc"] == (field,)
        assert "short" not in str(caught.value), "the input (maybe a password) is not echoed"


async def test_roles_grant_permissions(demo: Resources) -> None:
    clerk = await demo.operators.get("clerk1")
    engineer = await demo.operators.get("engineer1")
    require(clerk, Permission.COUNTER)
    with pytest.raises(NotAllowed, match="clerk1 \\(clerk\\) may not do this: it needs the stock"):
        require(clerk, Permission.STOCK)
    require(engineer, Permission.STOCK)
    with pytest.raises(NotAllowed):
        require(engineer, Permission.ADMIN)
    assert GRANTS[Role.ADMIN] == frozenset(Permission)
