"""The osmo-hlr dialect without a server: scripts, refusals, error texts, views, masking."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.network_element import NotSupported
from adapters.osmo_hlr import mapping
from adapters.osmo_hlr.ctrl import Command, mask, parse_reply
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
    EraseForwarding,
    ForwardingKind,
    LoadAuth,
    Lock,
    NetworkAccess,
    RegisterForwarding,
    RemoveApn,
    RemoveAuth,
    RemoveCug,
    RemoveSubscriber,
    SetData,
    SetImsSubscription,
    SetIncomingBarring,
    SetLock,
    SetNetworkAccess,
    SetOutgoingBarring,
    SetPushToTalk,
    SetRoamingBarring,
    SetSmsService,
    SetVolte,
    SwapImsi,
)

KI = "465b5ce8b199b49faa5f0a2ee238a6bc"  # TS 35.208 test set 1
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
IMSI = "460001234567890"
NUMBER = "8613800000001"
APN = ApnProfile(context_id=1, apn="cmnet", ambr_ul_bps=1_000_000, ambr_dl_bps=1_000_000)
LOCKED = Lock(incoming=True, outgoing=True, data=True)
UNLOCKED = Lock()


def load_auth(**over: Any) -> LoadAuth:
    return LoadAuth.model_validate({"imsi": IMSI, "ki": KI, "opc": OPC} | over)


def test_load_auth_creates_the_record_switched_off_then_sets_the_keys() -> None:
    assert mapping.render(load_auth()) == "\n".join(
        [
            f"SET subscriber.create {IMSI}",
            f"SET subscriber.by-imsi-{IMSI}.cs-enabled 0",
            f"SET subscriber.by-imsi-{IMSI}.ps-enabled 0",
            f"SET subscriber.by-imsi-{IMSI}.aud3g milenage,****,opc,****",
        ]
    )
    create, keys = mapping.script_for(load_auth())
    (action,) = create.actions
    assert action.adopt_bare
    assert action.undo == Command("SET", "subscriber.delete", IMSI)
    assert keys.commands[-1].value == f"milenage,{KI},opc,{OPC}", "the wire form has the keys"


def test_comp128_loads_2g_keys_and_has_no_opc() -> None:
    op = load_auth(algorithm="comp128v1", opc=None)
    assert mapping.render(op).splitlines()[-1] == (
        f"SET subscriber.by-imsi-{IMSI}.aud2g comp128v1,****"
    )
    with pytest.raises(NotSupported, match="no OPc"):
        mapping.render(load_auth(algorithm="comp128v3"))


@pytest.mark.parametrize(
    ("over", "reason"),
    [({"k4sno": 3}, "transport key 3"), ({"opc": None}, "needs the OPc")],
)
def test_load_auth_that_osmo_hlr_cannot_take_is_refused(over: dict[str, Any], reason: str) -> None:
    with pytest.raises(NotSupported, match=reason):
        mapping.render(load_auth(**over))


def test_create_subscriber_switches_cs_on_before_the_number_and_can_undo_both() -> None:
    op = CreateSubscriber(imsi=IMSI, msisdn=NUMBER, template_id=1)
    assert mapping.render(op) == (
        f"SET subscriber.by-imsi-{IMSI}.cs-enabled 1\nSET subscriber.by-imsi-{IMSI}.msisdn {NUMBER}"
    )
    (stage,) = mapping.script_for(op)
    assert [a.undo.shown() for a in stage.actions if a.undo] == [
        f"SET subscriber.by-imsi-{IMSI}.cs-enabled 0",
        f"SET subscriber.by-imsi-{IMSI}.msisdn none",
    ]


def test_remove_subscriber_takes_the_number_last() -> None:
    assert mapping.render(RemoveSubscriber(imsi=IMSI)).splitlines() == [
        f"SET subscriber.by-imsi-{IMSI}.cs-enabled 0",
        f"SET subscriber.by-imsi-{IMSI}.ps-enabled 0",
        f"SET subscriber.by-imsi-{IMSI}.msisdn none",
    ]


def test_remove_auth_deletes_the_record_only_when_no_number_uses_it() -> None:
    check, delete = mapping.script_for(RemoveAuth(imsi=IMSI))
    assert check.commands == (Command("GET", f"subscriber.by-imsi-{IMSI}.msisdn"),)
    assert check.guard is not None
    assert check.guard("none") is None
    refusal = check.guard(NUMBER)
    assert refusal is not None and refusal.code == "auth-in-use" and NUMBER in refusal.text
    assert delete.commands == (Command("SET", "subscriber.delete", IMSI),)
    assert "# then only if it is none" in mapping.render(RemoveAuth(imsi=IMSI))


def test_set_data_is_the_ps_switch() -> None:
    assert mapping.render(SetData(msisdn=NUMBER, enabled=True)) == (
        f"SET subscriber.by-msisdn-{NUMBER}.ps-enabled 1"
    )
    assert mapping.render(SetData(msisdn=NUMBER, enabled=False)) == (
        f"SET subscriber.by-msisdn-{NUMBER}.ps-enabled 0"
    )


def test_in_ps_switch_mode_data_goes_on_only_for_a_subscriber_not_suspended() -> None:
    check, switch = mapping.script_for(SetData(msisdn=NUMBER, enabled=True), "ps-switch")
    assert check.commands == (Command("GET", f"subscriber.by-msisdn-{NUMBER}.cs-enabled"),)
    assert check.guard is not None and check.guard("1") is None
    refusal = check.guard("0")
    assert refusal is not None and refusal.code == "suspended"
    assert switch.commands[0].shown().endswith("ps-enabled 1")
    assert len(mapping.script_for(SetData(msisdn=NUMBER, enabled=False), "ps-switch")) == 1


def test_lock_is_cs_and_in_ps_switch_mode_also_ps() -> None:
    sel = f"subscriber.by-msisdn-{NUMBER}"
    cs_only = Lock(incoming=True, outgoing=True, data=False)
    assert mapping.render(SetLock(msisdn=NUMBER, lock=cs_only)) == f"SET {sel}.cs-enabled 0"
    assert mapping.render(SetLock(msisdn=NUMBER, lock=UNLOCKED)) == f"SET {sel}.cs-enabled 1"
    assert mapping.render(SetLock(msisdn=NUMBER, lock=LOCKED), "ps-switch") == (
        f"SET {sel}.cs-enabled 0\nSET {sel}.ps-enabled 0"
    )
    assert mapping.render(SetLock(msisdn=NUMBER, lock=UNLOCKED), "ps-switch") == (
        f"SET {sel}.cs-enabled 1\nSET {sel}.ps-enabled 1"
    )


def test_a_data_lock_is_refused_unless_configured() -> None:
    with pytest.raises(NotSupported, match='data_lock = "ps-switch"'):
        mapping.render(SetLock(msisdn=NUMBER, lock=LOCKED))


def test_change_msisdn_moves_the_number_on_the_record() -> None:
    op = ChangeMsisdn(msisdn=NUMBER, new_msisdn="8613900000009")
    assert mapping.render(op) == f"SET subscriber.by-msisdn-{NUMBER}.msisdn 8613900000009"


@pytest.mark.parametrize(
    ("op", "reason"),
    [
        (SetLock(msisdn=NUMBER, lock=Lock(incoming=True)), "only incoming or only outgoing"),
        (SetIncomingBarring(msisdn=NUMBER, barring=BarIncoming.ALL), "barring classes"),
        (SetOutgoingBarring(msisdn=NUMBER, barring=BarOutgoing.INTERNATIONAL), "barring classes"),
        (SetRoamingBarring(msisdn=NUMBER, barring=BarRoaming.OUTSIDE_HOME_PLMN), "barring"),
        (
            RegisterForwarding(msisdn=NUMBER, kind=ForwardingKind.BUSY, forward_to="8613911112222"),
            "call-forwarding",
        ),
        (EraseForwarding(msisdn=NUMBER, kind=ForwardingKind.BUSY), "call-forwarding"),
        (SetNetworkAccess(msisdn=NUMBER, mode=NetworkAccess.CS_ONLY), "network access mode"),
        (SwapImsi(msisdn=NUMBER, new_imsi="460009999999999"), "neither card"),
        (ChangeTemplate(msisdn=NUMBER, template_id=2), "no service templates"),
        (SetSmsService(msisdn=NUMBER, mo=False, mt=False), "barred at the SMS centre"),
        (AddApn(msisdn=NUMBER, profile=APN), "no APN profiles"),
        (RemoveApn(msisdn=NUMBER, context_id=1), "no APN profiles"),
        (SetImsSubscription(msisdn=NUMBER, enabled=True), "no IMS subscription"),
        (SetVolte(msisdn=NUMBER, enabled=False), "VoLTE cannot be provisioned"),
        (AddCug(msisdn=NUMBER, cug=Cug(index=1, interlock="0460A001")), "closed user groups"),
        (RemoveCug(msisdn=NUMBER, index=1), "closed user groups"),
        (SetPushToTalk(msisdn=NUMBER, group=None), "push-to-talk"),
    ],
)
def test_what_osmo_hlr_cannot_hold_is_refused_with_a_reason(op: Any, reason: str) -> None:
    with pytest.raises(NotSupported, match=reason):
        mapping.render(op, "ps-switch")


def test_values_that_could_break_a_ctrl_command_are_refused() -> None:
    op = ChangeMsisdn.model_construct(msisdn=NUMBER, new_msisdn="86138 SET x")
    with pytest.raises(ValueError, match="MSISDN must be 1 to 15 digits"):
        mapping.render(op)
    with pytest.raises(ValueError, match="IMSI must be"):
        mapping.render(RemoveSubscriber.model_construct(imsi="4600\n1"))


# -- osmo-hlr's errors (shared/reference/osmo-hlr.md §3) -----------------------------------------


def _command(var: str, value: str = "") -> Command:
    return Command("SET", var, value)


SEL = f"subscriber.by-imsi-{IMSI}"


@pytest.mark.parametrize(
    ("command", "reason", "code", "text"),
    [
        (
            _command("subscriber.create", IMSI),
            "Subscriber already exists.",
            "imsi-exists",
            f"IMSI {IMSI} already exists on osmo-hlr",
        ),
        (
            _command(f"{SEL}.msisdn", NUMBER),
            "No such subscriber.",
            "unknown-subscriber",
            f"no subscriber with IMSI {IMSI} on osmo-hlr",
        ),
        (
            _command("subscriber.delete", IMSI),
            "Subscriber doesn't exist.",
            "unknown-subscriber",
            f"no subscriber with IMSI {IMSI} on osmo-hlr",
        ),
        (
            _command(f"{SEL}.msisdn", NUMBER),
            "Update MSISDN failed",
            "msisdn-in-use",
            f"number {NUMBER} could not be given to IMSI {IMSI}: it is already in use by "
            "another subscriber on osmo-hlr",
        ),
        (
            Command("SET", f"{SEL}.aud3g", "milenage,…", "milenage,****,opc,****"),
            "Invalid KI.",
            "bad-key",
            f"osmo-hlr refused the K for IMSI {IMSI}",
        ),
        (
            _command(f"{SEL}.aud2g", "comp128v1,00"),
            "Invalid KI.",
            "bad-key",
            f"osmo-hlr refused the Ki for IMSI {IMSI}",
        ),
        (
            _command(f"{SEL}.aud3g", "x"),
            "Invalid OP/OPC.",
            "bad-key",
            f"osmo-hlr refused the OPc for IMSI {IMSI}",
        ),
        (
            _command(f"subscriber.by-msisdn-{NUMBER}.ps-enabled", "2"),
            "Value failed verification.",
            "bad-value",
            f"osmo-hlr refused ps-enabled '2' for number {NUMBER}",
        ),
        (
            _command("subscriber.create", "4600"),
            "Invalid IMSI value.",
            "bad-imsi",
            "osmo-hlr refused IMSI 4600 as an IMSI",
        ),
        (
            _command(f"{SEL}.ps-enabled", "0"),
            "An error has occurred.",
            "error",
            f"osmo-hlr could not set ps-enabled for IMSI {IMSI} (no reason given)",
        ),
        (
            _command(f"{SEL}.imei", "1"),
            "Command not found",
            "unknown-variable",
            f"osmo-hlr does not know {SEL}.imei",
        ),
        (
            _command(f"{SEL}.msisdn", "1"),
            "Something new.",
            "refused",
            f"osmo-hlr refused SET {SEL}.msisdn 1: Something new.",
        ),
    ],
)
def test_osmo_errors_become_clear_refusals(
    command: Command, reason: str, code: str, text: str
) -> None:
    assert mapping.classify(command, reason) == mapping.Refusal(code, text)


def test_a_named_reason_wins_over_the_generic_one() -> None:
    generic = mapping.Refusal("error", "…")
    named = mapping.Refusal("unknown-subscriber", "…")
    assert mapping.most_specific([generic, named]) is named
    assert mapping.most_specific([generic]) is generic


def test_a_refused_key_value_is_never_echoed() -> None:
    secret = Command("SET", f"{SEL}.aud3g", f"milenage,{KI},opc,{OPC}", "milenage,****,opc,****")
    for reason in ("Value failed verification.", "Brand new error."):
        text = mapping.classify(secret, reason).text
        assert KI not in text and OPC not in text


# -- answers and views -------------------------------------------------------------------------

INFO_ALL = (
    "\nid\t2\nimsi\t460001234567890\nmsisdn\t8613800000001\nnam_cs\t1\nnam_ps\t0\n"
    "ms_purged_cs\t0\nms_purged_ps\t0\nperiodic_lu_timer\t0\nperiodic_rau_tau_timer\t0\n"
    f"lmsi\t00000000\naud3g.algo\tMILENAGE\naud3g.k\t{KI}\naud3g.opc\t{OPC}\n"
    "aud3g.ind_bitlen\t5\naud3g.sqn\t0"
)


def test_replies_are_taken_apart() -> None:
    reply = parse_reply(f"GET_REPLY 7 {SEL}.info-all {INFO_ALL}")
    assert reply is not None
    assert (reply.kind, reply.id, reply.var) == ("GET_REPLY", "7", f"{SEL}.info-all")
    assert mapping.parse_info(reply.value)["aud3g.k"] == KI
    assert parse_reply("ERROR 3 No such subscriber.") == (
        "ERROR",
        "3",
        "",
        "No such subscriber.",
    )
    assert parse_reply("SET_REPLY 1 subscriber.create 2") == (
        "SET_REPLY",
        "1",
        "subscriber.create",
        "2",
    )
    assert parse_reply("HELLO there") is None


def test_the_view_of_a_subscriber_record() -> None:
    view = mapping.view_from_info(mapping.parse_info(INFO_ALL))
    assert view.exists and view.auth_loaded
    assert (view.imsi, view.msisdn) == (IMSI, NUMBER)
    assert view.lock == UNLOCKED and not view.data_enabled


def test_a_record_without_number_is_authentication_data_only() -> None:
    fields = mapping.parse_info(INFO_ALL.replace("msisdn\t8613800000001\n", ""))
    fields |= {"nam_cs": "0", "nam_ps": "0"}
    view = mapping.view_from_info(fields)
    assert not view.exists and view.auth_loaded
    assert not mapping.bare(fields)
    keyless = {k: v for k, v in fields.items() if not k.startswith("aud")}
    assert mapping.bare(keyless)
    assert not mapping.view_from_info(keyless).auth_loaded


def test_in_ps_switch_mode_ps_off_reads_as_a_data_lock() -> None:
    fields = mapping.parse_info(INFO_ALL) | {"nam_cs": "0", "nam_ps": "0"}
    assert mapping.view_from_info(fields, "ps-switch").lock == LOCKED
    assert mapping.view_from_info(fields).lock == Lock(incoming=True, outgoing=True)


def test_no_record_is_absent() -> None:
    assert mapping.view_from_info(None).exists is False


def test_masking_covers_every_place_keys_show_up() -> None:
    for text in (
        INFO_ALL,
        f"GET_REPLY 6 {SEL}.aud3g MILENAGE,{KI},OPC,{OPC},5",
        f"GET_REPLY 6 {SEL}.aud2g COMP128v1,{KI.upper()}",
    ):
        masked = mask(text)
        assert KI not in masked.lower() and OPC not in masked
        assert "****" in masked
    assert mask(f"SET {SEL}.msisdn {NUMBER}") == f"SET {SEL}.msisdn {NUMBER}"
    assert mask("lmsi\t00000000") == "lmsi\t00000000"
