"""Through real SSH with an asyncssh client: sessions, framing, concurrency, faults."""

from __future__ import annotations

import asyncio

import asyncssh
import pytest

from emulators.hlr import HlrEmulator

from .conftest import (
    IMSI,
    IMSI2,
    ISDN,
    KI,
    LOGIN,
    SshClient,
    add_ki,
    add_sub,
    no_reply_within,
    read_reply,
)


async def test_greeting_then_login_required(client: SshClient) -> None:
    assert client.greeting.startswith("HLR9820 ")
    assert client.greeting.endswith("\n") and "---    END" not in client.greeting
    assert (await client.send(add_ki())).code == 1006
    assert (await client.send(LOGIN, newline="\r\n")).code == 0
    assert (await client.send(add_ki(), newline="\r\n")).code == 0


async def test_lgo_replies_then_closes_the_channel(client: SshClient) -> None:
    await client.send(LOGIN)
    reply = await client.send("LGO:;")
    assert reply.code == 0
    assert await client.process.stdout.read() == ""
    await client.process.wait_closed()
    assert client.process.exit_status == 0


async def test_wrong_ssh_password_is_refused(running: HlrEmulator) -> None:
    with pytest.raises(asyncssh.PermissionDenied):
        await SshClient.open(running.port, "provgw", "wrong")


async def test_exec_requests_are_refused(running: HlrEmulator) -> None:
    async with asyncssh.connect(
        "127.0.0.1", running.port, username="provgw", password="provgw", known_hosts=None
    ) as conn:
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.run("LGO:;")


async def test_pipelined_and_multiline_commands_are_answered_in_order(client: SshClient) -> None:
    client.process.stdin.write(
        f"{LOGIN}\n\n{add_ki()}\r\n"
        f'ADD TPLSUB:HLRSN=1,IMSI="{IMSI}",\nISDN="{ISDN}",TPLID=1;\n'
        f'LST SUB:HLRSN=1,ISDN="{ISDN}";\n'
    )
    replies = [read_reply(await client.reply()) for _ in range(4)]
    assert [r.code for r in replies] == [0, 0, 0, 0]
    assert replies[2].echo == f'ADD TPLSUB:HLRSN=1,IMSI="{IMSI}",\\x0aISDN="{ISDN}",TPLID=1;'
    assert replies[3].fields["IMSI"] == IMSI


async def test_two_concurrent_sessions_share_one_hlr(running: HlrEmulator) -> None:
    first, second = await SshClient.open(running.port), await SshClient.open(running.port)
    try:
        await asyncio.gather(first.send(LOGIN), second.send(LOGIN))
        one, two = await asyncio.gather(first.send(add_ki(IMSI)), second.send(add_ki(IMSI2)))
        assert (one.code, two.code) == (0, 0)
        assert (await first.send(add_sub(IMSI2))).code == 0  # the KI the other session loaded
        assert (await second.send(add_sub(IMSI, ISDN))).code == 3009
    finally:
        await first.close()
        await second.close()


async def test_two_channels_on_one_connection(client: SshClient) -> None:
    other = await client.conn.create_process(term_type=None)
    await other.stdout.readline()
    other.stdin.write(LOGIN + "\n")
    assert read_reply(await other.stdout.readuntil("---    END\n")).code == 0
    assert (await client.send(add_ki())).code == 1006  # logins are per channel


async def test_pty_session_for_an_engineer_at_a_terminal(running: HlrEmulator) -> None:
    async with asyncssh.connect(
        "127.0.0.1", running.port, username="provgw", password="provgw", known_hosts=None
    ) as conn:
        process = await conn.create_process(term_type="xterm")
        await process.stdout.readline()
        process.stdin.write(LOGIN + "\r")
        text = await process.stdout.readuntil("---    END\r\n")
        reply = text[text.index("+++") :].replace("\r\n", "\n")
        assert read_reply(reply).code == 0


async def test_injected_newline_never_becomes_a_command(client: SshClient) -> None:
    await client.send(LOGIN)
    await client.send(add_ki())
    await client.send(add_sub())
    client.process.stdin.write(f'LST SUB:HLRSN=1,ISDN="1\nRMV SUB:HLRSN=1,ISDN="{ISDN}";\n')
    reply = read_reply(await client.reply())
    assert reply.code == 1001
    assert "\\x0aRMV SUB" in reply.echo
    assert (await client.send(f'LST SUB:HLRSN=1,ISDN="{ISDN}";')).code == 0


async def test_latency_keeps_replies_whole_and_in_order(
    running: HlrEmulator, client: SshClient
) -> None:
    await client.send(LOGIN)
    assert (await client.send("SET EMUFAULT:LATENCY=20,JITTER=10;")).code == 0
    assert running.faults.latency_ms == 20
    client.process.stdin.write(f"{add_ki()}\n{add_sub()}\n")
    first, second = read_reply(await client.reply()), read_reply(await client.reply())
    assert (first.echo.startswith("ADD KI:"), first.code) == (True, 0)
    assert (second.echo.startswith("ADD TPLSUB:"), second.code) == (True, 0)


async def test_error_rate_1_answers_5001_and_changes_nothing(
    running: HlrEmulator, client: SshClient
) -> None:
    await client.send(LOGIN)
    await client.send(add_ki())
    running.faults.update(error_rate=1.0)
    for text in (add_sub(), f'RMV KI:HLRSN=1,IMSI="{IMSI}";', f'LST KI:HLRSN=1,IMSI="{IMSI}";'):
        reply = await client.send(text)
        assert (reply.code, reply.text) == (5001, "ERR5001:System busy")
    assert running.state.snapshot()["subscribers"] == {}
    assert list(running.state.snapshot()["ki"]) == [IMSI]


async def test_drop_closes_the_connection_after_the_command_took_effect(
    running: HlrEmulator, client: SshClient
) -> None:
    await client.send(LOGIN)
    running.faults.update(drop_rate=1.0)
    client.process.stdin.write(add_ki() + "\n")
    with pytest.raises(asyncssh.ConnectionLost):  # no reply: the connection is cut
        await client.process.stdout.read()
    running.faults.clear()
    assert running.state.snapshot(reveal_secrets=True)["ki"][IMSI]["ki"] == KI
    other = await SshClient.open(running.port)
    await other.send(LOGIN)
    assert (await other.send(add_ki())).code == 3008
    await other.close()


async def test_stuck_session_goes_silent_while_others_work(
    running: HlrEmulator, client: SshClient
) -> None:
    await client.send(LOGIN)
    running.faults.update(stuck_after=1)
    assert (await client.send(add_ki())).code == 0
    client.process.stdin.write(add_sub() + "\n")
    assert await no_reply_within(client, 0.3)
    other = await SshClient.open(running.port)
    await other.send(LOGIN)
    assert (await other.send(f'LST KI:HLRSN=1,IMSI="{IMSI}";')).code == 0
    assert running.state.snapshot()["subscribers"] == {}  # the unanswered command did not run
    await other.close()


async def test_stop_closes_open_sessions(running: HlrEmulator, client: SshClient) -> None:
    await client.send(LOGIN)
    await running.stop()
    await asyncio.wait_for(client.conn.wait_closed(), 5)


async def test_a_client_that_does_not_read_gets_every_reply_later(client: SshClient) -> None:
    # More reply bytes than the SSH window holds: the server must pause and resume, not drop.
    await client.send(LOGIN)
    count = 8000
    client.process.stdin.write("LST EMUFAULT:;\n" * count)
    await asyncio.sleep(0.2)
    serials = []
    for _ in range(count):
        raw = await client.reply()
        assert read_reply(raw).fields["STUCKAFTER"] == "0"
        serials.append(int(raw.split("\n")[1].split("#")[1]))
    assert serials == sorted(serials) and len(set(serials)) == count
