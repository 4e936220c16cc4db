"""The CTRL adapter against a scripted CTRL server: pipelining, timeouts, lost connections,
reconnect backoff, undo on refusal, adoption of an empty record, masking.

osmo-hlr itself answers in order and never misbehaves on cue; these cases need a server that
does. The real osmo-hlr is exercised in tests/integration/test_osmo_hlr.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from adapters.osmo_hlr import ipa
from adapters.osmo_hlr.ctrl import Command
from adapters.osmo_hlr.osmo_ctrl import OsmoCtrlSettings, OsmoHlrCtrl
from adapters.transport_failures import NeUnavailable
from gateway.operations import (
    CreateSubscriber,
    LoadAuth,
    Lookup,
    Outcome,
    RemoveAuth,
    SetData,
)

KI = "465b5ce8b199b49faa5f0a2ee238a6bc"
OPC = "cd63cb71954a9f4e48a5994e37a02baf"
IMSI = "460001234567890"
NUMBER = "8613800000001"
SEL = f"subscriber.by-imsi-{IMSI}"
BARE = f"\nid\t1\nimsi\t{IMSI}\nnam_cs\t0\nnam_ps\t0"

Handler = Callable[["FakeCtrl", str, str, str, str], Awaitable[str | None]]
"""(server, verb, id, var, value) → the answer text, or None for no answer."""


async def answer_ok(server: FakeCtrl, verb: str, rid: str, var: str, value: str) -> str | None:
    if verb == "SET":
        return f"SET_REPLY {rid} {var} OK"
    return f"GET_REPLY {rid} {var} {server.values.get(var, '')}"


class FakeCtrl:
    """A CTRL server on 127.0.0.1 whose answers a test scripts."""

    def __init__(self, handler: Handler = answer_ok) -> None:
        self.handler = handler
        self.received: list[str] = []
        self.ccm: list[bytes] = []
        self.values: dict[str, str] = {}
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: list[asyncio.Task[Any]] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for writer in self.writers:
            writer.close()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        self.tasks.append(task)
        decoder = ipa.Decoder()
        while data := await reader.read(65536):
            for frame in decoder.feed(data):
                if frame.proto == ipa.Proto.CCM:
                    self.ccm.append(frame.payload)
                    continue
                text = frame.payload.decode()
                self.received.append(text)
                verb, rid, rest = text.split(" ", 2)
                var, _, value = rest.partition(" ")
                reply = await self.handler(self, verb, rid, var, value)
                if reply is not None:
                    writer.write(ipa.ctrl(reply))
        writer.close()

    def sent(self) -> list[str]:
        """What the server received, without request ids."""
        return [" ".join(t.split(" ", 2)[::2]) for t in self.received]


@pytest.fixture
async def ctrl() -> AsyncIterator[FakeCtrl]:
    server = FakeCtrl()
    await server.start()
    yield server
    await server.stop()


def adapter(server: FakeCtrl, **over: Any) -> OsmoHlrCtrl:
    settings = {"name": "osmo1", "port": server.port, "command_timeout": 0.3} | over
    return OsmoHlrCtrl(OsmoCtrlSettings.model_validate(settings))


def load_auth() -> LoadAuth:
    return LoadAuth.model_validate({"imsi": IMSI, "ki": KI, "opc": OPC})


async def test_many_requests_share_one_connection_and_answers_match_by_id(ctrl: FakeCtrl) -> None:
    held: list[tuple[str, str]] = []

    async def reverse_order(server: FakeCtrl, verb: str, rid: str, var: str, _: str) -> None:
        held.append((rid, var))
        if len(held) == 8:  # answer everything at once, last request first
            for r, v in reversed(held):
                imsi = v.removeprefix("subscriber.by-imsi-").split(".")[0]
                server.writers[0].write(ipa.ctrl(f"GET_REPLY {r} {v} \nimsi\t{imsi}"))
        return None

    ctrl.handler = reverse_order
    imsis = [f"46000000000000{i}" for i in range(8)]
    async with adapter(ctrl) as ne:
        views = await asyncio.gather(
            *(
                ne.client.exchange([Command("GET", f"subscriber.by-imsi-{i}.info-all")])
                for i in imsis
            )
        )
    assert [v[0].value.split("\t")[1] for v in views] == imsis
    assert ctrl.connections == 1


async def test_a_stage_goes_out_in_one_write_and_the_next_waits(ctrl: FakeCtrl) -> None:
    async with adapter(ctrl) as ne:
        reply = await ne.execute(load_auth())
    assert reply.outcome is Outcome.OK, reply
    assert ctrl.sent() == [
        f"SET subscriber.create {IMSI}",
        f"SET {SEL}.cs-enabled 0",
        f"SET {SEL}.ps-enabled 0",
        f"SET {SEL}.aud3g milenage,{KI},opc,{OPC}",
    ]
    assert KI not in reply.command + reply.response and OPC not in reply.command
    assert reply.command.splitlines()[-1] == f"SET {SEL}.aud3g milenage,****,opc,****"


async def test_no_answer_to_a_change_is_unknown_and_a_late_answer_is_dropped(
    ctrl: FakeCtrl,
) -> None:
    late: list[str] = []

    async def silent_once(server: FakeCtrl, verb: str, rid: str, var: str, value: str) -> Any:
        if not late:
            late.append(f"ERROR {rid} Update MSISDN failed")
            return None
        if len(late) == 1:  # the late answer to the first request arrives now, first
            server.writers[0].write(ipa.ctrl(late.pop()))
            late.append("sent")
        return await answer_ok(server, verb, rid, var, value)

    ctrl.handler = silent_once
    async with adapter(ctrl) as ne:
        first = await ne.execute(SetData(msisdn=NUMBER, enabled=True))
        second = await ne.execute(SetData(msisdn=NUMBER, enabled=False))
    assert (first.outcome, first.code, first.unreachable) == (Outcome.UNKNOWN, "timeout", True)
    assert second.outcome is Outcome.OK, "the late ERROR was not taken for this answer"
    assert ctrl.connections == 1


async def test_no_answer_to_a_read_is_unavailable(ctrl: FakeCtrl) -> None:
    async def silent(*_: Any) -> None:
        return None

    ctrl.handler = silent
    async with adapter(ctrl) as ne:
        with pytest.raises(NeUnavailable):
            await ne.read(Lookup(imsi=IMSI))


async def test_a_connection_lost_after_sending_is_unknown_and_the_next_command_reconnects(
    ctrl: FakeCtrl,
) -> None:
    async def hang_up_once(server: FakeCtrl, verb: str, rid: str, var: str, value: str) -> Any:
        if server.connections == 1:
            server.writers[0].close()
            return None
        return await answer_ok(server, verb, rid, var, value)

    ctrl.handler = hang_up_once
    async with adapter(ctrl) as ne:
        lost = await ne.execute(SetData(msisdn=NUMBER, enabled=True))
        again = await ne.execute(SetData(msisdn=NUMBER, enabled=True))
    assert (lost.outcome, lost.code) == (Outcome.UNKNOWN, "disconnected")
    assert again.outcome is Outcome.OK
    assert ctrl.connections == 2


async def test_losing_a_read_only_stage_is_transient(ctrl: FakeCtrl) -> None:
    async def hang_up(server: FakeCtrl, *_: Any) -> None:
        server.writers[-1].close()

    ctrl.handler = hang_up
    async with adapter(ctrl) as ne:
        reply = await ne.execute(RemoveAuth(imsi=IMSI))  # starts with a GET
    assert (reply.outcome, reply.code, reply.unreachable) == (
        Outcome.TRANSIENT,
        "disconnected",
        True,
    )


async def test_an_unreachable_hlr_is_transient_and_retried_only_after_a_backoff() -> None:
    server = FakeCtrl()
    await server.start()
    port = server.port
    await server.stop()  # nothing listens on the port any more
    ne = adapter(server, reconnect_backoff=0.2)
    first = await ne.execute(SetData(msisdn=NUMBER, enabled=True))
    assert (first.outcome, first.code) == (Outcome.TRANSIENT, "not-sent")
    assert "cannot connect" in first.text
    backing_off = await ne.execute(SetData(msisdn=NUMBER, enabled=True))
    assert "next attempt in" in backing_off.text
    revived = FakeCtrl()
    revived.port = port
    await revived.start()
    try:
        await asyncio.sleep(0.25)
        reply = await ne.execute(SetData(msisdn=NUMBER, enabled=True))
        assert reply.outcome is Outcome.OK
    finally:
        await ne.close()
        await revived.stop()


async def test_a_refusal_part_way_undoes_what_the_operation_changed(ctrl: FakeCtrl) -> None:
    async def number_taken(server: FakeCtrl, verb: str, rid: str, var: str, value: str) -> Any:
        if var.endswith(".msisdn") and value != "none":
            return f"ERROR {rid} Update MSISDN failed"
        return await answer_ok(server, verb, rid, var, value)

    ctrl.handler = number_taken
    async with adapter(ctrl) as ne:
        reply = await ne.execute(CreateSubscriber(imsi=IMSI, msisdn=NUMBER, template_id=1))
    assert (reply.outcome, reply.code) == (Outcome.PERMANENT, "msisdn-in-use")
    assert "already in use by another subscriber" in reply.text
    assert ctrl.sent() == [
        f"SET {SEL}.cs-enabled 1",
        f"SET {SEL}.msisdn {NUMBER}",
        f"SET {SEL}.cs-enabled 0",  # the undo of what succeeded
    ]


async def test_refused_keys_delete_the_record_the_operation_created(ctrl: FakeCtrl) -> None:
    async def bad_key(server: FakeCtrl, verb: str, rid: str, var: str, value: str) -> Any:
        if var.endswith(".aud3g"):
            return f"ERROR {rid} Invalid KI."
        return await answer_ok(server, verb, rid, var, value)

    ctrl.handler = bad_key
    async with adapter(ctrl) as ne:
        reply = await ne.execute(load_auth())
    assert (reply.outcome, reply.code) == (Outcome.PERMANENT, "bad-key")
    assert reply.text == f"osmo-hlr refused the K for IMSI {IMSI}"
    assert ctrl.sent()[-1] == f"SET subscriber.delete {IMSI}"


async def test_an_undo_that_fails_says_manual_work_is_needed(ctrl: FakeCtrl) -> None:
    async def stuck(server: FakeCtrl, verb: str, rid: str, var: str, value: str) -> Any:
        if var.endswith(".aud3g"):
            return f"ERROR {rid} Invalid OP/OPC."
        if var == "subscriber.delete":
            return f"ERROR {rid} Subscriber doesn't exist."
        return await answer_ok(server, verb, rid, var, value)

    ctrl.handler = stuck
    async with adapter(ctrl) as ne:
        reply = await ne.execute(load_auth())
    assert reply.outcome is Outcome.PERMANENT
    assert reply.text.startswith(f"osmo-hlr refused the OPc for IMSI {IMSI}; undoing with")
    assert reply.text.endswith("needs manual work")


async def test_an_empty_record_left_by_an_interrupted_load_auth_is_taken_over(
    ctrl: FakeCtrl,
) -> None:
    async def exists(server: FakeCtrl, verb: str, rid: str, var: str, value: str) -> Any:
        if var == "subscriber.create":
            return f"ERROR {rid} Subscriber already exists."
        return await answer_ok(server, verb, rid, var, value)

    ctrl.handler = exists
    ctrl.values[f"{SEL}.info-all"] = BARE
    async with adapter(ctrl) as ne:
        reply = await ne.execute(load_auth())
    assert reply.outcome is Outcome.OK
    assert ctrl.sent()[1] == f"GET {SEL}.info-all"
    assert ctrl.sent()[-1].startswith(f"SET {SEL}.aud3g")


async def test_an_existing_subscriber_is_not_taken_over(ctrl: FakeCtrl) -> None:
    async def exists(server: FakeCtrl, verb: str, rid: str, var: str, value: str) -> Any:
        if var == "subscriber.create":
            return f"ERROR {rid} Subscriber already exists."
        return await answer_ok(server, verb, rid, var, value)

    ctrl.handler = exists
    ctrl.values[f"{SEL}.info-all"] = BARE + f"\nmsisdn\t{NUMBER}"
    async with adapter(ctrl) as ne:
        reply = await ne.execute(load_auth())
    assert (reply.outcome, reply.code) == (Outcome.PERMANENT, "imsi-exists")
    assert ctrl.sent() == [f"SET subscriber.create {IMSI}", f"GET {SEL}.info-all"]


async def test_an_answer_about_another_variable_is_unknown_and_garbled(ctrl: FakeCtrl) -> None:
    async def confused(server: FakeCtrl, verb: str, rid: str, var: str, value: str) -> str:
        return f"SET_REPLY {rid} subscriber.by-imsi-1.msisdn OK"

    ctrl.handler = confused
    async with adapter(ctrl) as ne:
        reply = await ne.execute(SetData(msisdn=NUMBER, enabled=True))
    assert (reply.outcome, reply.code) == (Outcome.UNKNOWN, "garbled")
    assert not reply.unreachable  # osmo-hlr answered (badly): not an outage


async def test_a_ping_is_answered_with_a_pong(ctrl: FakeCtrl) -> None:
    async def ping_first(server: FakeCtrl, verb: str, rid: str, var: str, value: str) -> Any:
        server.writers[0].write(ipa.ccm(ipa.Ccm.PING))
        return await answer_ok(server, verb, rid, var, value)

    ctrl.handler = ping_first
    async with adapter(ctrl) as ne:
        assert (await ne.execute(SetData(msisdn=NUMBER, enabled=True))).ok
        for _ in range(100):
            if ctrl.ccm:
                break
            await asyncio.sleep(0.01)
    assert ctrl.ccm == [bytes((ipa.Ccm.PONG,))]


async def test_debug_logs_never_show_keys(ctrl: FakeCtrl, caplog: pytest.LogCaptureFixture) -> None:
    ctrl.values[f"{SEL}.info-all"] = BARE + f"\naud3g.algo\tMILENAGE\naud3g.k\t{KI}"
    with caplog.at_level(logging.DEBUG):
        async with adapter(ctrl) as ne:
            await ne.execute(load_auth())
            await ne.read(Lookup(imsi=IMSI))
    assert caplog.records, "something was logged"
    assert KI not in caplog.text and OPC not in caplog.text
