"""Every command of the contract, its success and its error codes, driven in-process."""

from __future__ import annotations

import json

import pytest

from emulators.hlr import Account, HlrEmulator, ReturnCode, ReturnCodes, Template
from emulators.hlr.codes import Outcome

from .conftest import IMSI, IMSI2, ISDN, ISDN2, KI, LOGIN, OPC, Desk, add_ki, add_sub

SIM_KI = (
    'ADD KI:HLRSN=1,IMSI="{imsi}",OPERTYPE=ADD,KIVALUE="{ki}",K4SNO=0,CARDTYPE=SIM,ALG=COMP128_1;'
)


@pytest.fixture
def subscribed(desk: Desk) -> Desk:
    desk.ok(add_ki(), add_sub())
    return desk


def lst_sub(desk: Desk, isdn: str = ISDN) -> dict[str, str]:
    reply = desk.send(f'LST SUB:HLRSN=1,ISDN="{isdn}",DETAIL=TRUE;')
    assert reply.code == 0, reply.raw
    return reply.fields


# -- login -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", [add_ki(), 'LST SUB:HLRSN=1,ISDN="1";', "LGO:;", "EXP STATE:;", "LST EMUFAULT:;"]
)
def test_commands_before_login_get_1006_and_do_nothing(emulator: HlrEmulator, text: str) -> None:
    desk = Desk(emulator)
    assert desk.code(text) == 1006
    assert emulator.state.snapshot() == {"ki": {}, "subscribers": {}}


@pytest.mark.parametrize(
    "text",
    [
        'LGI:HLRSN=1,OPNAME="provgw",PWD="wrong";',
        'LGI:HLRSN=1,OPNAME="nobody",PWD="provgw";',
    ],
)
def test_wrong_operator_or_password_is_1018_and_stays_logged_out(
    emulator: HlrEmulator, text: str
) -> None:
    desk = Desk(emulator)
    reply = desk.send(text)
    assert (reply.code, reply.text) == (1018, "ERR1018:Incorrect user name or password")
    assert 'PWD="****"' in reply.echo
    assert desk.code('LST SUB:HLRSN=1,ISDN="1";') == 1006


def test_unknown_command_is_1001_even_before_login(emulator: HlrEmulator) -> None:
    assert Desk(emulator).code('DSP SUB:HLRSN=1,ISDN="1";') == 1001


def test_operators_are_separate_from_ssh_users() -> None:
    emulator = HlrEmulator(
        users={"ssh": Account("ssh-pw")}, operators={"op": Account("op-pw", admin=False)}
    )
    desk = Desk(emulator)
    assert desk.code('LGI:HLRSN=1,OPNAME="ssh",PWD="ssh-pw";') == 1018
    assert desk.code('LGI:HLRSN=1,OPNAME="op",PWD="op-pw";') == 0
    assert desk.code("LST EMUFAULT:;") == 1006  # not admin


def test_lgo_replies_and_asks_to_close(desk: Desk) -> None:
    answer = desk.session.handle("LGO:;")
    assert answer.close_channel
    assert answer.reply is not None and "RETCODE = 0  Operation succeeded" in answer.reply


# -- parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('LST SUB:ISDN="1";', 1001),  # HLRSN missing
        ('LST SUB:HLRSN=2,ISDN="1";', 1002),
        ('LST SUB:HLRSN=1,ISDN="1",FOO=1;', 1001),  # unknown parameter
        ("LST SUB:HLRSN=1;", 1001),  # neither ISDN nor IMSI
        (f'LST SUB:HLRSN=1,ISDN="1",IMSI="{IMSI}";', 1001),  # both
        ("LST SUB:HLRSN=1,ISDN=8613800000001;", 1002),  # unquoted string
        ('LST SUB:HLRSN=1,ISDN="+8613800000001";', 1002),
        ('LST SUB:HLRSN=1,ISDN="1234567890123456";', 1002),  # 16 digits
        ('LST SUB:HLRSN=1,IMSI="46000123456789";', 1002),  # 14 digits
        ('LST SUB:HLRSN=1,ISDN="1",DETAIL="TRUE";', 1002),  # quoted boolean
        ('LST SUB:HLRSN=1,ISDN="1",DETAIL=true;', 1002),  # values are case-sensitive
        (add_sub(tplid=0), 1002),
        ('ADD TPLSUB:HLRSN=1,IMSI="460001234567890",ISDN="1",TPLID="1";', 1002),
        ('MOD ODBIC:HLRSN=1,ISDN="1",ODBIC=baic;', 1002),
        ('MOD ODBIC:HLRSN=1,ISDN="1",ODBIC="BAIC";', 1002),
        ('MOD NAM:HLRSN=1,ISDN="1",NAM=ALL;', 1002),
        ('MOD LCK:HLRSN=1,ISDN="1";', 1001),  # at least one lock
        ('REG CFU:HLRSN=1,ISDN="1",FTN="12a";', 1002),
    ],
)
def test_parameter_errors(subscribed: Desk, text: str, code: int) -> None:
    before = subscribed.emulator.state.snapshot(reveal_secrets=True)
    assert subscribed.code(text) == code
    assert subscribed.emulator.state.snapshot(reveal_secrets=True) == before


# -- KI ----------------------------------------------------------------------------------


def test_add_ki_stores_the_keys_as_given_and_never_shows_them(desk: Desk) -> None:
    reply = desk.send(add_ki())
    assert reply.code == 0
    assert KI not in reply.raw and OPC not in reply.raw
    assert 'KIVALUE="****"' in reply.echo and 'OPCVALUE="****"' in reply.echo
    assert desk.emulator.state.snapshot(reveal_secrets=True)["ki"][IMSI] == {
        "imsi": IMSI,
        "cardtype": "USIM",
        "alg": "MILENAGE",
        "k4sno": 1,
        "ki": KI,
        "opc": OPC,
        "sqn": 0,
    }
    assert desk.emulator.state.snapshot()["ki"][IMSI]["ki"] == "****"


def test_add_ki_for_a_2g_sim(desk: Desk) -> None:
    desk.ok(SIM_KI.format(imsi=IMSI, ki=KI))
    reply = desk.send(f'LST KI:HLRSN=1,IMSI="{IMSI}";')
    assert list(reply.fields.items()) == [
        ("IMSI", IMSI),
        ("CARDTYPE", "SIM"),
        ("ALG", "COMP128_1"),
        ("K4SNO", "0"),
        ("KIVALUE", "********"),
    ]


def test_add_ki_twice_is_3008(desk: Desk) -> None:
    desk.ok(add_ki())
    reply = desk.send(add_ki())
    assert (reply.code, reply.text) == (3008, "ERR3008:Record already defined")


@pytest.mark.parametrize(
    "text",
    [
        add_ki().replace("ALG=MILENAGE", "ALG=COMP128_2"),  # 2G algorithm on a USIM
        SIM_KI.format(imsi=IMSI, ki=KI).replace(";", f',OPCVALUE="{OPC}";'),  # OPc on COMP128
        add_ki().replace(KI, "465B5CE8B199B49FAA5F0A2EE238A6BG"),  # not hex
        add_ki().replace(KI, KI[:-2]),  # 30 digits
        add_ki().replace("OPERTYPE=ADD", "OPERTYPE=MOD"),
        add_ki().replace("K4SNO=1", "K4SNO=-1"),
    ],
)
def test_add_ki_invalid_values_are_1002_and_masked(desk: Desk, text: str) -> None:
    reply = desk.send(text)
    assert reply.code in (1001, 1002)
    assert KI[:8] not in reply.raw and OPC[:8] not in reply.raw
    assert desk.emulator.state.snapshot()["ki"] == {}


def test_add_ki_without_key_is_1001(desk: Desk) -> None:
    text = f'ADD KI:HLRSN=1,IMSI="{IMSI}",OPERTYPE=ADD,K4SNO=1,CARDTYPE=USIM,ALG=MILENAGE;'
    assert desk.code(text) == 1001


def test_rmv_ki(desk: Desk) -> None:
    desk.ok(add_ki(), f'RMV KI:HLRSN=1,IMSI="{IMSI}";')
    assert desk.code(f'LST KI:HLRSN=1,IMSI="{IMSI}";') == 3007
    assert desk.code(f'RMV KI:HLRSN=1,IMSI="{IMSI}";') == 3007


def test_rmv_ki_in_use_is_3010(subscribed: Desk) -> None:
    reply = subscribed.send(f'RMV KI:HLRSN=1,IMSI="{IMSI}";')
    assert (reply.code, reply.text) == (3010, "ERR3010:KI in use by a subscriber")
    assert IMSI in subscribed.emulator.state.snapshot()["ki"]


# -- subscribers -------------------------------------------------------------------------


def test_add_tplsub_from_template_1(subscribed: Desk) -> None:
    assert list(lst_sub(subscribed).items()) == [
        ("IMSI", IMSI),
        ("ISDN", ISDN),
        ("TPLID", "1"),
        ("CARDTYPE", "USIM"),
        ("NAM", "BOTH"),
        ("IC", "FALSE"),
        ("OC", "FALSE"),
        ("GPRSLOCK", "FALSE"),
        ("ODBIC", "NOBIC"),
        ("ODBOC", "NOBOC"),
        ("ODBROAM", "NOBAR"),
        ("CFU", "NOTREG"),
        ("CFB", "NOTREG"),
        ("CFNRY", "NOTREG"),
        ("CFNRC", "NOTREG"),
        ("GPRS", "FALSE"),
        ("GPRSTPLID", "NONE"),
        ("TS21", "TRUE"),
        ("TS22", "TRUE"),
        ("PDNCNTXNUM", "0"),
        ("IMS", "FALSE"),
        ("IMSTPLID", "NONE"),
        ("IMPU", "NONE"),
        ("VOLTE", "FALSE"),
        ("CUGNUM", "0"),
        ("PTT", "FALSE"),
        ("PTTGRP", "NONE"),
    ]


def test_template_2_provisions_packet_data(desk: Desk) -> None:
    desk.ok(add_ki(), add_sub(tplid=2))
    fields = lst_sub(desk)
    assert (fields["TPLID"], fields["GPRS"], fields["GPRSTPLID"]) == ("2", "TRUE", "1")


def test_add_tplsub_without_ki_is_3007(desk: Desk) -> None:
    assert desk.code(add_sub()) == 3007


def test_add_tplsub_twice_for_an_imsi_is_3002(subscribed: Desk) -> None:
    reply = subscribed.send(add_sub(isdn=ISDN2))
    assert (reply.code, reply.text) == (3002, "ERR3002:Subscriber already defined")


def test_add_tplsub_with_a_used_isdn_is_3009(subscribed: Desk) -> None:
    subscribed.ok(add_ki(IMSI2))
    assert subscribed.code(add_sub(IMSI2, ISDN)) == 3009


def test_add_tplsub_with_unknown_template_is_3012(desk: Desk) -> None:
    desk.ok(add_ki())
    reply = desk.send(add_sub(tplid=10))
    assert (reply.code, reply.text) == (3012, "ERR3012:Template not defined")


def test_configured_templates_replace_the_defaults() -> None:
    desk = Desk(HlrEmulator(templates={5: Template(nam="MSC", odboc="BOIC")}))
    desk.ok(LOGIN, add_ki())
    assert desk.code(add_sub(tplid=1)) == 3012
    desk.ok(add_sub(tplid=5))
    fields = lst_sub(desk)
    assert (fields["NAM"], fields["ODBOC"], fields["TPLID"]) == ("MSC", "BOIC", "5")


def test_lst_sub_by_imsi(subscribed: Desk) -> None:
    reply = subscribed.send(f'LST SUB:HLRSN=1,IMSI="{IMSI}";')
    assert reply.fields["ISDN"] == ISDN


def test_rmv_sub_by_isdn_keeps_the_ki(subscribed: Desk) -> None:
    subscribed.ok(f'RMV SUB:HLRSN=1,ISDN="{ISDN}";')
    snapshot = subscribed.emulator.state.snapshot()
    assert snapshot["subscribers"] == {} and IMSI in snapshot["ki"]
    assert subscribed.code(f'RMV SUB:HLRSN=1,ISDN="{ISDN}";') == 3001


def test_rmv_sub_by_imsi_with_rmvki_removes_both(subscribed: Desk) -> None:
    subscribed.ok(f'RMV SUB:HLRSN=1,IMSI="{IMSI}",RMVKI=TRUE;')
    assert subscribed.emulator.state.snapshot() == {"ki": {}, "subscribers": {}}
    # the ISDN is free again
    subscribed.ok(add_ki(IMSI2), add_sub(IMSI2, ISDN))


@pytest.mark.parametrize(
    "text",
    [
        f'RMV SUB:HLRSN=1,IMSI="{IMSI2}";',
        f'LST SUB:HLRSN=1,IMSI="{IMSI2}";',
        f'LST SUB:HLRSN=1,ISDN="{ISDN2}",DETAIL=TRUE;',
        f'MOD LCK:HLRSN=1,ISDN="{ISDN2}",IC=TRUE;',
        f'MOD ODBIC:HLRSN=1,ISDN="{ISDN2}",ODBIC=BAIC;',
        f'MOD ODBOC:HLRSN=1,ISDN="{ISDN2}",ODBOC=BAOC;',
        f'MOD ODBROAM:HLRSN=1,ISDN="{ISDN2}",ODBROAM=BROHPLMN;',
        f'REG CFU:HLRSN=1,ISDN="{ISDN2}",FTN="8613900000000";',
        f'ERA CFB:HLRSN=1,ISDN="{ISDN2}";',
        f'MOD NAM:HLRSN=1,ISDN="{ISDN2}",NAM=MSC;',
        f'MOD TPLGPRS:HLRSN=1,ISDN="{ISDN2}",PROV=TRUE;',
        f'MOD ISDN:HLRSN=1,ISDN="{ISDN2}",NEWISDN="8613800000003";',
        f'MOD IMSI:HLRSN=1,ISDN="{ISDN2}",NEWIMSI="{IMSI}";',
    ],
)
def test_unknown_subscriber_is_3001(subscribed: Desk, text: str) -> None:
    reply = subscribed.send(text)
    assert (reply.code, reply.text) == (3001, "ERR3001:Subscriber not defined")


# -- service data ------------------------------------------------------------------------


def test_mod_lck_sets_only_the_named_locks(subscribed: Desk) -> None:
    subscribed.ok(f'MOD LCK:HLRSN=1,ISDN="{ISDN}",IC=TRUE,GPRSLOCK=TRUE;')
    fields = lst_sub(subscribed)
    assert (fields["IC"], fields["OC"], fields["GPRSLOCK"]) == ("TRUE", "FALSE", "TRUE")
    subscribed.ok(f'MOD LCK:HLRSN=1,ISDN="{ISDN}",IC=FALSE,OC=TRUE;')
    fields = lst_sub(subscribed)
    assert (fields["IC"], fields["OC"], fields["GPRSLOCK"]) == ("FALSE", "TRUE", "TRUE")


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("ODBIC", ["BAIC", "BICROAM", "NOBIC"]),
        ("ODBOC", ["BAOC", "BOIC", "BOICEXHC", "BOCROAM", "NOBOC"]),
        ("ODBROAM", ["BROHPLMN", "BROHPLMNC", "BROHPLMNCGPRS", "NOBAR"]),
        ("NAM", ["MSC", "SGSN", "BOTH"]),
    ],
)
def test_mod_barring_and_nam(subscribed: Desk, name: str, values: list[str]) -> None:
    for value in values:
        subscribed.ok(f'MOD {name}:HLRSN=1,ISDN="{ISDN}",{name}={value};')
        assert lst_sub(subscribed)[name] == value


@pytest.mark.parametrize("kind", ["CFU", "CFB", "CFNRY", "CFNRC"])
def test_register_and_erase_forwarding(subscribed: Desk, kind: str) -> None:
    subscribed.ok(f'REG {kind}:HLRSN=1,ISDN="{ISDN}",FTN="8613900000000";')
    assert lst_sub(subscribed)[kind] == "8613900000000"
    subscribed.ok(f'REG {kind}:HLRSN=1,ISDN="{ISDN}",FTN="8613900000001";')  # re-register
    assert lst_sub(subscribed)[kind] == "8613900000001"
    subscribed.ok(f'ERA {kind}:HLRSN=1,ISDN="{ISDN}";')
    assert lst_sub(subscribed)[kind] == "NOTREG"
    reply = subscribed.send(f'ERA {kind}:HLRSN=1,ISDN="{ISDN}";')
    assert (reply.code, reply.text) == (3014, "ERR3014:Supplementary service not registered")


def test_mod_tplgprs(subscribed: Desk) -> None:
    subscribed.ok(f'MOD TPLGPRS:HLRSN=1,ISDN="{ISDN}",PROV=TRUE;')
    assert (lst_sub(subscribed)["GPRS"], lst_sub(subscribed)["GPRSTPLID"]) == ("TRUE", "1")
    subscribed.ok(f'MOD TPLGPRS:HLRSN=1,ISDN="{ISDN}",PROV=TRUE,TPLID=3;')
    assert lst_sub(subscribed)["GPRSTPLID"] == "3"
    subscribed.ok(f'MOD TPLGPRS:HLRSN=1,ISDN="{ISDN}",PROV=TRUE;')  # keeps the data template
    assert lst_sub(subscribed)["GPRSTPLID"] == "3"
    assert subscribed.code(f'MOD TPLGPRS:HLRSN=1,ISDN="{ISDN}",PROV=FALSE,TPLID=3;') == 1002
    subscribed.ok(f'MOD TPLGPRS:HLRSN=1,ISDN="{ISDN}",PROV=FALSE;')
    assert (lst_sub(subscribed)["GPRS"], lst_sub(subscribed)["GPRSTPLID"]) == ("FALSE", "NONE")


# -- number change and SIM swap ----------------------------------------------------------


def test_mod_isdn(subscribed: Desk) -> None:
    subscribed.ok(f'MOD ISDN:HLRSN=1,ISDN="{ISDN}",NEWISDN="{ISDN2}";')
    assert lst_sub(subscribed, ISDN2)["IMSI"] == IMSI
    assert subscribed.code(f'LST SUB:HLRSN=1,ISDN="{ISDN}";') == 3001
    subscribed.ok(add_ki(IMSI2), add_sub(IMSI2, ISDN))  # the old number is free


def test_mod_isdn_to_a_used_isdn_is_3009(subscribed: Desk) -> None:
    subscribed.ok(add_ki(IMSI2), add_sub(IMSI2, ISDN2))
    reply = subscribed.send(f'MOD ISDN:HLRSN=1,ISDN="{ISDN}",NEWISDN="{ISDN2}";')
    assert (reply.code, reply.text) == (3009, "ERR3009:ISDN already in use")
    assert lst_sub(subscribed, ISDN)["IMSI"] == IMSI
    assert lst_sub(subscribed, ISDN2)["IMSI"] == IMSI2


def test_mod_imsi_moves_to_the_new_ki_and_keeps_the_old_one(subscribed: Desk) -> None:
    subscribed.ok(SIM_KI.format(imsi=IMSI2, ki=KI))
    subscribed.ok(f'MOD IMSI:HLRSN=1,ISDN="{ISDN}",NEWIMSI="{IMSI2}";')
    fields = lst_sub(subscribed)
    assert (fields["IMSI"], fields["CARDTYPE"]) == (IMSI2, "SIM")
    snapshot = subscribed.emulator.state.snapshot()
    assert list(snapshot["subscribers"]) == [IMSI2]
    assert set(snapshot["ki"]) == {IMSI, IMSI2}
    subscribed.ok(f'RMV KI:HLRSN=1,IMSI="{IMSI}";')  # the old KI is no longer in use


def test_mod_imsi_without_ki_is_3007(subscribed: Desk) -> None:
    assert subscribed.code(f'MOD IMSI:HLRSN=1,ISDN="{ISDN}",NEWIMSI="{IMSI2}";') == 3007


def test_mod_imsi_to_a_subscribed_imsi_is_3002(subscribed: Desk) -> None:
    subscribed.ok(add_ki(IMSI2), add_sub(IMSI2, ISDN2))
    assert subscribed.code(f'MOD IMSI:HLRSN=1,ISDN="{ISDN}",NEWIMSI="{IMSI2}";') == 3002
    assert subscribed.code(f'MOD IMSI:HLRSN=1,ISDN="{ISDN}",NEWIMSI="{IMSI}";') == 3002


@pytest.mark.parametrize(
    "text",
    [
        add_ki(),
        add_sub(),
        add_sub(IMSI2, ISDN2),
        f'RMV KI:HLRSN=1,IMSI="{IMSI}";',
        f'MOD ISDN:HLRSN=1,ISDN="{ISDN}",NEWISDN="{ISDN}";',
        f'MOD IMSI:HLRSN=1,ISDN="{ISDN}",NEWIMSI="{IMSI2}";',
        f'ERA CFU:HLRSN=1,ISDN="{ISDN}";',
        f'MOD TPLGPRS:HLRSN=1,ISDN="{ISDN}",PROV=FALSE,TPLID=1;',
        f'MOD LCK:HLRSN=1,ISDN="{ISDN}",IC=TRUE,OC=maybe;',
    ],
)
def test_failing_commands_change_nothing(subscribed: Desk, text: str) -> None:
    before = subscribed.emulator.state.snapshot(reveal_secrets=True)
    assert subscribed.code(text) != 0
    assert subscribed.emulator.state.snapshot(reveal_secrets=True) == before


def test_replaced_code_table_is_used() -> None:
    codes = ReturnCodes({Outcome.ISDN_IN_USE: ReturnCode(3102, "ERR3102:MSISDN exists")})
    desk = Desk(HlrEmulator(codes=codes))
    desk.ok(LOGIN, add_ki(), add_sub(), add_ki(IMSI2))
    reply = desk.send(add_sub(IMSI2, ISDN))
    assert (reply.code, reply.text) == (3102, "ERR3102:MSISDN exists")


# -- engineer commands -------------------------------------------------------------------


def test_exp_state_is_the_masked_snapshot(subscribed: Desk) -> None:
    reply = subscribed.send("EXP STATE:;")
    assert list(reply.fields) == ["STATE"]
    assert json.loads(reply.fields["STATE"]) == subscribed.emulator.state.snapshot()
    assert KI not in reply.raw and OPC not in reply.raw


def test_set_and_lst_emufault(desk: Desk) -> None:
    desk.ok(
        "SET EMUFAULT:LATENCY=20,JITTER=5,SPIKERATE=0.02,SPIKE=500,ERRRATE=0.1,ERRCODE=5002,"
        "DROPRATE=0,STUCKAFTER=7,OUTAGEDUR=30;"
    )
    faults = desk.emulator.faults
    assert (faults.latency_ms, faults.jitter_ms, faults.error_rate) == (20, 5, 0.1)
    assert (faults.spike_rate, faults.spike_ms) == (0.02, 500)
    assert (faults.error_code, faults.drop_rate, faults.stuck_after) == (5002, 0, 7)
    assert (faults.outage, faults.outage_s) == (False, 30)
    assert desk.send("LST EMUFAULT:;").fields == {
        "LATENCY": "20",
        "JITTER": "5",
        "SPIKERATE": "0.02",
        "SPIKE": "500",
        "ERRRATE": "0.1",
        "ERRCODE": "5002",
        "DROPRATE": "0",
        "STUCKAFTER": "7",
        "OUTAGE": "0",
        "OUTAGEDUR": "30",
    }


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SET EMUFAULT:;", 1001),
        ("SET EMUFAULT:ERRRATE=1.5;", 1002),
        ("SET EMUFAULT:ERRRATE=0.5,DROPRATE=2;", 1002),
        ('SET EMUFAULT:LATENCY="20";', 1002),
        ("SET EMUFAULT:LATENCY=-1;", 1001),
        ("SET EMUFAULT:NOISE=1;", 1001),
        ("SET EMUFAULT:OUTAGE=2;", 1002),
        ("SET EMUFAULT:OUTAGE=1,OUTAGEDUR=86401;", 1002),
    ],
)
def test_bad_emufault_changes_nothing(desk: Desk, text: str, code: int) -> None:
    assert desk.code(text) == code
    assert desk.emulator.faults.error_rate == 0


def test_engineer_commands_need_an_admin_operator() -> None:
    desk = Desk(HlrEmulator(users={"op": Account("pw")}))
    desk.ok('LGI:HLRSN=1,OPNAME="op",PWD="pw";')
    for text in ("SET EMUFAULT:ERRRATE=1;", "LST EMUFAULT:;", "EXP STATE:;"):
        assert desk.code(text) == 1006
    assert desk.emulator.faults.error_rate == 0


# -- faults, in-process ------------------------------------------------------------------


def test_error_rate_1_refuses_without_executing(subscribed: Desk) -> None:
    subscribed.emulator.faults.update(error_rate=1.0)
    before = subscribed.emulator.state.snapshot(reveal_secrets=True)
    commands = (add_ki(IMSI2), f'RMV SUB:HLRSN=1,ISDN="{ISDN}";', f'LST SUB:HLRSN=1,ISDN="{ISDN}";')
    for text in commands:
        reply = subscribed.send(text)
        assert (reply.code, reply.text, reply.reports) == (5001, "ERR5001:System busy", 0)
    assert subscribed.emulator.state.snapshot(reveal_secrets=True) == before
    # login, logout and the engineer commands are spared, so faults can be switched off
    assert subscribed.code(LOGIN) == 0
    subscribed.ok("SET EMUFAULT:ERRRATE=0;")
    subscribed.ok(f'LST SUB:HLRSN=1,ISDN="{ISDN}";')


def test_injected_code_outside_the_table_gets_a_generic_text(desk: Desk) -> None:
    desk.emulator.faults.update(error_rate=1.0, error_code=7777)
    reply = desk.send(add_ki())
    assert (reply.code, reply.text) == (7777, "ERR7777:Injected fault")


def test_drop_executes_then_asks_to_cut_the_connection(desk: Desk) -> None:
    desk.emulator.faults.update(drop_rate=1.0)
    answer = desk.session.handle(add_ki())
    assert answer.drop_connection and answer.reply is None
    assert IMSI in desk.emulator.state.snapshot()["ki"]


def test_stuck_session_stops_answering_after_n_provisioning_commands(desk: Desk) -> None:
    desk.emulator.faults.update(stuck_after=2)
    desk.ok(add_ki(), LOGIN, add_sub())  # LGI does not count
    assert desk.session.handle(f'LST SUB:HLRSN=1,ISDN="{ISDN}";').reply is None
    assert desk.session.handle("LST EMUFAULT:;").reply is None
    fresh = Desk(desk.emulator)
    fresh.ok(LOGIN, f'LST SUB:HLRSN=1,ISDN="{ISDN}";')


def test_faults_update_is_checked_and_all_or_nothing(emulator: HlrEmulator) -> None:
    faults = emulator.faults
    with pytest.raises(ValueError, match="drop_rate"):
        faults.update(error_rate=0.5, drop_rate=1.5)
    with pytest.raises(ValueError, match="latency_ms"):
        faults.update(latency_ms=float("nan"))
    with pytest.raises(ValueError, match="noise"):
        faults.update(noise=1)
    assert faults.error_rate == 0
    faults.update(error_rate=0.5, latency_ms=3)
    faults.clear()
    assert faults.settings() == type(faults)().settings()
