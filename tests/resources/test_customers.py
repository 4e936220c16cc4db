"""Customers: type from the document, completeness, categories that are never deleted, and the
blacklist that stops an account being opened."""

from __future__ import annotations

import sqlite3

import pytest
from pydantic import ValidationError

from gateway.orders import Customer, IdType
from gateway.resources import audit
from gateway.resources.customers import (
    BLACKLIST,
    CategoryChange,
    CategoryIn,
    CustomerChange,
    CustomerIn,
    CustomerKind,
    Membership,
    unified_social_credit_code,
)
from gateway.resources.refusals import Invalid, NotAllowed, NotFound, Unavailable
from gateway.resources.service import Resources
from gateway.store import SqliteStore

# GB 11643 example number (the docs/examples order uses it) and two published unified social
# credit codes (GB 32100-2015), check characters included.
RESIDENT = "11010519491231002X"
LICENCE = "914403001922038216"
LICENCE_2 = "91350100M000100Y43"


def person(**over: object) -> CustomerIn:
    data = {
        "id_type": "resident_id",
        "id_number": RESIDENT,
        "name": "王小明",
        "address": "北京市西城区金融大街29号",
        "contact": "13900000000",
    }
    return CustomerIn.model_validate(data | over)


@pytest.mark.parametrize("code", [LICENCE, LICENCE_2, LICENCE_2.lower()])
def test_unified_social_credit_codes(code: str) -> None:
    assert unified_social_credit_code(code) == code.upper()


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (LICENCE[:-1] + "7", "check character is wrong: should be 6"),
        (LICENCE[:-1], "18 characters"),
        ("9144030019220382I6", "without I, O, Z, S, V"),
    ],
)
def test_bad_licence_numbers(code: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        unified_social_credit_code(code)


async def test_the_document_decides_person_or_unit(res: Resources) -> None:
    someone = await res.customers.register(person(), by="clerk1")
    company = await res.customers.register(
        person(id_type="business_licence", id_number=LICENCE, name="华为技术有限公司"), by="clerk1"
    )
    assert (someone.kind, company.kind) == (CustomerKind.PERSON, CustomerKind.UNIT)
    with pytest.raises(Unavailable, match=f"registered already \\(customer {someone.id}\\)"):
        await res.customers.register(person(), by="clerk1")
    found = await res.customers.find(IdType.RESIDENT_ID, RESIDENT.lower())
    assert found is not None and found.id == someone.id


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"id_number": "110105194912310021"}, "id_number"),
        ({"id_type": "business_licence", "id_number": RESIDENT}, "id_number"),
        ({"id_type": "passport"}, "id_type"),
        ({"contact": "call me"}, "contact"),
        ({"name": 'Li"; RMV SUB'}, "name"),
        ({"address": "x"}, "address"),
    ],
)
def test_bad_customer_data_names_the_field(over: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        person(**over)
    assert caught.value.errors()[0]["loc"][0] == field


async def test_an_incomplete_customer_cannot_open_until_completed(res: Resources) -> None:
    record = await res.customers.register(person(address=None, contact=None), by="clerk1")
    assert record.missing == ["address", "contact"]
    with pytest.raises(NotAllowed, match="incomplete: address, contact missing"):
        await res.customers.check_may_open(record.id)
    done = await res.customers.change(
        record.id, CustomerChange(address="北京市东城区1号", contact="13900000001"), by="clerk1"
    )
    assert done.missing == []
    await res.customers.check_may_open(record.id)


async def test_a_blacklisted_customer_cannot_open_an_account(res: Resources) -> None:
    record = await res.customers.register(person(), by="clerk1")
    await res.customers.set_categories(record.id, Membership(add=[2, BLACKLIST]), by="admin1")
    with pytest.raises(NotAllowed, match="on the blacklist: no account may be opened"):
        await res.customers.check_may_open(record.id)
    as_on_order = Customer(
        name="王小明", id_number=RESIDENT, address="北京市西城区金融大街29号", contact="13900000000"
    )
    with pytest.raises(NotAllowed, match="blacklist"):
        await res.customers.check_may_open(as_on_order)
    stranger = as_on_order.model_copy(update={"id_number": "110101199003074477"})
    await res.customers.check_may_open(stranger)
    after = await res.customers.set_categories(
        record.id, Membership(remove=[BLACKLIST]), by="admin1"
    )
    assert [c.name for c in after.categories] == ["VIP"]
    await res.customers.check_may_open(record.id)


async def test_a_renamed_blacklist_still_refuses(res: Resources) -> None:
    record = await res.customers.register(person(), by="clerk1")
    await res.customers.change_category(BLACKLIST, CategoryChange(name="黑名单"), by="admin1")
    await res.customers.set_categories(record.id, Membership(add=[BLACKLIST]), by="admin1")
    with pytest.raises(NotAllowed, match="on the 黑名单"):
        await res.customers.check_may_open(record.id)


async def test_categories_are_added_and_renamed_with_an_audit(
    res: Resources, store: SqliteStore
) -> None:
    assert [c.name for c in await res.customers.categories()] == [
        "normal",
        "VIP",
        "blacklist",
        "redlist",
    ]
    police = await res.customers.add_category(
        CategoryIn(name="police list", note="shared by the police", refuses_open=True), by="admin1"
    )
    assert police.number == 5
    with pytest.raises(Unavailable, match="exists already"):
        await res.customers.add_category(CategoryIn(name="VIP"), by="admin1")
    with pytest.raises(Unavailable, match="category 2 is named VIP"):
        await res.customers.change_category(5, CategoryChange(name="VIP"), by="admin1")
    renamed = await res.customers.change_category(5, CategoryChange(note="公安"), by="admin1")
    assert (renamed.name, renamed.note, renamed.refuses_open) == ("police list", "公安", True)
    with pytest.raises(NotFound):
        await res.customers.change_category(99, CategoryChange(name="x"), by="admin1")
    entries = await audit.entries(store, operator="admin1")
    assert [e.action for e in entries] == ["change customer category 5", "add customer category 5"]
    assert entries[0].detail["before"]["note"] == "shared by the police"


async def test_categories_are_never_deleted(res: Resources, store: SqliteStore) -> None:
    assert not any(name.startswith("delete") or name == "remove" for name in dir(res.customers))
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        await store.run(lambda c: c.execute("DELETE FROM categories WHERE number=5 OR number=3"))
    assert len(await res.customers.categories()) == 4


async def test_membership_changes_are_checked(res: Resources) -> None:
    record = await res.customers.register(person(), by="clerk1")
    with pytest.raises(Invalid, match="both added and removed"):
        await res.customers.set_categories(record.id, Membership(add=[2], remove=[2]), by="a")
    with pytest.raises(NotFound, match="no customer category 42"):
        await res.customers.set_categories(record.id, Membership(add=[42]), by="a")
    with pytest.raises(NotFound, match="no customer 999"):
        await res.customers.set_categories(999, Membership(add=[2]), by="a")
    assert (await res.customers.get(record.id)).categories == ()
