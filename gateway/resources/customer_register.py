"""The customer register and its categories (see `gateway.resources.customers`)."""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.orders import Customer, IdType
from gateway.resources import audit
from gateway.resources.customers import (
    KIND_OF_DOCUMENT,
    Category,
    CategoryChange,
    CategoryIn,
    CustomerChange,
    CustomerIn,
    CustomerRecord,
    Membership,
    refusal_of,
)
from gateway.resources.refusals import Invalid, NotAllowed, NotFound, Unavailable
from gateway.store import OrderStore, Tx
from gateway.store import customers as rows


def _category(tx: Tx, number: int) -> Category:
    found = rows.category(tx, number)
    if found is None:
        raise NotFound(f"no customer category {number}", field="category")
    return found


class Customers:
    """The customer register and its categories."""

    def __init__(self, store: OrderStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def register(self, new: CustomerIn, *, by: str) -> CustomerRecord:
        now = self.clock()

        def job(tx: Tx) -> CustomerRecord:
            customer_id = rows.insert(
                tx,
                kind=KIND_OF_DOCUMENT[new.id_type],
                id_type=new.id_type,
                id_number=new.id_number,
                name=new.name,
                address=new.address,
                contact=new.contact,
                by=by,
                now=now,
            )
            if customer_id is None:
                known = rows.find_by_document(tx, new.id_type.value, new.id_number)
                assert known is not None
                raise Unavailable(
                    f"this document is registered already (customer {known.id})", field="id_number"
                )
            record = rows.find(tx, customer_id)
            assert record is not None
            return record

        return await self.store.run(job)

    async def get(self, customer_id: int) -> CustomerRecord:
        found = await self.store.run(lambda tx: rows.find(tx, customer_id))
        if found is None:
            raise NotFound(f"no customer {customer_id}", field="customer")
        return found

    async def find(self, id_type: IdType, id_number: str) -> CustomerRecord | None:
        return await self.store.run(
            lambda tx: rows.find_by_document(tx, id_type.value, id_number.upper())
        )

    async def change(self, customer_id: int, change: CustomerChange, *, by: str) -> CustomerRecord:
        now = self.clock()
        fields = change.model_dump(exclude_none=True)

        def job(tx: Tx) -> CustomerRecord:
            if not rows.exists(tx, customer_id):
                raise NotFound(f"no customer {customer_id}", field="customer")
            rows.update(tx, customer_id, fields, now=now)
            record = rows.find(tx, customer_id)
            assert record is not None
            return record

        return await self.store.run(job)

    async def check_may_open(self, customer: int | Customer) -> None:
        """Raise `NotAllowed` if an account may not be opened for this customer: a registered
        customer (by number, or by the document on an order) that is incomplete or in a
        refusing category. An order's `Customer` is complete by construction."""
        if isinstance(customer, Customer):
            record = await self.find(customer.id_type, customer.id_number)
            if record is None:
                return
        else:
            record = await self.get(customer)
        reason = refusal_of(record)
        if reason is None and record.missing and not isinstance(customer, Customer):
            reason = (
                f"customer {record.id} is incomplete: {', '.join(record.missing)} missing (C1-F3)"
            )
        if reason is not None:
            raise NotAllowed(reason, field="customer")

    # -- categories ----------------------------------------------------------------------

    async def categories(self) -> list[Category]:
        return await self.store.run(rows.categories)

    async def add_category(self, new: CategoryIn, *, by: str) -> Category:
        now = self.clock()

        def job(tx: Tx) -> Category:
            category = rows.insert_category(
                tx, name=new.name, note=new.note, refuses_open=new.refuses_open, by=by, now=now
            )
            if category is None:
                raise Unavailable(f"a category named {new.name} exists already", field="name")
            audit.record(
                tx,
                at=now,
                operator=by,
                action=f"add customer category {category.number}",
                outcome="done",
                detail=category.as_dict(),
            )
            return category

        return await self.store.run(job)

    async def change_category(self, number: int, change: CategoryChange, *, by: str) -> Category:
        """Rename a category or change its note; its number and effect stay."""
        now = self.clock()

        def job(tx: Tx) -> Category:
            before = _category(tx, number)
            name = change.name if change.name is not None else before.name
            clash = rows.category_named(tx, name)
            if clash is not None and clash != number:
                raise Unavailable(f"category {clash} is named {name} already", field="name")
            note = change.note if change.note is not None else before.note
            after = Category(number, name, note, before.refuses_open)
            rows.update_category(tx, after)
            audit.record(
                tx,
                at=now,
                operator=by,
                action=f"change customer category {number}",
                outcome="done",
                detail={"before": before.as_dict(), "after": after.as_dict()},
            )
            return after

        return await self.store.run(job)

    async def set_categories(
        self, customer_id: int, membership: Membership, *, by: str
    ) -> CustomerRecord:
        """Put a customer into categories and take them out of others; audited."""
        both = set(membership.add) & set(membership.remove)
        if both:
            raise Invalid(f"category {min(both)} is both added and removed", field="remove")
        now = self.clock()

        def job(tx: Tx) -> CustomerRecord:
            if not rows.exists(tx, customer_id):
                raise NotFound(f"no customer {customer_id}", field="customer")
            for number in (*membership.add, *membership.remove):
                _category(tx, number)
            rows.join(tx, customer_id, membership.add, by=by, now=now)
            rows.leave(tx, customer_id, membership.remove)
            audit.record(
                tx,
                at=now,
                operator=by,
                action=f"customer {customer_id} categories",
                outcome="done",
                detail={"add": sorted(membership.add), "remove": sorted(membership.remove)},
            )
            record = rows.find(tx, customer_id)
            assert record is not None
            return record

        return await self.store.run(job)
