"""Shared helpers: a test-side reading of replies, an in-process MML desk, an SSH client.

The reply reader here is deliberately tiny and independent of `adapters/` (the emulator and
the adapter must not share parsing code) and of the emulator's own renderer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncssh
import pytest

from emulators.hlr import HlrEmulator
from emulators.hlr.session import MmlSession

# 3GPP TS 35.208 test set 1: K and OPc.
KI = "465B5CE8B199B49FAA5F0A2EE238A6BC"
OPC = "CD63CB71954A9F4E48A5994E37A02BAF"
IMSI = "460001234567890"
IMSI2 = "460001234567891"
ISDN = "8613800000001"
ISDN2 = "8613800000002"
LOGIN = 'LGI:HLRSN=1,OPNAME="provgw",PWD="provgw";'
END = "---    END\n"


def add_ki(imsi: str = IMSI) -> str:
    return (
        f'ADD KI:HLRSN=1,IMSI="{imsi}",OPERTYPE=ADD,KIVALUE="{KI}",K4SNO=1,'
        f'CARDTYPE=USIM,ALG=MILENAGE,OPCVALUE="{OPC}";'
    )


def add_sub(imsi: str = IMSI, isdn: str = ISDN, tplid: int = 1) -> str:
    return f'ADD TPLSUB:HLRSN=1,IMSI="{imsi}",ISDN="{isdn}",TPLID={tplid};'


@dataclass
class Reply:
    raw: str
    echo: str
    code: int
    text: str
    fields: dict[str, str]
    reports: int


_REPLY = re.compile(
    r"\+\+\+    (?P<ne>\S+)        \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n"
    r"O&M    #\d+\n"
    r"%%(?P<echo>.*)%%\n"
    r"RETCODE = (?P<code>\d+)  (?P<text>.*)\n"
    r"\n"
    r"(?:The result is as follows\n-{24}\n(?P<body>(?:\S+  =  .*\n)+)\n)?"
    r"There is together (?P<reports>[01]) report\n"
    r"---    END\n\Z"
)


def read_reply(raw: str) -> Reply:
    """Check the contract's layout exactly and take the reply apart."""
    match = _REPLY.match(raw)
    assert match is not None, f"reply off the contract's layout:\n{raw}"
    fields = {}
    for line in (match["body"] or "").splitlines():
        name, value = line.split("  =  ", 1)
        fields[name] = value
    return Reply(
        raw, match["echo"], int(match["code"]), match["text"], fields, int(match["reports"])
    )


class Desk:
    """An MML session driven in-process, without SSH."""

    def __init__(self, emulator: HlrEmulator) -> None:
        self.emulator = emulator
        self.session = MmlSession(emulator.service)

    def send(self, text: str) -> Reply:
        answer = self.session.handle(text)
        assert answer.reply is not None, f"no reply to {text}"
        return read_reply(answer.reply)

    def code(self, text: str) -> int:
        return self.send(text).code

    def ok(self, *texts: str) -> None:
        for text in texts:
            reply = self.send(text)
            assert reply.code == 0, reply.raw


@pytest.fixture
def emulator() -> HlrEmulator:
    """An emulator that is not listening: enough for in-process sessions."""
    return HlrEmulator(port=0)


@pytest.fixture
def desk(emulator: HlrEmulator) -> Desk:
    desk = Desk(emulator)
    desk.ok(LOGIN)
    return desk


class SshClient:
    """One SSH connection with one MML shell channel."""

    def __init__(self, conn: asyncssh.SSHClientConnection, process: asyncssh.SSHClientProcess[str]):
        self.conn = conn
        self.process = process
        self.greeting = ""

    @classmethod
    async def open(cls, port: int, user: str = "provgw", password: str | None = None) -> SshClient:
        """Connect as `user` (password: the user name unless given) and open a shell."""
        conn = await asyncssh.connect(
            "127.0.0.1", port, username=user, password=password or user, known_hosts=None
        )
        process = await conn.create_process(term_type=None)
        client = cls(conn, process)
        client.greeting = await process.stdout.readline()
        return client

    async def send(self, text: str, *, newline: str = "\n") -> Reply:
        self.process.stdin.write(text + newline)
        return read_reply(await self.reply())

    async def reply(self) -> str:
        return await self.process.stdout.readuntil(END)

    async def close(self) -> None:
        self.conn.close()
        await self.conn.wait_closed()


@pytest.fixture
async def running() -> AsyncIterator[HlrEmulator]:
    async with HlrEmulator(port=0) as emulator:
        yield emulator


@pytest.fixture
async def client(running: HlrEmulator) -> AsyncIterator[SshClient]:
    client = await SshClient.open(running.port)
    yield client
    await client.close()


async def no_reply_within(client: SshClient, seconds: float) -> bool:
    """True if nothing arrives within `seconds` (used to show a session is stuck)."""
    try:
        await asyncio.wait_for(client.process.stdout.read(1), seconds)
    except TimeoutError:
        return True
    return False
