"""State file, restore rules, host key file, template and code files."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from emulators.hlr import HlrEmulator, HlrState, Template
from emulators.hlr.codes import Outcome
from emulators.hlr.configfile import read_codes, read_templates
from emulators.hlr.server import load_host_key
from emulators.hlr.statefile import StateFile

from .conftest import IMSI, IMSI2, ISDN, KI, LOGIN, OPC, Desk, add_ki, add_sub

HSS_SERVICES = (
    f'MOD TS:HLRSN=1,ISDN="{ISDN}",TS22=FALSE;',
    f'ADD PDNCNTX:HLRSN=1,ISDN="{ISDN}",CNTXID=2,APN="ims",QCI=5,AMBRUL=256000,AMBRDL=256000;',
    f'ADD TPLIMSSUB:HLRSN=1,ISDN="{ISDN}",IMSTPLID=1;',
    f'MOD VOLTETAG:HLRSN=1,ISDN="{ISDN}",VOLTETAG=TRUE;',
    f'ADD CUG:HLRSN=1,ISDN="{ISDN}",CUGINDEX=10,INTERLOCK="0460A001",RESTRICT=OCB,ACCESS=OA;',
    f'MOD PTT:HLRSN=1,ISDN="{ISDN}",PROV=TRUE,PTTGRP="G-1";',
)


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "hlr.json"
    async with HlrEmulator(port=0, state_file=path) as first:
        Desk(first).ok(LOGIN, add_ki(), add_sub(), f'REG CFU:HLRSN=1,ISDN="{ISDN}",FTN="1234";')
        Desk(first).ok(LOGIN, *HSS_SERVICES)
        expected = first.state.snapshot(reveal_secrets=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the keys in clear
    data = json.loads(path.read_text())
    assert data["version"] == 3 and data["ki"][IMSI]["ki"] == KI and data["ki"][IMSI]["opc"] == OPC
    sub = data["subscribers"][IMSI]
    assert (sub["ts21"], sub["ts22"], sub["imstplid"], sub["volte"], sub["pttgrp"]) == (
        True,
        False,
        1,
        True,
        "G-1",
    )
    assert sub["pdncntx"] == [
        {"cntxid": 2, "apn": "ims", "qci": 5, "ambrul": 256000, "ambrdl": 256000}
    ]
    assert sub["cugs"] == [
        {"cugindex": 10, "interlock": "0460A001", "restrict": "OCB", "access": "OA"}
    ]
    async with HlrEmulator(port=0, state_file=path) as second:
        assert second.state.snapshot(reveal_secrets=True) == expected
        desk = Desk(second)
        desk.ok(LOGIN)
        assert desk.code(add_sub()) == 3002


async def test_changes_are_batched_not_written_per_command(tmp_path: Path) -> None:
    path = tmp_path / "hlr.json"
    emulator = HlrEmulator()
    state_file = StateFile(path, emulator.state, interval=60)
    state_file.attach()
    desk = Desk(emulator)
    desk.ok(LOGIN, add_ki(), add_sub(), add_ki(IMSI2))
    assert not path.exists()
    state_file.close()
    assert sorted(json.loads(path.read_text())["ki"]) == [IMSI, IMSI2]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "hlr.json"),
        ('{"version": 7}', "not an HLR emulator state file"),
        ('{"version": 1, "ki": {"1": {}}}', "ki.1"),
        (
            json.dumps(
                {
                    "version": 1,
                    "subscribers": {IMSI: {"imsi": IMSI, "isdn": ISDN, "tplid": 1, "nam": "BOTH"}},
                }
            ),
            "no KI",
        ),
    ],
)
def test_bad_state_file_is_refused_naming_the_entry(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "hlr.json"
    path.write_text(content)
    state = HlrState()
    with pytest.raises(ValueError, match=message):
        StateFile(path, state).load()
    assert state.snapshot() == {"ki": {}, "subscribers": {}}


def test_a_version_2_file_loads_with_sms_and_no_hss_services(tmp_path: Path) -> None:
    """A file from before the HSS services: every subscriber keeps SMS, and has no PDN
    context, IMS, CUG or push-to-talk."""
    source = Desk(HlrEmulator())
    source.ok(LOGIN, add_ki(), add_sub(tplid=2))
    data = source.emulator.state.snapshot(reveal_secrets=True)
    new = ("ts21", "ts22", "pdncntx", "imstplid", "volte", "cugs", "pttgrp")
    old_sub = {k: v for k, v in data["subscribers"][IMSI].items() if k not in new}
    path = tmp_path / "hlr.json"
    path.write_text(json.dumps({"version": 2, "ki": data["ki"], "subscribers": {IMSI: old_sub}}))
    state = HlrState()
    assert StateFile(path, state).load()
    assert state.snapshot(reveal_secrets=True) == data
    assert data["subscribers"][IMSI]["ts22"] is True and data["subscribers"][IMSI]["cugs"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"volte": True}, "VoLTE needs an IMS subscription and a PDN context"),
        ({"imstplid": 1, "volte": True}, "VoLTE needs"),
        ({"volte": "yes"}, "volte"),
        ({"pdncntx": [{"cntxid": 1, "apn": "CMNET", "qci": 9, "ambrul": 1, "ambrdl": 1}]}, "apn"),
        ({"pdncntx": [{"cntxid": 1, "apn": "cmnet", "qci": 0, "ambrul": 1, "ambrdl": 1}]}, "qci"),
        (
            {
                "pdncntx": [
                    {"cntxid": 1, "apn": "cmnet", "qci": 9, "ambrul": 1, "ambrdl": 1},
                    {"cntxid": 2, "apn": "cmnet", "qci": 9, "ambrul": 1, "ambrdl": 1},
                ]
            },
            "given twice",
        ),
        ({"cugs": [{"cugindex": 1, "interlock": "0460a001"}]}, "interlock"),
        (
            {
                "cugs": [
                    {"cugindex": i, "interlock": f"{i:08X}", "restrict": "NONE", "access": "OA"}
                    for i in range(11)
                ]
            },
            "more than 10",
        ),
        ({"cugs": {"1": {}}}, "expected a list"),
        ({"pttgrp": "G 1"}, "pttgrp"),
        ({"ts21": "TRUE"}, "ts21"),
    ],
)
def test_restore_checks_the_hss_services(change: dict[str, object], message: str) -> None:
    source = Desk(HlrEmulator())
    source.ok(LOGIN, add_ki(), add_sub())
    data = source.emulator.state.snapshot(reveal_secrets=True)
    data["subscribers"][IMSI].update(change)
    with pytest.raises(ValueError, match=message):
        HlrState().restore(data)


def test_restore_refuses_an_isdn_used_twice() -> None:
    source = Desk(HlrEmulator())
    source.ok(LOGIN, add_ki(), add_sub(), add_ki(IMSI2), add_sub(IMSI2, "8613800000002"))
    data = source.emulator.state.snapshot(reveal_secrets=True)
    data["subscribers"][IMSI2]["isdn"] = ISDN
    with pytest.raises(ValueError, match="used twice"):
        HlrState().restore(data)


def test_restore_refuses_a_masked_snapshot() -> None:
    source = Desk(HlrEmulator())
    source.ok(LOGIN, add_ki())
    with pytest.raises(ValueError, match=f"ki.{IMSI}"):
        HlrState().restore(source.emulator.state.snapshot())


def test_host_key_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "host_key"
    key = load_host_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_host_key(path).export_public_key() == key.export_public_key()
    assert load_host_key(None).export_public_key() != key.export_public_key()


def test_templates_from_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "templates.toml"
    toml.write_text('[1]\n[7]\nNAM = "SGSN"\nGPRS = true\nGPRSTPLID = 4\n')
    assert read_templates(toml) == {
        1: Template(),
        7: Template(nam="SGSN", gprs=True, gprstplid=4),
    }
    js = tmp_path / "templates.json"
    js.write_text('{"3": {"odbroam": "BROHPLMN", "ic": true, "TS22": false}}')
    assert read_templates(js) == {3: Template(odbroam="BROHPLMN", ic=True, ts22=False)}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[x]\nNAM = "MSC"\n', "'x'"),
        ('[1]\nNAM = "ALL"\n', "nam"),
        ("[1]\nIC = 1\n", "ic"),
        ("[1]\nCOLOUR = 1\n", "colour"),
        ("[1\n", "templates.toml"),
    ],
)
def test_bad_templates_name_the_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "templates.toml"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_templates(path)


def test_codes_file(tmp_path: Path) -> None:
    path = tmp_path / "codes.toml"
    path.write_text('[SUBSCRIBER_ALREADY_DEFINED]\ncode = 3101\ntext = "ERR3101:Exists"\n')
    assert read_codes(path)[Outcome.SUBSCRIBER_ALREADY_DEFINED].code == 3101
    path.write_text("[SUBSCRIBER_ALREADY_DEFINED]\ncode = 3101\n")
    with pytest.raises(ValueError, match=r"codes\.toml: codes\.SUBSCRIBER_ALREADY_DEFINED\.text"):
        read_codes(path)


def _journal_lines(path: Path) -> list[dict[str, object]]:
    journal = path.with_name(path.name + ".journal")
    return [json.loads(line) for line in journal.read_text().splitlines()]


async def test_sync_mode_journals_each_change_before_it_is_answered(tmp_path: Path) -> None:
    """--state-sync: what was answered is on disk at once, one journal line per record touched,
    and a new emulator started from the file and the journal (the old one killed, never
    closed) holds exactly that."""
    path = tmp_path / "hlr.json"
    emulator = HlrEmulator()
    state_file = StateFile(path, emulator.state, interval=0)
    state_file.attach()
    desk = Desk(emulator)
    desk.ok(LOGIN, add_ki(), add_sub(), add_ki(IMSI2), f'RMV KI:HLRSN=1,IMSI="{IMSI2}";')
    entries = _journal_lines(path)
    assert [e["imsi"] for e in entries] == [IMSI, IMSI, IMSI2, IMSI2]
    assert entries[-1] == {"imsi": IMSI2, "ki": None, "subscriber": None}
    assert stat.S_IMODE(path.with_name("hlr.json.journal").stat().st_mode) == 0o600
    assert not path.exists(), "no whole-file rewrite per change"
    restarted = HlrState()
    assert StateFile(path, restarted).load()
    assert restarted.snapshot(reveal_secrets=True) == emulator.state.snapshot(reveal_secrets=True)
    state_file.close()
    assert not path.with_name("hlr.json.journal").exists(), "folded into the file on close"
    assert sorted(json.loads(path.read_text())["subscribers"]) == [IMSI]


async def test_a_journal_line_cut_short_by_a_kill_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "hlr.json"
    emulator = HlrEmulator()
    StateFile(path, emulator.state, interval=0).attach()
    Desk(emulator).ok(LOGIN, add_ki())
    with path.with_name("hlr.json.journal").open("a") as journal:
        journal.write('{"imsi": "4600')  # the process died mid-write: never answered
    restarted = HlrState()
    StateFile(path, restarted).load()
    assert list(restarted.snapshot()["ki"]) == [IMSI]
    with path.with_name("hlr.json.journal").open("a") as journal:
        journal.write('\n{"imsi": "1"}\n')  # a bad line that is not the last one
    with pytest.raises(ValueError, match="line 2 is not a journal entry"):
        StateFile(path, HlrState()).load()


async def test_the_journal_is_folded_into_the_file_when_it_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("emulators.hlr.statefile.COMPACT_AFTER", 2)
    path = tmp_path / "hlr.json"
    emulator = HlrEmulator()
    StateFile(path, emulator.state, interval=0).attach()
    Desk(emulator).ok(LOGIN, add_ki(), add_ki(IMSI2), add_sub())
    assert sorted(json.loads(path.read_text())["ki"]) == [IMSI, IMSI2]
    assert not path.with_name("hlr.json.journal").exists()
    restarted = HlrState()
    StateFile(path, restarted).load()
    assert restarted.snapshot(reveal_secrets=True) == emulator.state.snapshot(reveal_secrets=True)
