"""What an HSS keeps per subscriber beyond the HLR's service data: EPS PDN contexts and closed
user groups, as records, with their checked reading from a state file.

The rules between them and the rest of the subscriber (a context or CUG given twice, VoLTE
needing EPS data) are the state's (`state.py`); here is only what one record must look like.
Values arrive from MML already in the contract's form (`commands.py`); a state file is read
with the same checks, so a hand-edited file cannot hold what no command could have made.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

APN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\Z")
APN_MAX = 63  # octets of an APN network identifier (TS 23.003 §9.1)
HEX8 = re.compile(r"[0-9A-F]{8}\Z")
PTT_GROUP = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")
CONTEXT_IDS = (1, 255)
QCIS = (1, 254)  # 1–9 standardised (TS 23.203), 128–254 operator-specific
BIT_RATES = (1, 4_294_967_295)  # bits per second, a Diameter Unsigned32
CUG_INDEXES = (0, 32767)  # TS 29.002 CUG-Index
MAX_CUGS = 10  # TS 22.085 §1.2.1: a subscriber is a member of ten CUGs at most
RESTRICTIONS = ("NONE", "ICB", "OCB")  # intra-CUG: incoming / outgoing calls barred within
ACCESSES = ("CUGONLY", "OA", "IA", "OAIA")  # inter-CUG: outgoing / incoming access


@dataclass(frozen=True, slots=True)
class PdnContext:
    """One EPS PDN context (``ADD PDNCNTX``): the APN (lower case), QoS class, APN-AMBR."""

    cntxid: int
    apn: str
    qci: int
    ambrul: int
    ambrdl: int

    def listed(self) -> str:
        """The value of its ``PDNCNTX<id>`` line in ``LST SUB``."""
        return f"APN={self.apn},QCI={self.qci},AMBRUL={self.ambrul},AMBRDL={self.ambrdl}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "cntxid": self.cntxid,
            "apn": self.apn,
            "qci": self.qci,
            "ambrul": self.ambrul,
            "ambrdl": self.ambrdl,
        }

    @classmethod
    def from_dict(cls, where: str, data: Mapping[str, Any]) -> PdnContext:
        apn = data.get("apn")
        if not isinstance(apn, str) or len(apn) > APN_MAX or not APN.match(apn):
            raise ValueError(f"{where}.apn: expected an APN in lower case")
        return cls(
            cntxid=integer(where, data, "cntxid", CONTEXT_IDS),
            apn=apn,
            qci=integer(where, data, "qci", QCIS),
            ambrul=integer(where, data, "ambrul", BIT_RATES),
            ambrdl=integer(where, data, "ambrdl", BIT_RATES),
        )


@dataclass(frozen=True, slots=True)
class CugMembership:
    """The subscriber in one closed user group (``ADD CUG``)."""

    cugindex: int
    interlock: str  # 8 hexadecimal digits, upper case
    restrict: str
    access: str

    def listed(self) -> str:
        """The value of its ``CUG<index>`` line in ``LST SUB``."""
        return f"INTERLOCK={self.interlock},RESTRICT={self.restrict},ACCESS={self.access}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "cugindex": self.cugindex,
            "interlock": self.interlock,
            "restrict": self.restrict,
            "access": self.access,
        }

    @classmethod
    def from_dict(cls, where: str, data: Mapping[str, Any]) -> CugMembership:
        interlock = data.get("interlock")
        if not isinstance(interlock, str) or not HEX8.match(interlock):
            raise ValueError(f"{where}.interlock: expected 8 hexadecimal digits in upper case")
        restrict, access = data.get("restrict"), data.get("access")
        if restrict not in RESTRICTIONS:
            raise ValueError(f"{where}.restrict: expected one of {', '.join(RESTRICTIONS)}")
        if access not in ACCESSES:
            raise ValueError(f"{where}.access: expected one of {', '.join(ACCESSES)}")
        assert isinstance(restrict, str) and isinstance(access, str)
        return cls(integer(where, data, "cugindex", CUG_INDEXES), interlock, restrict, access)


def integer(where: str, data: Mapping[str, Any], key: str, bounds: tuple[int, int]) -> int:
    """``data[key]`` as an integer within ``bounds``; `ValueError` naming the entry."""
    value = data.get(key)
    low, high = bounds
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{where}.{key}: expected an integer from {low} to {high}")
    return value
