"""Reply layout, byte for byte as in docs/dialects/huawei-mml.md."""

from __future__ import annotations

import time

import pytest

from emulators.hlr.codes import Outcome, ReturnCode, ReturnCodes
from emulators.hlr.reply import ReplyRenderer

# 2026-11-21 10:00:00 in local time, whatever the test machine's zone.
NOON = time.mktime((2026, 11, 21, 10, 0, 0, 0, 0, -1))


def test_success_layout_is_the_contracts_example() -> None:
    renderer = ReplyRenderer("HLR9820", clock=lambda: NOON)
    echo = 'ADD TPLSUB:HLRSN=1,IMSI="460001234567890",ISDN="8613800000001",TPLID=1;'
    reply = renderer.render(echo, ReturnCodes()[Outcome.OK], ok=True)
    assert reply == (
        "+++    HLR9820        2026-11-21 10:00:00\n"
        "O&M    #1\n"
        '%%ADD TPLSUB:HLRSN=1,IMSI="460001234567890",ISDN="8613800000001",TPLID=1;%%\n'
        "RETCODE = 0  Operation succeeded\n"
        "\n"
        "There is together 1 report\n"
        "---    END\n"
    )


def test_lst_layout_and_serial_increases() -> None:
    renderer = ReplyRenderer("HSS9860", clock=lambda: NOON)
    renderer.render("LGO:;", ReturnCode(0, "Operation succeeded"), ok=True)
    reply = renderer.render(
        'LST KI:HLRSN=1,IMSI="1";',
        ReturnCode(0, "Operation succeeded"),
        ok=True,
        fields=[("IMSI", "460001234567890"), ("KIVALUE", "********")],
    )
    assert reply == (
        "+++    HSS9860        2026-11-21 10:00:00\n"
        "O&M    #2\n"
        '%%LST KI:HLRSN=1,IMSI="1";%%\n'
        "RETCODE = 0  Operation succeeded\n"
        "\n"
        "The result is as follows\n"
        "------------------------\n"
        "IMSI  =  460001234567890\n"
        "KIVALUE  =  ********\n"
        "\n"
        "There is together 1 report\n"
        "---    END\n"
    )


def test_failure_layout_has_zero_reports_and_no_result_block() -> None:
    renderer = ReplyRenderer("HLR9820", clock=lambda: NOON)
    rc = ReturnCodes()[Outcome.SUBSCRIBER_NOT_DEFINED]
    reply = renderer.render('LST SUB:HLRSN=1,ISDN="1";', rc, ok=False, fields=[("X", "1")])
    assert reply.splitlines()[3:] == [
        "RETCODE = 3001  ERR3001:Subscriber not defined",
        "",
        "There is together 0 report",
        "---    END",
    ]


def test_timestamp_follows_the_clock() -> None:
    now = [NOON]
    renderer = ReplyRenderer("HLR9820", clock=lambda: now[0])
    renderer.render("LGO:;", ReturnCode(0, "ok"), ok=True)
    now[0] = NOON + 61
    assert renderer.render("LGO:;", ReturnCode(0, "ok"), ok=True).startswith(
        "+++    HLR9820        2026-11-21 10:01:01\n"
    )


@pytest.mark.parametrize("name", ["", "HLR 9820", "HLR\n9820"])
def test_ne_name_must_fit_the_header(name: str) -> None:
    with pytest.raises(ValueError, match="ne_name"):
        ReplyRenderer(name)


def test_code_table_overrides_and_lookup_by_number() -> None:
    codes = ReturnCodes.from_mapping({"isdn_in_use": {"code": 3102, "text": "ERR3102:MSISDN used"}})
    assert codes[Outcome.ISDN_IN_USE] == ReturnCode(3102, "ERR3102:MSISDN used")
    assert codes[Outcome.SUBSCRIBER_NOT_DEFINED].code == 3001
    assert codes.by_code(5002) == ReturnCode(5002, "ERR5002:Database busy, try again later")
    assert codes.by_code(3009) is None


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"NO_SUCH": {"code": 1, "text": "x"}}, "NO_SUCH"),
        ({"ISDN_IN_USE": {"code": "1", "text": "x"}}, "ISDN_IN_USE.code"),
        ({"ISDN_IN_USE": {"code": 1, "text": "a\nb"}}, "ISDN_IN_USE.text"),
        ({"ISDN_IN_USE": 3009}, "ISDN_IN_USE"),
    ],
)
def test_bad_code_table_names_the_entry(table: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ReturnCodes.from_mapping(table)
