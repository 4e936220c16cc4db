"""`provgw card …` in-process: the emulator stands in the slot the CLI would open via PC/SC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from emulators.usim.card import UsimCard
from simcard.batch import generate, write_csv
from simcard.cli import EXIT_BATCH_FAILURES, card
from simcard.transport import InProcessTransport
from tests.emulators.usim.usim_terminal import Terminal
from tests.simcard.conftest import ADM1, KI, OPC

WRITE = ["--iccid", "8988211000000467343", "--imsi", "001010000000102", "--spn", "Magic"]
KEYS = {"PROVGW_KI": KI, "PROVGW_OPC": OPC, "PROVGW_ADM1": ADM1}


class Slot(InProcessTransport):
    """A reader slot holding emulated cards one after the other (a test double for PC/SC)."""

    def __init__(self, cards: list[UsimCard]) -> None:
        super().__init__(cards[0])
        self.queue = list(cards)

    def wait_for_card(self, timeout: float | None = None, *, present: bool = True) -> bool:
        if not present:
            return True
        if not self.queue:
            return False
        self.card = self.queue.pop(0)
        return True


def run(cards: list[UsimCard], args: list[str], env: dict[str, str] | None = None) -> Result:
    slot = Slot(cards)
    return CliRunner().invoke(card, args, obj={"slot": lambda reader, shared: slot}, env=env)


def test_write_then_read_then_verify() -> None:
    blank = UsimCard.blank()
    result = run([blank], ["write", *WRITE, "--json"], env=KEYS)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and report["verified"] and report["apdus"] <= 60
    read = run([blank], ["read", "--json"])
    assert json.loads(read.stdout)["files"]["imsi"]["value"] == "001010000000102"
    human = run([blank], ["read"])
    assert "SPN: Magic" in human.stdout and "IMSI: 001010000000102" in human.stdout
    checked = run([blank], ["verify", *WRITE], env=KEYS)
    assert checked.exit_code == 0 and "keys proven" in checked.stdout


def test_secrets_are_never_echoed() -> None:
    result = run([UsimCard.blank()], ["write", *WRITE, "--ki", KI, "--opc", OPC, "--adm1", ADM1])
    assert result.exit_code == 0
    bad = run(
        [UsimCard.blank()], ["write", *WRITE, "--ki", KI[:-1] + "x", "--opc", OPC, "--adm1", ADM1]
    )
    assert bad.exit_code == 2
    for text in (result.output, bad.output, bad.stderr):
        assert KI not in text and OPC not in text and ADM1 not in text and KI[:-1] not in text


@pytest.mark.parametrize(
    ("args", "env", "code", "words"),
    [
        (["--iccid", "8988211000000467344", "--imsi", "001010000000102"], KEYS, 2, "Luhn"),
        (WRITE, {**KEYS, "PROVGW_ADM1": "87654321"}, 4, "2 tries left"),
        (["--imsi", "001010000000102"], KEYS, 2, "iccid: Field required"),
    ],
)
def test_exit_codes(args: list[str], env: dict[str, str], code: int, words: str) -> None:
    result = run([UsimCard.blank()], ["write", *args, "--json"], env=env)
    assert result.exit_code == code
    assert words in result.stdout


def test_verify_with_the_wrong_key_exits_6() -> None:
    blank = UsimCard.blank()
    assert run([blank], ["write", *WRITE], env=KEYS).exit_code == 0
    result = run([blank], ["verify", *WRITE, "--json"], env={**KEYS, "PROVGW_KI": "00" * 16})
    assert result.exit_code == 6
    assert "MAC failure" in json.loads(result.stdout)["error"]


def test_second_write_on_the_same_card_exits_5() -> None:
    blank = UsimCard.blank()
    assert run([blank], ["write", *WRITE], env=KEYS).exit_code == 0
    assert run([blank], ["write", *WRITE], env=KEYS).exit_code == 5


def test_batch_skips_failures_and_goes_on(tmp_path: Path) -> None:
    profiles = generate(3, "001010000000001", "8988211000000000011", template={"adm1": ADM1})
    csv_file = tmp_path / "batch.csv"
    with csv_file.open("w") as stream:
        write_csv(stream, profiles)
    with csv_file.open("a") as stream:
        stream.write("8988211000000000044,001010000000009,00,00\n")  # a bad row
    cards = [UsimCard.blank(), UsimCard.blank(adm1="87654321"), UsimCard.blank()]
    result = run(cards, ["batch", str(csv_file), "--json"])
    assert result.exit_code == EXIT_BATCH_FAILURES
    summary = json.loads(result.stdout)
    assert [c["ok"] for c in summary["cards"]] == [True, False, True, False]
    assert "tries left" in summary["cards"][1]["error"]
    assert "line 5" in summary["cards"][3]["error"]
    human = run([UsimCard.blank()], ["batch", str(csv_file), "--wait", "0"])
    assert "1 cards written, 3 failed, 4 rows" in human.stdout


def test_write_from_a_csv_row_and_a_json_profile(tmp_path: Path) -> None:
    [profile] = generate(1, "001010000000001", "8988211000000000011", template={"adm1": ADM1})
    csv_file = tmp_path / "one.csv"
    with csv_file.open("w") as stream:
        write_csv(stream, [profile])
    assert run([UsimCard.blank()], ["write", "--csv", str(csv_file), "--row", "1"]).exit_code == 0
    json_file = tmp_path / "profile.json"
    json_file.write_text(
        json.dumps(
            {"iccid": "8988211000000467343", "imsi": "001010000000102", "ki": KI, "opc": OPC}
        )
    )
    result = run([UsimCard.blank()], ["write", "--profile", str(json_file), "--adm1", ADM1])
    assert result.exit_code == 0, result.output


def test_write_from_pysim_prog_write_csv_on_an_sja2_claims_no_iccid(tmp_path: Path) -> None:
    """pySim-prog --write-csv output (no header) programs a card; the SJA2 keeps its ICCID,
    so the report says whose ICCID it is instead of claiming to have written it."""
    from tests.simcard.test_batch import PYSIM_WRITE_CSV

    csv_file = tmp_path / "pysim.csv"
    csv_file.write_text(PYSIM_WRITE_CSV)
    sja2 = UsimCard.blank(model="sja2")
    Terminal(sja2).adm()
    Terminal(sja2).ok("00 A4 00 0C 02 2FE2")
    Terminal(sja2).ok("00 D6 00 00 0A 988812010000407643F3")  # made with 8988211000000467343
    args = ["write", "--csv", str(csv_file), "--row", "1", "--adm1", ADM1]
    result = run([sja2], args)
    assert result.exit_code == 0, result.output
    assert "IMSI 001010000000102 written and verified by AUTHENTICATE" in result.stdout
    assert "ICCID 8988211000000467343 is the card's own (this model keeps it)" in result.stdout
    assert "ICCID 8988211000000467343, IMSI" not in result.stdout
    blank_iccid = run([UsimCard.blank(model="sja2")], [*args, "--json"])
    report = json.loads(blank_iccid.stdout)
    assert report["iccid"] == "" and report["iccid_written"] is False
    provgw = json.loads(run([UsimCard.blank()], [*args, "--json"]).stdout)
    assert provgw["iccid"] == "8988211000000467343" and provgw["iccid_written"] is True
    human = run([UsimCard.blank(model="sja2")], args).stdout
    assert "ICCID not written (this model keeps its own, and this card's is blank)" in human


def test_generate_writes_a_private_csv(tmp_path: Path) -> None:
    out = tmp_path / "cards.csv"
    result = CliRunner().invoke(
        card,
        [
            "generate",
            str(out),
            "--count",
            "2",
            "--first-imsi",
            "001010000000001",
            "--first-iccid",
            "8988211000000000011",
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_mode & 0o777 == 0o600
    assert len(out.read_text().splitlines()) == 3
