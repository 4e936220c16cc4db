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


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "hlr.json"
    async with HlrEmulator(port=0, state_file=path) as first:
        Desk(first).ok(LOGIN, add_ki(), add_sub(), f'REG CFU:HLRSN=1,ISDN="{ISDN}",FTN="1234";')
        expected = first.state.snapshot(reveal_secrets=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the keys in clear
    data = json.loads(path.read_text())
    assert data["version"] == 2 and data["ki"][IMSI]["ki"] == KI and data["ki"][IMSI]["opc"] == OPC
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
    js.write_text('{"3": {"odbroam": "BROHPLMN", "ic": true}}')
    assert read_templates(js) == {3: Template(odbroam="BROHPLMN", ic=True)}


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
