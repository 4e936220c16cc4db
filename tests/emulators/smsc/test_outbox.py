"""The SMSC's deliver_sm policy on a clock the test holds: backoff, expiry, final refusals."""

from __future__ import annotations

from datetime import datetime

from emulators.smsc.outbox import DeliveryPolicy, Kind, Outbox, Verdict
from emulators.smsc.store import Part

POLICY = DeliveryPolicy(first_s=1.0, max_s=4.0, validity_s=10.0, receipt_retry_s=0.5)


def part(n: int) -> Part:
    return Part(f"id{n}", "provgw", "8613800138001", "10086", 0, f"m{n}", None, datetime.now())


def test_backoff_doubles_up_to_the_cap_then_the_message_expires() -> None:
    box = Outbox(lambda: POLICY)
    item = box.mobile_originated(part(1), now=100.0)
    waits = []
    now = 100.0
    while True:
        taken = box.take(now)
        assert taken is item
        verdict = box.answered(item, 0x64, now)  # ESME_RX_T_APPN
        if verdict is Verdict.EXPIRED:
            break
        assert verdict is Verdict.RETRY and box.take(now) is None  # not due yet
        waits.append(item.due - now)
        now = item.due
    assert waits == [1.0, 2.0, 4.0]  # 100 → 101 → 103 → 107; the next try (111) is past 110
    assert len(box) == 0 and item.attempts == 4


def test_an_item_waiting_for_a_bind_expires_at_the_end_of_its_validity() -> None:
    box = Outbox(lambda: POLICY)
    box.mobile_originated(part(1), now=0.0)
    receipt = box.receipt(part(2), now=0.0)
    assert box.next_wakeup(sendable=False) == 10.0  # no bind: only the expiry matters
    assert box.next_wakeup(sendable=True) == 0.0
    assert box.expire(9.99) == []
    [gone] = box.expire(10.0)
    assert gone.kind is Kind.MO and list(box) == [receipt]  # receipts never expire
    assert box.next_wakeup(sendable=False) is None


def test_permanent_refusals_are_final_and_receipts_come_back_after_a_fixed_wait() -> None:
    box = Outbox(lambda: POLICY)
    for status in (0x65, 0x66):
        item = box.mobile_originated(part(status), now=0.0)
        assert box.take(0.0) is item
        assert box.answered(item, status, 0.0) is Verdict.REJECTED
    receipt = box.receipt(part(3), now=0.0)
    assert box.take(0.0) is receipt
    assert box.answered(receipt, 0x08, 1.0) is Verdict.RETRY and receipt.due == 1.5
    assert box.take(1.5) is receipt and box.answered(receipt, 0, 1.5) is Verdict.DELIVERED
    assert len(box) == 0


def test_retries_keep_their_place_and_a_lost_bind_counts_as_an_attempt() -> None:
    box = Outbox(lambda: POLICY)
    first, second = box.mobile_originated(part(1), 0.0), box.mobile_originated(part(2), 0.0)
    assert box.take(0.0) is first
    assert box.lost(first, 0.0) is Verdict.RETRY and first.attempts == 1
    assert box.take(0.0) is second  # the first is not due before 1.0
    assert box.lost(second, 0.5) is Verdict.RETRY
    assert [i.part.message_id for i in box] == ["id1", "id2"]  # arrival order
    assert box.take(1.5) is first and box.take(1.5) is second
