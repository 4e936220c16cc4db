"""Valid example orders for tests (numbers and keys from public test vectors)."""

from __future__ import annotations

from typing import Any

from gateway.orders import Order, parse_order

KI = "465b5ce8b199b49faa5f0a2ee238a6bc"  # TS 35.208 test set 1
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
CUSTOMER = {
    "name": "王小明",
    "id_number": "11010519491231002X",
    "address": "北京市西城区金融大街29号",
    "contact": "13900000000",
}


def iccid(n: int) -> str:
    from gateway.identifiers import luhn_check_digit

    body = f"898600{n:012d}"
    return body + str(luhn_check_digit(body))


def order(kind: str, order_id: str, **fields: Any) -> Order:
    base: dict[str, Any] = {
        "kind": kind,
        "order_id": order_id,
        "channel": "OUT001",
        "operator": "clerk1",
    }
    return parse_order(base | fields)


def open_account(order_id: str, n: int = 1, product: str = "4g-basic", **over: Any) -> Order:
    fields: dict[str, Any] = {
        "msisdn": f"138{n:08d}",
        "imsi": f"46000{n:010d}",
        "iccid": iccid(n),
        "ki": KI,
        "opc": OPC,
        "product": product,
        "customer": CUSTOMER,
    }
    return order("open_account", order_id, **(fields | over))
