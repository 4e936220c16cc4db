"""The demo's supervisor starts a crashed emulator again, on the same port, with its state."""

from __future__ import annotations

import asyncio
import os
import signal
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from gateway.bench_storm import mml, snapshot_from
from gateway.runtime import EmulatorProcess, hlr_emulator_process
from gateway.supervisor import Supervised

ADD_KI = (
    'ADD KI:HLRSN=1,IMSI="460001234567890",OPERTYPE=ADD,'
    'KIVALUE="465B5CE8B199B49FAA5F0A2EE238A6BC",K4SNO=0,CARDTYPE=USIM,ALG=MILENAGE;'
)


async def test_a_killed_emulator_comes_back_on_its_port_with_what_it_acknowledged(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    port = 0

    def start() -> AbstractAsyncContextManager[EmulatorProcess]:
        return hlr_emulator_process("--state-sync", state_file=tmp_path / "state.json", port=port)

    supervised: Supervised[EmulatorProcess] = Supervised(
        "the HLR emulator",
        start,
        lambda e: e.process,
        say=said.append,
        backoff_first_s=0.1,
    )
    async with supervised as first:
        port = first.port
        added = await mml(first, ADD_KI)
        assert "RETCODE = 0" in added
        os.kill(first.process.pid, signal.SIGKILL)
        for _ in range(200):
            if supervised.restarts:
                break
            await asyncio.sleep(0.05)
        assert supervised.restarts == 1
        again = supervised.current
        assert again is not None and again.port == first.port
        assert again.process.pid != first.process.pid
        state = snapshot_from(await mml(again, "EXP STATE:;"))
        assert list(state["ki"]) == ["460001234567890"]
    assert said[0] == "the HLR emulator exited with code -9; restarting it in 0.1 s"
    assert said[1] == "the HLR emulator restarted (1 so far)"
    assert again.process.returncode is not None, "stopped with the supervisor"
