"""`provgw sms send-mo`: a phone's SMS through the SMSC emulator's admin API, exit codes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from click.testing import CliRunner, Result

from emulators.smsc import SmscEmulator
from emulators.smsc.sms_cli import sms

ALICE = "8613800138001"


@pytest.fixture
async def smsc() -> AsyncIterator[SmscEmulator]:
    async with SmscEmulator(port=0, admin_port=0, service_numbers=("10086",)) as emu:
        yield emu


async def send_mo(smsc: SmscEmulator | None, *args: str) -> Result:
    url = f"http://127.0.0.1:{smsc.admin_port if smsc else 9}"
    command = ["send-mo", "--smsc", url, "--from", ALICE, *args]
    return await asyncio.to_thread(CliRunner().invoke, sms, command)  # blocking HTTP


async def test_text_and_binary_reach_the_smsc(smsc: SmscEmulator) -> None:
    result = await send_mo(smsc, "--to", "10086", "CXXZ#张三#110101199003074578")
    assert result.exit_code == 0 and "sent from 8613800138001 to 10086: 1 part(s)" in result.output
    result = await send_mo(smsc, "--to", "10086", "--hex", "--pid", "127", "--dcs", "246",
                           "--udhi", "--json", "027100" + "00" * 8)  # fmt: skip
    assert result.exit_code == 0 and len(json.loads(result.output)["message_ids"]) == 1
    texts = [(m.text, m.protocol_id) for m in smsc.messages("10086")]
    assert texts == [("CXXZ#张三#110101199003074578", 0), ("00" * 8, 0x7F)]


async def test_refusals_bad_input_and_no_smsc_have_their_exit_codes(smsc: SmscEmulator) -> None:
    smsc.bar(ALICE)
    refused = await send_mo(smsc, "--to", "10086", "x")
    assert refused.exit_code == 6 and "RP cause 8" in refused.output
    bad = await send_mo(smsc, "--to", "10086", "--hex", "zz")
    assert bad.exit_code == 2 and "data:" in bad.output
    away = await send_mo(None, "--to", "10086", "x")
    assert away.exit_code == 5 and "cannot be reached" in away.output
