"""Demo data for `provgw serve --demo`: one outlet open round the clock, three operators with
published passwords, two number blocks, selection-fee rules and twenty blank cards.

The passwords are for the demo database only (documented in docs/resources.md); seeding is
idempotent, so restarting the demo keeps what was changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import SecretStr

from gateway.identifiers import luhn_check_digit
from gateway.resources.access import Role
from gateway.resources.channels import ChannelIn, ChannelKind, OpeningHours
from gateway.resources.fees import FeeRule, RuleKind
from gateway.resources.numbers import BlockIn
from gateway.resources.operators import OperatorIn
from gateway.resources.passwords import OWASP_COST, ScryptCost
from gateway.resources.service import Resources
from gateway.resources.transport_keys import TransportKeys
from gateway.store import OrderStore, Tx, channels, fees, numbers, operators, stock

DEMO_CHANNEL = "OUT001"
DEMO_OPERATORS = (
    ("clerk1", "C0001", "Demo Clerk", Role.CLERK),
    ("engineer1", "E0001", "Demo Engineer", Role.ENGINEER),
    ("admin1", "A0001", "Demo Admin", Role.ADMIN),
)
DEMO_PASSWORDS = {
    "clerk1": "clerk1-demo",  # published demo passwords, demo database only
    "engineer1": "engineer1-demo",
    "admin1": "admin1-demo",
}
DEMO_BLOCKS = ("1380000", "1861234")
DEMO_ADM1 = "12345678"  # the card emulator's default ADM1
DEMO_FEE_RULES = (
    FeeRule(name="five alike", kind=RuleKind.REPEATED, length=5, fee_cents=200_000),
    FeeRule(name="tail AAAA", kind=RuleKind.REPEATED, length=4, at_end=True, fee_cents=100_000),
    FeeRule(name="many eights", kind=RuleKind.DIGIT_COUNT, digit="8", length=5, fee_cents=50_000),
    FeeRule(name="tail 1234", kind=RuleKind.ASCENDING, length=4, at_end=True, fee_cents=30_000),
    FeeRule(name="tail AAA", kind=RuleKind.REPEATED, length=3, at_end=True, fee_cents=20_000),
    FeeRule(name="ends 168", kind=RuleKind.ENDS_WITH, digits="168", fee_cents=16_800),
    FeeRule(name="ends 88", kind=RuleKind.ENDS_WITH, digits="88", fee_cents=8_800),
)
BLANK_CARDS = 20


def demo_blank_cards() -> str:
    """A vendor file of blank programmable cards (no KI column: keys come at the counter)."""
    lines = ["DEMO-BLANK 20261121 20 usim-blank 1 0", "# ICCID IMSI ADM1 ACC"]
    for i in range(1, BLANK_CARDS + 1):
        body = f"898600100000000{i:03d}"
        iccid = body + str(luhn_check_digit(body))
        lines.append(f"{iccid} 46000100000{i:04d} {DEMO_ADM1} {1 << (i % 10):04x}")
    return "\n".join(lines) + "\n"


async def seed_demo(
    store: OrderStore, *, clock: Callable[[], float] = time.time, cost: ScryptCost = OWASP_COST
) -> None:
    """Seed what is missing; a second run changes nothing."""
    res = Resources.open(store, clock=clock, cost=cost)

    def present(tx: Tx) -> tuple[bool, set[str], set[str], bool, bool]:
        return (
            channels.find(tx, DEMO_CHANNEL) is not None,
            set(operators.ids(tx)),
            numbers.block_ids(tx),
            fees.any_rule(tx),
            stock.batch_exists(tx, "DEMO-BLANK"),
        )

    has_channel, operator_ids, blocks, has_rules, has_cards = await store.run(present)
    if not has_channel:
        await res.channels.create(
            ChannelIn(
                id=DEMO_CHANNEL,
                kind=ChannelKind.OWN_OUTLET,
                name="Demo outlet",
                city="Beijing",
                area="Dongcheng",
                hours=OpeningHours.always(),
            ),
            by="demo",
        )
    for operator_id, job_number, name, role in DEMO_OPERATORS:
        if operator_id not in operator_ids:
            await res.operators.create(
                OperatorIn(
                    id=operator_id,
                    job_number=job_number,
                    name=name,
                    role=role,
                    password=SecretStr(DEMO_PASSWORDS[operator_id]),
                    channels=[DEMO_CHANNEL],
                ),
                by="demo",
            )
    for prefix in DEMO_BLOCKS:
        block = BlockIn(prefix=prefix)
        if block.block_id not in blocks:
            await res.numbers.import_block(block, by="demo")
    if not has_rules:
        for rule in DEMO_FEE_RULES:
            await res.fees.create(rule, by="demo")
    if not has_cards:
        await res.stock.import_vendor_file(demo_blank_cards(), by="demo", keys=TransportKeys({}))
