"""What the HLR emulator must hold, derived from the gateway's lines.

Used by the integration and crash tests: after every order has reached a terminal state, the
NE holds exactly the subscribers the gateway believes in, with exactly the settings it believes.
"""

from __future__ import annotations

from typing import Any

from gateway.lines import Line

_COMPARED = (
    "imsi",
    "isdn",
    "ic",
    "oc",
    "gprslock",
    "odbic",
    "odboc",
    "odbroam",
    "cfu",
    "cfb",
    "cfnry",
    "cfnrc",
    "gprs",
    "nam",
)


def expected_state(lines: list[Line]) -> dict[str, Any]:
    subscribers: dict[str, dict[str, Any]] = {}
    for line in lines:
        net = line.network
        subscribers[line.imsi] = {
            "imsi": line.imsi,
            "isdn": net.msisdn,
            "ic": net.lock.incoming,
            "oc": net.lock.outgoing,
            "gprslock": net.lock.data,
            "odbic": net.bar_incoming.value,
            "odboc": net.bar_outgoing.value,
            "odbroam": net.bar_roaming.value,
            "cfu": net.forwarding.get("CFU"),
            "cfb": net.forwarding.get("CFB"),
            "cfnry": net.forwarding.get("CFNRY"),
            "cfnrc": net.forwarding.get("CFNRC"),
            "gprs": net.data_enabled,
            "nam": net.network_access.value,
        }
    return {"ki": sorted(subscribers), "subscribers": subscribers}


def actual_state(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {
        "ki": sorted(snapshot["ki"]),
        "subscribers": {
            imsi: {k: sub[k] for k in _COMPARED} for imsi, sub in snapshot["subscribers"].items()
        },
    }
