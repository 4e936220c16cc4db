"""The MML codec against the contract's own examples (docs/dialects/huawei-mml.md)."""

from __future__ import annotations

import pytest

from adapters.huawei_mml import mml
from adapters.network_element import NotSupported
from gateway.operations import (
    AddApn,
    AddCug,
    ApnProfile,
    BarIncoming,
    BarOutgoing,
    BarRoaming,
    ChangeMsisdn,
    ChangeTemplate,
    CreateSubscriber,
    Cug,
    CugAccess,
    CugRestriction,
    EraseForwarding,
    ForwardingKind,
    LoadAuth,
    Lock,
    Lookup,
    NetworkAccess,
    Operation,
    OtaRead,
    OtaUpdate,
    Outcome,
    RegisterForwarding,
    RemoveApn,
    RemoveAuth,
    RemoveCug,
    RemoveSubscriber,
    SendSms,
    SetData,
    SetImsSubscription,
    SetIncomingBarring,
    SetLock,
    SetNetworkAccess,
    SetOutgoingBarring,
    SetPushToTalk,
    SetRoamingBarring,
    SetSmsBarring,
    SetSmsService,
    SetVolte,
    SubscriberView,
    SwapImsi,
)
from tests.adapters.conformance.conftest import OTA_CARD

IMSI = "460001234567890"
IMSI2 = "460001234567891"
ISDN = "8613800000001"
ISDN2 = "8613800000002"
KI = "465b5ce8b199b49faa5f0a2ee238a6bc"  # TS 35.208 test set 1
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
IMS = ApnProfile(context_id=2, apn="ims", qci=5, ambr_ul_bps=256_000, ambr_dl_bps=256_000)
GROUP_CUG = Cug(index=10, interlock="0460a001", restriction=CugRestriction.OUTGOING_BARRED)

RENDERED: list[tuple[Operation, str]] = [
    (
        LoadAuth(imsi=IMSI, ki=KI, opc=OPC, k4sno=1),
        f'ADD KI:HLRSN=1,IMSI="{IMSI}",OPERTYPE=ADD,KIVALUE="****",K4SNO=1,CARDTYPE=USIM,'
        'ALG=MILENAGE,OPCVALUE="****";',
    ),
    (
        LoadAuth(imsi=IMSI, ki=KI),
        f'ADD KI:HLRSN=1,IMSI="{IMSI}",OPERTYPE=ADD,KIVALUE="****",K4SNO=0,CARDTYPE=USIM,'
        "ALG=MILENAGE;",
    ),
    (
        LoadAuth(imsi=IMSI, ki=KI, algorithm="comp128v1"),
        f'ADD KI:HLRSN=1,IMSI="{IMSI}",OPERTYPE=ADD,KIVALUE="****",K4SNO=0,CARDTYPE=SIM,'
        "ALG=COMP128_1;",
    ),
    (
        LoadAuth(imsi=IMSI, ki=KI, algorithm="comp128v2"),
        f'ADD KI:HLRSN=1,IMSI="{IMSI}",OPERTYPE=ADD,KIVALUE="****",K4SNO=0,CARDTYPE=SIM,'
        "ALG=COMP128_2;",
    ),
    (
        LoadAuth(imsi=IMSI, ki=KI, algorithm="comp128v3"),
        f'ADD KI:HLRSN=1,IMSI="{IMSI}",OPERTYPE=ADD,KIVALUE="****",K4SNO=0,CARDTYPE=SIM,'
        "ALG=COMP128_3;",
    ),
    (RemoveAuth(imsi=IMSI), f'RMV KI:HLRSN=1,IMSI="{IMSI}";'),
    (
        CreateSubscriber(imsi=IMSI, msisdn=ISDN, template_id=1),
        f'ADD TPLSUB:HLRSN=1,IMSI="{IMSI}",ISDN="{ISDN}",TPLID=1;',
    ),
    (RemoveSubscriber(imsi=IMSI), f'RMV SUB:HLRSN=1,IMSI="{IMSI}";'),
    (
        SetLock(msisdn=ISDN, lock=Lock(incoming=True, outgoing=True, data=True)),
        f'MOD LCK:HLRSN=1,ISDN="{ISDN}",IC=TRUE,OC=TRUE,GPRSLOCK=TRUE;',
    ),
    (
        SetLock(msisdn=ISDN, lock=Lock()),
        f'MOD LCK:HLRSN=1,ISDN="{ISDN}",IC=FALSE,OC=FALSE,GPRSLOCK=FALSE;',
    ),
    (
        SetIncomingBarring(msisdn=ISDN, barring=BarIncoming.ALL),
        f'MOD ODBIC:HLRSN=1,ISDN="{ISDN}",ODBIC=BAIC;',
    ),
    (
        SetOutgoingBarring(msisdn=ISDN, barring=BarOutgoing.INTERNATIONAL),
        f'MOD ODBOC:HLRSN=1,ISDN="{ISDN}",ODBOC=BOIC;',
    ),
    (
        SetRoamingBarring(msisdn=ISDN, barring=BarRoaming.OUTSIDE_HOME_COUNTRY),
        f'MOD ODBROAM:HLRSN=1,ISDN="{ISDN}",ODBROAM=BROHPLMNC;',
    ),
    (
        RegisterForwarding(msisdn=ISDN, kind=ForwardingKind.BUSY, forward_to=ISDN2),
        f'REG CFB:HLRSN=1,ISDN="{ISDN}",FTN="{ISDN2}";',
    ),
    (
        EraseForwarding(msisdn=ISDN, kind=ForwardingKind.NOT_REACHABLE),
        f'ERA CFNRC:HLRSN=1,ISDN="{ISDN}";',
    ),
    (
        SetData(msisdn=ISDN, enabled=True, template_id=2),
        f'MOD TPLGPRS:HLRSN=1,ISDN="{ISDN}",PROV=TRUE,TPLID=2;',
    ),
    (SetData(msisdn=ISDN, enabled=False), f'MOD TPLGPRS:HLRSN=1,ISDN="{ISDN}",PROV=FALSE;'),
    (
        SetNetworkAccess(msisdn=ISDN, mode=NetworkAccess.PS_ONLY),
        f'MOD NAM:HLRSN=1,ISDN="{ISDN}",NAM=SGSN;',
    ),
    (
        ChangeMsisdn(msisdn=ISDN, new_msisdn=ISDN2),
        f'MOD ISDN:HLRSN=1,ISDN="{ISDN}",NEWISDN="{ISDN2}";',
    ),
    (SwapImsi(msisdn=ISDN, new_imsi=IMSI2), f'MOD IMSI:HLRSN=1,ISDN="{ISDN}",NEWIMSI="{IMSI2}";'),
    (
        ChangeTemplate(msisdn=ISDN, template_id=2),
        f'MOD TPLSUB:HLRSN=1,ISDN="{ISDN}",TPLID=2;',
    ),
    (
        SetSmsService(msisdn=ISDN, mo=False, mt=True),
        f'MOD TS:HLRSN=1,ISDN="{ISDN}",TS21=TRUE,TS22=FALSE;',
    ),
    (
        AddApn(msisdn=ISDN, profile=IMS),
        f'ADD PDNCNTX:HLRSN=1,ISDN="{ISDN}",CNTXID=2,APN="ims",QCI=5,AMBRUL=256000,AMBRDL=256000;',
    ),
    (RemoveApn(msisdn=ISDN, context_id=2), f'RMV PDNCNTX:HLRSN=1,ISDN="{ISDN}",CNTXID=2;'),
    (
        SetImsSubscription(msisdn=ISDN, enabled=True),
        f'ADD TPLIMSSUB:HLRSN=1,ISDN="{ISDN}",IMSTPLID=1;',
    ),
    (SetImsSubscription(msisdn=ISDN, enabled=False), f'RMV IMSSUB:HLRSN=1,ISDN="{ISDN}";'),
    (SetVolte(msisdn=ISDN, enabled=True), f'MOD VOLTETAG:HLRSN=1,ISDN="{ISDN}",VOLTETAG=TRUE;'),
    (
        AddCug(msisdn=ISDN, cug=GROUP_CUG),
        f'ADD CUG:HLRSN=1,ISDN="{ISDN}",CUGINDEX=10,INTERLOCK="0460A001",RESTRICT=OCB,ACCESS=OAIA;',
    ),
    (RemoveCug(msisdn=ISDN, index=10), f'RMV CUG:HLRSN=1,ISDN="{ISDN}",CUGINDEX=10;'),
    (
        SetPushToTalk(msisdn=ISDN, group="G-1"),
        f'MOD PTT:HLRSN=1,ISDN="{ISDN}",PROV=TRUE,PTTGRP="G-1";',
    ),
    (SetPushToTalk(msisdn=ISDN, group=None), f'MOD PTT:HLRSN=1,ISDN="{ISDN}",PROV=FALSE;'),
]


@pytest.mark.parametrize(("op", "expected"), RENDERED, ids=lambda v: getattr(v, "op", ""))
def test_render_masked(op: Operation, expected: str) -> None:
    assert mml.render(op) == expected


def test_every_hlr_operation_kind_has_a_rendering() -> None:
    from typing import get_args

    union = set(get_args(get_args(Operation)[0])) - {SetSmsBarring, SendSms, OtaUpdate, OtaRead}
    assert {type(op) for op, _ in RENDERED} == union


@pytest.mark.parametrize(
    "op",
    [
        SetSmsBarring(msisdn=ISDN, barred=True),
        SendSms(msisdn=ISDN, text="hi", sender="provgw", reference="o1/3"),
        OtaRead(card=OTA_CARD, files=("spn",)),
    ],
)
def test_sms_centre_operations_are_not_for_an_hlr(op: Operation) -> None:
    with pytest.raises(NotSupported, match="no MML command"):
        mml.render(op)
    with pytest.raises(NotSupported, match="no MML command"):
        mml.check(op)  # the engine's pre-flight question gets the same answer


@pytest.mark.parametrize(("op", "expected"), RENDERED, ids=lambda v: getattr(v, "op", ""))
def test_check_passes_whatever_renders(op: Operation, expected: str) -> None:
    mml.check(op)  # raises NotSupported if the two lists of operations ever disagree
    assert mml.render(op) == expected


def test_reveal_puts_the_keys_in_and_only_there() -> None:
    op = LoadAuth(imsi=IMSI, ki=KI, opc=OPC)
    revealed = mml.render(op, reveal=True)
    assert f'KIVALUE="{KI}"' in revealed
    assert f'OPCVALUE="{OPC}"' in revealed
    masked = mml.render(op)
    assert KI not in masked and OPC not in masked
    assert mml.mask(revealed) == masked


def test_hlrsn_is_configurable() -> None:
    assert mml.render(RemoveAuth(imsi=IMSI), hlrsn=7) == f'RMV KI:HLRSN=7,IMSI="{IMSI}";'


def test_comp128_refuses_an_opc() -> None:
    op = LoadAuth(imsi=IMSI, ki=KI, opc=OPC, algorithm="comp128v2")
    with pytest.raises(NotSupported, match="opc") as caught:
        mml.render(op)
    assert OPC not in str(caught.value)
    with pytest.raises(NotSupported, match="opc"):
        mml.check(op)  # refused before a plan runs, not when the step is sent


def test_lookup_and_session_commands() -> None:
    assert (
        mml.list_subscriber(Lookup(msisdn=ISDN)).text()
        == f'LST SUB:HLRSN=1,ISDN="{ISDN}",DETAIL=TRUE;'
    )
    assert (
        mml.list_subscriber(Lookup(imsi=IMSI, msisdn=ISDN)).text()
        == f'LST SUB:HLRSN=1,IMSI="{IMSI}",DETAIL=TRUE;'
    )
    assert mml.list_auth(IMSI).text() == f'LST KI:HLRSN=1,IMSI="{IMSI}";'
    login = mml.login("user", "secret")
    assert login.text() == 'LGI:HLRSN=1,OPNAME="user",PWD="****";'
    assert login.text(reveal=True) == 'LGI:HLRSN=1,OPNAME="user",PWD="secret";'
    with pytest.raises(ValueError, match="lookup"):
        mml.list_subscriber(Lookup())


@pytest.mark.parametrize(
    "value",
    ['a"b', "a;b", "a\\b", "a\nRMV SUB:IMSI=1;", "a\rb", "a\x00b", "a\x1bb", "a\x7fb", "a\x85b"],
)
def test_quoted_values_refuse_metacharacters(value: str) -> None:
    with pytest.raises(mml.UnsafeValue, match="OPNAME"):
        mml.quoted("OPNAME", value)


def test_refused_secret_is_not_echoed() -> None:
    with pytest.raises(mml.UnsafeValue) as caught:
        mml.login("user", 'hunter2";RMV SUB')
    assert "hunter2" not in str(caught.value)
    assert "PWD" in str(caught.value)


@pytest.mark.parametrize("value", ["BAIC,ODBOC=BAOC", "1;", "TRUE FALSE", "", "A=B"])
def test_bare_values_must_be_plain_words(value: str) -> None:
    with pytest.raises(mml.UnsafeValue, match="ODBIC"):
        mml.bare("ODBIC", value)


def test_quoted_values_keep_harmless_punctuation() -> None:
    assert mml.quoted("OPNAME", "ops-team, shift=2").value == '"ops-team, shift=2"'


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ('LGI:HLRSN=1,OPNAME="u",PWD="secret";', 'LGI:HLRSN=1,OPNAME="u",PWD="****";'),
        (
            f'ADD KI:IMSI="1",KIVALUE="{KI}",OPCVALUE="{OPC}";',
            'ADD KI:IMSI="1",KIVALUE="****",OPCVALUE="****";',
        ),
        (f"add ki:kivalue={KI},k4sno=1;", "add ki:kivalue=****,k4sno=1;"),
        ("KIVALUE  =  ********", "KIVALUE  =  ****"),
        ('PWD="unterminated;', 'PWD="****"'),
        ("RETCODE = 0  Operation succeeded", "RETCODE = 0  Operation succeeded"),
    ],
)
def test_mask(line: str, masked: str) -> None:
    assert mml.mask(line) == masked


CONTRACT_REPLY = """+++    HLR9820        2026-11-21 10:00:00
O&M    #1234
%%ADD TPLSUB:HLRSN=1,IMSI="460001234567890",ISDN="8613800000001",TPLID=1;%%
RETCODE = 0  Operation succeeded

There is together 1 report
---    END
"""

LST_SUB_REPLY = f"""+++    HLR9820        2026-11-21 10:00:01
O&M    #1235
%%LST SUB:HLRSN=1,ISDN="{ISDN}",DETAIL=TRUE;%%
RETCODE = 0  Operation succeeded

The result is as follows
------------------------
IMSI  =  {IMSI}
ISDN  =  {ISDN}
TPLID  =  2
CARDTYPE  =  USIM
NAM  =  MSC
IC  =  TRUE
OC  =  FALSE
GPRSLOCK  =  TRUE
ODBIC  =  BICROAM
ODBOC  =  BOICEXHC
ODBROAM  =  BROHPLMN
CFU  =  NOTREG
CFB  =  {ISDN2}
CFNRY  =  NOTREG
CFNRC  =  8613900000009
GPRS  =  TRUE
GPRSTPLID  =  1
TS21  =  TRUE
TS22  =  FALSE
PDNCNTXNUM  =  2
PDNCNTX1  =  APN=cmnet,QCI=9,AMBRUL=50000000,AMBRDL=100000000
PDNCNTX2  =  APN=ims,QCI=5,AMBRUL=256000,AMBRDL=256000
IMS  =  TRUE
IMSTPLID  =  1
IMPU  =  tel:+{ISDN}
VOLTE  =  TRUE
CUGNUM  =  1
CUG10  =  INTERLOCK=0460A001,RESTRICT=OCB,ACCESS=OAIA
PTT  =  TRUE
PTTGRP  =  G-1

There is together 1 report
---    END
"""

LST_KI_REPLY = f"""+++    HLR9820        2026-11-21 10:00:02
O&M    #1236
%%LST KI:HLRSN=1,IMSI="{IMSI}";%%
RETCODE = 0  Operation succeeded

The result is as follows
------------------------
IMSI  =  {IMSI}
CARDTYPE  =  USIM
ALG  =  MILENAGE
K4SNO  =  0
KIVALUE  =  ********

There is together 1 report
---    END
"""

ERROR_REPLY = f"""+++    HLR9820        2026-11-21 10:00:03
O&M    #1237
%%RMV SUB:HLRSN=1,ISDN="{ISDN}";%%
RETCODE = 3001  ERR3001:Subscriber not defined

There is together 0 report
---    END
"""


def test_parse_the_contract_example() -> None:
    reply = mml.parse_reply(CONTRACT_REPLY)
    assert reply == mml.ParsedReply(
        ne="HLR9820",
        timestamp="2026-11-21 10:00:00",
        serial=1234,
        echo='ADD TPLSUB:HLRSN=1,IMSI="460001234567890",ISDN="8613800000001",TPLID=1;',
        code=0,
        text="Operation succeeded",
        fields={},
        reports=1,
    )


def test_parse_error_code() -> None:
    reply = mml.parse_reply(ERROR_REPLY)
    assert (reply.code, reply.text, reply.reports) == (3001, "ERR3001:Subscriber not defined", 0)
    assert reply.fields == {}


def test_parse_lst_body_keeps_order() -> None:
    fields = mml.parse_reply(LST_SUB_REPLY).fields
    assert list(fields) == [
        "IMSI", "ISDN", "TPLID", "CARDTYPE", "NAM", "IC", "OC", "GPRSLOCK", "ODBIC", "ODBOC",
        "ODBROAM", "CFU", "CFB", "CFNRY", "CFNRC", "GPRS", "GPRSTPLID", "TS21", "TS22",
        "PDNCNTXNUM", "PDNCNTX1", "PDNCNTX2", "IMS", "IMSTPLID", "IMPU", "VOLTE", "CUGNUM",
        "CUG10", "PTT", "PTTGRP",
    ]  # fmt: skip
    assert fields["CFB"] == ISDN2 and fields["NAM"] == "MSC"


def test_parse_tolerates_crlf_blank_lines_and_a_greeting() -> None:
    noisy = "Welcome to HLR9820\r\n\r\n" + LST_KI_REPLY.replace("\n", "\r\n\r\n")
    assert mml.parse_reply(noisy) == mml.parse_reply(LST_KI_REPLY)


@pytest.mark.parametrize(
    ("garbage", "complaint"),
    [
        ("", "header"),
        (CONTRACT_REPLY.replace("---    END\n", ""), "END"),
        (CONTRACT_REPLY.replace("---    END", "---  END"), "END"),
        (CONTRACT_REPLY + "RETCODE = 0  again\n", "END"),
        (CONTRACT_REPLY.replace("O&M    #1234", "O&M    1234"), "O&M"),
        (CONTRACT_REPLY.replace("O&M    #1234", "O&M    #12a4"), "serial"),
        (CONTRACT_REPLY.replace("%%ADD", "ADD"), "echo"),
        (CONTRACT_REPLY.replace("RETCODE = 0", "RETCODE : 0"), "RETCODE"),
        (CONTRACT_REPLY.replace("RETCODE = 0", "RETCODE = zero"), "RETCODE"),
        (CONTRACT_REPLY.replace("RETCODE = 0  Operation succeeded", "RETCODE ="), "RETCODE"),
        (CONTRACT_REPLY.replace("There is together 1 report", "1 report"), "report"),
        (CONTRACT_REPLY.replace("\nThere", "\nSTRAY LINE\nThere"), "between"),
        (LST_KI_REPLY.replace("------------------------", "========"), "dashes"),
        (LST_KI_REPLY.replace("ALG  =  MILENAGE", "ALG MILENAGE"), "NAME"),
        (CONTRACT_REPLY.replace("+++    HLR9820        ", "+++ "), "header"),
    ],
)
def test_parse_is_strict_about_framing(garbage: str, complaint: str) -> None:
    with pytest.raises(mml.ReplyFramingError, match=complaint):
        mml.parse_reply(garbage)


def test_framing_errors_mask_secrets() -> None:
    broken = LST_KI_REPLY.replace("KIVALUE  =  ********", f"KIVALUE {KI}")
    with pytest.raises(mml.ReplyFramingError) as caught:
        mml.parse_reply(broken)
    assert KI not in str(caught.value)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [(0, Outcome.OK), (5001, Outcome.TRANSIENT), (5002, Outcome.TRANSIENT),
     (3001, Outcome.PERMANENT), (1006, Outcome.PERMANENT), (1018, Outcome.PERMANENT)],
)  # fmt: skip
def test_classify_default(code: int, outcome: Outcome) -> None:
    assert mml.classify(code) is outcome


def test_classify_with_configured_transient_codes() -> None:
    assert mml.classify(5001, {3009}) is Outcome.PERMANENT
    assert mml.classify(3009, {3009}) is Outcome.TRANSIENT


def test_view_from_both_lists() -> None:
    sub = mml.parse_reply(LST_SUB_REPLY).fields
    ki = mml.parse_reply(LST_KI_REPLY).fields
    assert mml.view_from_lst(sub, ki) == SubscriberView(
        exists=True,
        auth_loaded=True,
        imsi=IMSI,
        msisdn=ISDN,
        template_id=2,
        lock=Lock(incoming=True, outgoing=False, data=True),
        bar_incoming=BarIncoming.WHEN_ROAMING,
        bar_outgoing=BarOutgoing.INTERNATIONAL_EXCEPT_HOME,
        bar_roaming=BarRoaming.OUTSIDE_HOME_PLMN,
        forwarding={ForwardingKind.BUSY: ISDN2, ForwardingKind.NOT_REACHABLE: "8613900000009"},
        data_enabled=True,
        network_access=NetworkAccess.CS_ONLY,
        sms_mo=False,
        sms_mt=True,
        apns=(
            ApnProfile(
                context_id=1, apn="cmnet", qci=9, ambr_ul_bps=50_000_000, ambr_dl_bps=100_000_000
            ),
            IMS,
        ),
        ims=True,
        volte=True,
        cugs=(GROUP_CUG,),
        ptt_group="G-1",
    )


def test_the_read_back_view_shows_each_service_operation_applied() -> None:
    """What reconciliation asks after an unknown outcome, answered from the contract's LST."""
    view = mml.view_from_lst(mml.parse_reply(LST_SUB_REPLY).fields, None)
    applied = [
        ChangeTemplate(msisdn=ISDN, template_id=2),
        SetSmsService(msisdn=ISDN, mo=False, mt=True),
        AddApn(msisdn=ISDN, profile=IMS),
        RemoveApn(msisdn=ISDN, context_id=3),
        SetImsSubscription(msisdn=ISDN, enabled=True),
        SetVolte(msisdn=ISDN, enabled=True),
        AddCug(msisdn=ISDN, cug=GROUP_CUG),
        RemoveCug(msisdn=ISDN, index=11),
        SetPushToTalk(msisdn=ISDN, group="G-1"),
    ]
    not_applied = [
        ChangeTemplate(msisdn=ISDN, template_id=1),
        SetSmsService(msisdn=ISDN, mo=True, mt=True),
        AddApn(msisdn=ISDN, profile=IMS.model_copy(update={"qci": 6})),
        RemoveApn(msisdn=ISDN, context_id=2),
        SetImsSubscription(msisdn=ISDN, enabled=False),
        SetVolte(msisdn=ISDN, enabled=False),
        AddCug(msisdn=ISDN, cug=GROUP_CUG.model_copy(update={"access": CugAccess.OUTGOING})),
        RemoveCug(msisdn=ISDN, index=10),
        SetPushToTalk(msisdn=ISDN, group=None),
    ]
    assert [op.applied_in(view) for op in applied] == [True] * len(applied)
    assert [op.applied_in(view) for op in not_applied] == [False] * len(not_applied)


def test_view_of_auth_without_subscriber() -> None:
    ki = mml.parse_reply(LST_KI_REPLY).fields
    assert mml.view_from_lst(None, ki) == SubscriberView(exists=False, auth_loaded=True, imsi=IMSI)
    assert mml.view_from_lst(None, None) == SubscriberView(exists=False)


def test_view_refuses_what_the_contract_does_not_know() -> None:
    sub = dict(mml.parse_reply(LST_SUB_REPLY).fields)
    with pytest.raises(ValueError, match="ODBOC"):
        mml.view_from_lst({**sub, "ODBOC": "SOMETIMES"}, None)
    with pytest.raises(ValueError, match="GPRSLOCK"):
        mml.view_from_lst({**sub, "GPRSLOCK": "YES"}, None)
    with pytest.raises(ValueError, match="TPLID"):
        mml.view_from_lst({**sub, "TPLID": "NONE"}, None)
    del sub["NAM"]
    with pytest.raises(KeyError, match="NAM"):
        mml.view_from_lst(sub, None)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"PDNCNTXNUM": "3"}, "PDNCNTX lines"),  # a line lost on the way is no removal
        ({"CUGNUM": "0"}, "CUG lines"),
        ({"PDNCNTX2": "APN=ims,QCI=5,AMBRUL=256000"}, "PDNCNTX2 is not a PDN context"),
        ({"PDNCNTX2": "APN=ims;QCI=5"}, "PDNCNTX2"),
        ({"PDNCNTX2": "APN=i s,QCI=5,AMBRUL=1,AMBRDL=1"}, "PDNCNTX2 is not a PDN context"),
        ({"CUG10": "INTERLOCK=0460A001,RESTRICT=ALL,ACCESS=OA"}, "CUG10 is not a CUG"),
        ({"PTT": "FALSE"}, "PTT and PTTGRP disagree"),
        ({"PTTGRP": "NONE"}, "PTT and PTTGRP disagree"),
        ({"VOLTE": "MAYBE"}, "VOLTE"),
        ({"TS22": "NO"}, "TS22"),
    ],
)
def test_view_refuses_hss_fields_it_cannot_read(change: dict[str, str], complaint: str) -> None:
    sub = {**mml.parse_reply(LST_SUB_REPLY).fields, **change}
    with pytest.raises(ValueError, match=complaint):
        mml.view_from_lst(sub, None)


@pytest.mark.parametrize("name", ["TS21", "PDNCNTXNUM", "IMS", "VOLTE", "CUGNUM", "PTTGRP"])
def test_view_refuses_an_lst_without_the_hss_fields(name: str) -> None:
    sub = dict(mml.parse_reply(LST_SUB_REPLY).fields)
    del sub[name]
    with pytest.raises(KeyError, match=name):
        mml.view_from_lst(sub, None)


def test_mask_catches_a_secret_without_equals_sign() -> None:
    assert KI not in mml.mask(f"KIVALUE {KI}")
