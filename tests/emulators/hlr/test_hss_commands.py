"""The HSS's commands (template change, SMS teleservices, EPS PDN contexts, IMS and VoLTE, CUGs,
push-to-talk): what each does, as LST SUB shows it, and every refusal with its return code."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.hlr import HlrEmulator, Template

from .conftest import IMSI, IMSI2, ISDN, ISDN2, LOGIN, Desk, add_ki, add_sub


def lst(desk: Desk, isdn: str = ISDN) -> dict[str, str]:
    reply = desk.send(f'LST SUB:HLRSN=1,ISDN="{isdn}",DETAIL=TRUE;')
    assert reply.code == 0, reply.raw
    return reply.fields


def cntx(cntxid: int = 1, apn: str = "cmnet", qci: int = 9, ul: int = 50_000_000) -> str:
    return (
        f'ADD PDNCNTX:HLRSN=1,ISDN="{ISDN}",CNTXID={cntxid},APN="{apn}",QCI={qci},'
        f"AMBRUL={ul},AMBRDL=100000000;"
    )


def cug(index: int = 10, interlock: str = "0460A001", restrict: str = "NONE") -> str:
    return (
        f'ADD CUG:HLRSN=1,ISDN="{ISDN}",CUGINDEX={index},INTERLOCK="{interlock}",'
        f"RESTRICT={restrict},ACCESS=OAIA;"
    )


IMS_ON = f'ADD TPLIMSSUB:HLRSN=1,ISDN="{ISDN}",IMSTPLID=1;'
IMS_OFF = f'RMV IMSSUB:HLRSN=1,ISDN="{ISDN}";'
VOLTE_ON = f'MOD VOLTETAG:HLRSN=1,ISDN="{ISDN}",VOLTETAG=TRUE;'
VOLTE_OFF = f'MOD VOLTETAG:HLRSN=1,ISDN="{ISDN}",VOLTETAG=FALSE;'


@pytest.fixture
def subscribed(desk: Desk) -> Desk:
    desk.ok(add_ki(), add_sub())
    return desk


def refused(desk: Desk, text: str, code: int, message: str) -> None:
    """``text`` is answered ``code`` with the table's ``message``, and changes nothing."""
    before = desk.emulator.state.snapshot(reveal_secrets=True)
    reply = desk.send(text)
    assert (reply.code, reply.text, reply.reports) == (code, message, 0), reply.raw
    assert desk.emulator.state.snapshot(reveal_secrets=True) == before


# -- template change ---------------------------------------------------------------------


def test_mod_tplsub_changes_the_template_and_keeps_what_was_set_one_by_one() -> None:
    desk = Desk(HlrEmulator(templates={1: Template(), 3: Template(odboc="BOIC", ts22=False)}))
    desk.ok(LOGIN, add_ki(), add_sub())
    desk.ok(
        f'MOD ODBOC:HLRSN=1,ISDN="{ISDN}",ODBOC=BAOC;',
        f'MOD LCK:HLRSN=1,ISDN="{ISDN}",IC=TRUE;',
        cntx(),
        cug(),
    )
    before = lst(desk)
    desk.ok(f'MOD TPLSUB:HLRSN=1,ISDN="{ISDN}",TPLID=3;')
    after = lst(desk)
    assert after["TPLID"] == "3"
    assert {k: v for k, v in after.items() if k != "TPLID"} == {
        k: v for k, v in before.items() if k != "TPLID"
    }
    desk.ok(f'MOD TPLSUB:HLRSN=1,ISDN="{ISDN}",TPLID=3;')  # the same again: nothing to do
    assert lst(desk)["TPLID"] == "3"


def test_mod_tplsub_to_an_unknown_template_is_3012(subscribed: Desk) -> None:
    refused(
        subscribed,
        f'MOD TPLSUB:HLRSN=1,ISDN="{ISDN}",TPLID=10;',
        3012,
        "ERR3012:Template not defined",
    )


# -- SMS teleservices --------------------------------------------------------------------


def test_mod_ts_switches_sms_mo_and_mt(subscribed: Desk) -> None:
    subscribed.ok(f'MOD TS:HLRSN=1,ISDN="{ISDN}",TS22=FALSE;')
    assert (lst(subscribed)["TS21"], lst(subscribed)["TS22"]) == ("TRUE", "FALSE")
    subscribed.ok(f'MOD TS:HLRSN=1,ISDN="{ISDN}",TS21=FALSE,TS22=TRUE;')
    assert (lst(subscribed)["TS21"], lst(subscribed)["TS22"]) == ("FALSE", "TRUE")


def test_a_template_without_sms() -> None:
    desk = Desk(HlrEmulator(templates={4: Template(ts21=False, ts22=False)}))
    desk.ok(LOGIN, add_ki(), add_sub(tplid=4))
    assert (lst(desk)["TS21"], lst(desk)["TS22"]) == ("FALSE", "FALSE")


# -- EPS PDN contexts --------------------------------------------------------------------


def test_pdn_contexts_are_listed_by_id(subscribed: Desk) -> None:
    subscribed.ok(cntx(2, "IMS", qci=5, ul=256000), cntx(1))
    fields = lst(subscribed)
    assert fields["PDNCNTXNUM"] == "2"
    assert [(k, v) for k, v in fields.items() if k.startswith("PDNCNTX") and k[7:].isdigit()] == [
        ("PDNCNTX1", "APN=cmnet,QCI=9,AMBRUL=50000000,AMBRDL=100000000"),
        ("PDNCNTX2", "APN=ims,QCI=5,AMBRUL=256000,AMBRDL=100000000"),  # APNs in lower case
    ]
    subscribed.ok(f'RMV PDNCNTX:HLRSN=1,ISDN="{ISDN}",CNTXID=2;')
    assert lst(subscribed)["PDNCNTXNUM"] == "1" and "PDNCNTX2" not in lst(subscribed)


def test_a_context_id_twice_is_3008(subscribed: Desk) -> None:
    subscribed.ok(cntx(1))
    refused(subscribed, cntx(1, "other"), 3008, "ERR3008:Record already defined")


def test_an_apn_in_two_contexts_is_3008(subscribed: Desk) -> None:
    subscribed.ok(cntx(1, "cmnet"))
    refused(subscribed, cntx(2, "CMNET"), 3008, "ERR3008:Record already defined")


def test_removing_an_unknown_context_is_3007(subscribed: Desk) -> None:
    refused(
        subscribed,
        f'RMV PDNCNTX:HLRSN=1,ISDN="{ISDN}",CNTXID=5;',
        3007,
        "ERR3007:Record not defined",
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (cntx(0), 1002),
        (cntx(256), 1002),
        (cntx(apn="cm net"), 1002),
        (cntx(apn="-cmnet"), 1002),
        (cntx(apn="a" * 64), 1002),
        (cntx(qci=0), 1002),
        (cntx(qci=255), 1002),
        (cntx(ul=0), 1002),
        (cntx(ul=4_294_967_296), 1002),
        (cntx().replace('APN="cmnet"', "APN=cmnet"), 1002),  # a string is quoted
        (cntx().replace(",QCI=9", ""), 1001),  # every parameter is required
        (f'ADD CUG:HLRSN=1,ISDN="{ISDN}",CUGINDEX=1,INTERLOCK="0460A01",RESTRICT=NONE,'
         "ACCESS=OA;", 1002),
        (cug(index=32768), 1002),
        (cug(restrict="ALL"), 1002),
        (cug().replace("ACCESS=OAIA", "ACCESS=oa"), 1002),
        (f'MOD PTT:HLRSN=1,ISDN="{ISDN}",PROV=TRUE;', 1001),  # which group?
        (f'MOD PTT:HLRSN=1,ISDN="{ISDN}",PROV=FALSE,PTTGRP="G1";', 1002),
        (f'MOD PTT:HLRSN=1,ISDN="{ISDN}",PROV=TRUE,PTTGRP="G 1";', 1002),
        (f'MOD TS:HLRSN=1,ISDN="{ISDN}";', 1001),  # at least one teleservice
        (f'MOD TS:HLRSN=1,ISDN="{ISDN}",TS11=FALSE;', 1001),  # only SMS here
        (f'MOD VOLTETAG:HLRSN=1,ISDN="{ISDN}",VOLTETAG=YES;', 1002),
        (f'MOD TPLSUB:HLRSN=1,ISDN="{ISDN}",TPLID=0;', 1002),
    ],
)  # fmt: skip
def test_parameter_errors(subscribed: Desk, text: str, code: int) -> None:
    before = subscribed.emulator.state.snapshot(reveal_secrets=True)
    assert subscribed.code(text) == code
    assert subscribed.emulator.state.snapshot(reveal_secrets=True) == before


# -- IMS and VoLTE -----------------------------------------------------------------------


def test_volte_on_and_off(subscribed: Desk) -> None:
    subscribed.ok(cntx(2, "ims", qci=5), IMS_ON, VOLTE_ON)
    fields = lst(subscribed)
    assert (fields["IMS"], fields["IMSTPLID"], fields["VOLTE"]) == ("TRUE", "1", "TRUE")
    assert fields["IMPU"] == f"tel:+{ISDN}"
    subscribed.ok(VOLTE_OFF, IMS_OFF)
    fields = lst(subscribed)
    assert (fields["IMS"], fields["IMPU"], fields["VOLTE"]) == ("FALSE", "NONE", "FALSE")


def test_the_public_identity_follows_a_number_change(subscribed: Desk) -> None:
    subscribed.ok(IMS_ON, f'MOD ISDN:HLRSN=1,ISDN="{ISDN}",NEWISDN="{ISDN2}";')
    assert lst(subscribed, ISDN2)["IMPU"] == f"tel:+{ISDN2}"


def test_volte_without_eps_data_is_3017(subscribed: Desk) -> None:
    subscribed.ok(IMS_ON)
    refused(subscribed, VOLTE_ON, 3017, "ERR3017:No EPS data")


def test_volte_without_an_ims_subscription_is_3007(subscribed: Desk) -> None:
    subscribed.ok(cntx())
    refused(subscribed, VOLTE_ON, 3007, "ERR3007:Record not defined")
    refused(subscribed, VOLTE_OFF, 3007, "ERR3007:Record not defined")


def test_an_ims_subscription_twice_is_3008_and_none_to_remove_is_3007(subscribed: Desk) -> None:
    refused(subscribed, IMS_OFF, 3007, "ERR3007:Record not defined")
    subscribed.ok(IMS_ON)
    refused(subscribed, IMS_ON, 3008, "ERR3008:Record already defined")


def test_what_volte_needs_stays_while_volte_is_on(subscribed: Desk) -> None:
    subscribed.ok(cntx(1), cntx(2, "ims"), IMS_ON, VOLTE_ON)
    subscribed.ok(f'RMV PDNCNTX:HLRSN=1,ISDN="{ISDN}",CNTXID=1;')  # not the last one
    last = f'RMV PDNCNTX:HLRSN=1,ISDN="{ISDN}",CNTXID=2;'
    refused(subscribed, last, 3018, "ERR3018:Needed by VoLTE")
    refused(subscribed, IMS_OFF, 3018, "ERR3018:Needed by VoLTE")
    subscribed.ok(VOLTE_OFF, last, IMS_OFF)


# -- closed user groups ------------------------------------------------------------------


def test_cugs_are_listed_by_index(subscribed: Desk) -> None:
    subscribed.ok(cug(10, "0460a001", "OCB"), cug(3, "04600003"))
    fields = lst(subscribed)
    assert fields["CUGNUM"] == "2"
    assert [(k, v) for k, v in fields.items() if k.startswith("CUG") and k[3:].isdigit()] == [
        ("CUG3", "INTERLOCK=04600003,RESTRICT=NONE,ACCESS=OAIA"),
        ("CUG10", "INTERLOCK=0460A001,RESTRICT=OCB,ACCESS=OAIA"),  # hex in upper case
    ]
    subscribed.ok(f'RMV CUG:HLRSN=1,ISDN="{ISDN}",CUGINDEX=3;')
    assert lst(subscribed)["CUGNUM"] == "1" and "CUG3" not in lst(subscribed)


def test_a_cug_index_twice_is_3008(subscribed: Desk) -> None:
    subscribed.ok(cug(10))
    refused(subscribed, cug(10, "04600002"), 3008, "ERR3008:Record already defined")


def test_one_group_under_two_indexes_is_3008(subscribed: Desk) -> None:
    subscribed.ok(cug(10, "0460A001"))
    refused(subscribed, cug(11, "0460a001"), 3008, "ERR3008:Record already defined")


def test_an_eleventh_cug_is_3019(subscribed: Desk) -> None:
    subscribed.ok(*(cug(i, f"{i:08X}") for i in range(10)))
    refused(subscribed, cug(10, "0000000A"), 3019, "ERR3019:Too many CUGs")


def test_removing_an_unknown_cug_is_3007(subscribed: Desk) -> None:
    refused(
        subscribed,
        f'RMV CUG:HLRSN=1,ISDN="{ISDN}",CUGINDEX=10;',
        3007,
        "ERR3007:Record not defined",
    )


# -- push-to-talk ------------------------------------------------------------------------


def test_push_to_talk_on_moved_and_off(subscribed: Desk) -> None:
    subscribed.ok(f'MOD PTT:HLRSN=1,ISDN="{ISDN}",PROV=TRUE,PTTGRP="G-1";')
    assert (lst(subscribed)["PTT"], lst(subscribed)["PTTGRP"]) == ("TRUE", "G-1")
    subscribed.ok(f'MOD PTT:HLRSN=1,ISDN="{ISDN}",PROV=TRUE,PTTGRP="G_2";')
    assert lst(subscribed)["PTTGRP"] == "G_2"
    subscribed.ok(f'MOD PTT:HLRSN=1,ISDN="{ISDN}",PROV=FALSE;')
    assert (lst(subscribed)["PTT"], lst(subscribed)["PTTGRP"]) == ("FALSE", "NONE")


# -- every command on an unknown subscriber, and what a removal takes with it ---------------


@pytest.mark.parametrize(
    "text",
    [
        f'MOD TPLSUB:HLRSN=1,ISDN="{ISDN2}",TPLID=1;',
        f'MOD TS:HLRSN=1,ISDN="{ISDN2}",TS21=TRUE;',
        cntx().replace(ISDN, ISDN2),
        f'RMV PDNCNTX:HLRSN=1,ISDN="{ISDN2}",CNTXID=1;',
        IMS_ON.replace(ISDN, ISDN2),
        IMS_OFF.replace(ISDN, ISDN2),
        VOLTE_ON.replace(ISDN, ISDN2),
        cug().replace(ISDN, ISDN2),
        f'RMV CUG:HLRSN=1,ISDN="{ISDN2}",CUGINDEX=1;',
        f'MOD PTT:HLRSN=1,ISDN="{ISDN2}",PROV=FALSE;',
    ],
)
def test_unknown_subscriber_is_3001(subscribed: Desk, text: str) -> None:
    refused(subscribed, text, 3001, "ERR3001:Subscriber not defined")


def test_a_removed_subscriber_takes_its_services_along(subscribed: Desk) -> None:
    subscribed.ok(
        cntx(), IMS_ON, VOLTE_ON, cug(), f'MOD PTT:HLRSN=1,ISDN="{ISDN}",PROV=TRUE,PTTGRP="G";'
    )
    subscribed.ok(f'RMV SUB:HLRSN=1,ISDN="{ISDN}";', add_ki(IMSI2), add_sub(IMSI2, ISDN))
    fields = lst(subscribed)
    assert (fields["IMSI"], fields["PDNCNTXNUM"], fields["IMS"], fields["CUGNUM"]) == (
        IMSI2,
        "0",
        "FALSE",
        "0",
    )
    assert fields["PTT"] == "FALSE"


def test_a_sim_swap_keeps_the_services(subscribed: Desk) -> None:
    subscribed.ok(cntx(), cug(), add_ki(IMSI2))
    subscribed.ok(f'MOD IMSI:HLRSN=1,ISDN="{ISDN}",NEWIMSI="{IMSI2}";')
    fields = lst(subscribed)
    assert (fields["IMSI"], fields["PDNCNTXNUM"], fields["CUGNUM"]) == (IMSI2, "1", "1")
    assert IMSI not in subscribed.emulator.state.snapshot()["subscribers"]


def test_the_contracts_example_session_is_what_the_emulator_answers(subscribed: Desk) -> None:
    """docs/dialects/huawei-mml.md shows a session command by command with its RETCODE line;
    replayed here, each answer must be the one shown (the doc cannot drift from the code)."""
    doc = (Path(__file__).parents[3] / "docs" / "dialects" / "huawei-mml.md").read_text()
    session = doc.split("An example session (a tariff change", 1)[1].split("```\n", 2)[1]
    lines = session.splitlines()
    assert len(lines) >= 20 and len(lines) % 2 == 0
    for command, shown in zip(lines[::2], lines[1::2], strict=True):
        reply = subscribed.send(command)
        assert f"RETCODE = {reply.code}  {reply.text}" == shown.split("  (")[0].rstrip(), command
