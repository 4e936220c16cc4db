"""The emulator's table of return codes.

The contract (`docs/dialects/huawei-mml.md`) fixes codes and texts, but no public source fixes
some of them (e.g. "already exists"), and a real HLR may number them differently. So every
command names the *outcome* symbolically and the table turns it into `RETCODE = <code>  <text>`;
the table can be replaced at start (`--codes FILE`) to mimic another HLR build.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Outcome(enum.Enum):
    """What happened to a command, independent of how the NE numbers it."""

    OK = "OK"
    SYNTAX_ERROR = "SYNTAX_ERROR"
    INVALID_VALUE = "INVALID_VALUE"
    NO_RIGHTS = "NO_RIGHTS"
    BAD_LOGIN = "BAD_LOGIN"
    SUBSCRIBER_NOT_DEFINED = "SUBSCRIBER_NOT_DEFINED"
    SUBSCRIBER_ALREADY_DEFINED = "SUBSCRIBER_ALREADY_DEFINED"
    RECORD_NOT_DEFINED = "RECORD_NOT_DEFINED"
    RECORD_ALREADY_DEFINED = "RECORD_ALREADY_DEFINED"
    ISDN_IN_USE = "ISDN_IN_USE"
    KI_IN_USE = "KI_IN_USE"
    TEMPLATE_NOT_DEFINED = "TEMPLATE_NOT_DEFINED"
    SS_NOT_REGISTERED = "SS_NOT_REGISTERED"
    NO_UMTS_AUTH = "NO_UMTS_AUTH"
    AUTS_INVALID = "AUTS_INVALID"
    NO_EPS_DATA = "NO_EPS_DATA"
    NEEDED_BY_VOLTE = "NEEDED_BY_VOLTE"
    TOO_MANY_CUGS = "TOO_MANY_CUGS"
    SYSTEM_BUSY = "SYSTEM_BUSY"
    DATABASE_BUSY = "DATABASE_BUSY"


class CommandError(Exception):
    """A command refused; `outcome` picks the RETCODE, `detail` names the field or the rule.

    Raised before anything changes, so a refused command leaves the HLR as it was.
    """

    def __init__(self, outcome: Outcome, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


@dataclass(frozen=True)
class ReturnCode:
    """One row of the table: the number and the text printed after it."""

    code: int
    text: str


DEFAULT_CODES: Mapping[Outcome, ReturnCode] = {
    Outcome.OK: ReturnCode(0, "Operation succeeded"),
    Outcome.SYNTAX_ERROR: ReturnCode(1001, "ERR1001:Command syntax error"),
    Outcome.INVALID_VALUE: ReturnCode(1002, "ERR1002:Invalid parameter value"),
    Outcome.NO_RIGHTS: ReturnCode(1006, "ERR1006:No rights to execute this command"),
    Outcome.BAD_LOGIN: ReturnCode(1018, "ERR1018:Incorrect user name or password"),
    Outcome.SUBSCRIBER_NOT_DEFINED: ReturnCode(3001, "ERR3001:Subscriber not defined"),
    Outcome.SUBSCRIBER_ALREADY_DEFINED: ReturnCode(3002, "ERR3002:Subscriber already defined"),
    Outcome.RECORD_NOT_DEFINED: ReturnCode(3007, "ERR3007:Record not defined"),
    Outcome.RECORD_ALREADY_DEFINED: ReturnCode(3008, "ERR3008:Record already defined"),
    Outcome.ISDN_IN_USE: ReturnCode(3009, "ERR3009:ISDN already in use"),
    Outcome.KI_IN_USE: ReturnCode(3010, "ERR3010:KI in use by a subscriber"),
    Outcome.TEMPLATE_NOT_DEFINED: ReturnCode(3012, "ERR3012:Template not defined"),
    Outcome.SS_NOT_REGISTERED: ReturnCode(3014, "ERR3014:Supplementary service not registered"),
    # The AuC extension's own codes (no public source numbers these; see the contract).
    Outcome.NO_UMTS_AUTH: ReturnCode(3015, "ERR3015:KI not usable for UMTS authentication"),
    Outcome.AUTS_INVALID: ReturnCode(3016, "ERR3016:AUTS verification failed"),
    # The HSS services' own rules (our numbers too: no public source gives them).
    Outcome.NO_EPS_DATA: ReturnCode(3017, "ERR3017:No EPS data"),
    Outcome.NEEDED_BY_VOLTE: ReturnCode(3018, "ERR3018:Needed by VoLTE"),
    Outcome.TOO_MANY_CUGS: ReturnCode(3019, "ERR3019:Too many CUGs"),
    Outcome.SYSTEM_BUSY: ReturnCode(5001, "ERR5001:System busy"),
    Outcome.DATABASE_BUSY: ReturnCode(5002, "ERR5002:Database busy, try again later"),
}


class ReturnCodes:
    """The table in use: outcome → return code, and back from a number (for fault injection)."""

    def __init__(self, overrides: Mapping[Outcome, ReturnCode] | None = None) -> None:
        self._by_outcome = {**DEFAULT_CODES, **(overrides or {})}
        self._by_code = {rc.code: rc for rc in self._by_outcome.values()}

    def __getitem__(self, outcome: Outcome) -> ReturnCode:
        return self._by_outcome[outcome]

    def by_code(self, code: int) -> ReturnCode | None:
        """The row with this number, if the table has one."""
        return self._by_code.get(code)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ReturnCodes:
        """Overrides read from a config file: `{"ISDN_IN_USE": {"code": 3009, "text": "…"}}`.

        Rows not named keep their defaults. Raises `ValueError` naming the bad entry.
        """
        overrides: dict[Outcome, ReturnCode] = {}
        for name, row in data.items():
            try:
                outcome = Outcome[name.upper()]
            except KeyError:
                known = ", ".join(o.name for o in Outcome)
                raise ValueError(f"codes: unknown outcome {name!r} (known: {known})") from None
            if not isinstance(row, Mapping):
                raise ValueError(f"codes.{name}: expected a table with 'code' and 'text'")
            code, text = row.get("code"), row.get("text")
            if not isinstance(code, int) or isinstance(code, bool) or code < 0:
                raise ValueError(f"codes.{name}.code: expected a non-negative integer")
            if not isinstance(text, str) or not text.isprintable():
                raise ValueError(f"codes.{name}.text: expected a printable one-line string")
            overrides[outcome] = ReturnCode(code, text)
        return cls(overrides)
