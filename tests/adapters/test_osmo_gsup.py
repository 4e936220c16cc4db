"""The GSUP client against a scripted HLR: the IPA identity exchange, SendAuthInfo coding,
vectors, error causes, timeouts. Vectors from the real osmo-hlr are checked in
tests/integration/test_osmo_hlr.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from osmocom.gsup.message import GsupMessage

from adapters.osmo_hlr import gsup, ipa

H = bytes.fromhex
IMSI = "901700000000042"
ID_GET = H("0011fe0401080107010201030104010501010100")


def sai_result(imsi: str, tuples: list[dict[str, bytes]]) -> bytes:
    ies: list[dict[str, Any]] = [{"imsi": imsi}]
    ies += [{"auth_tuple": [{k: v} for k, v in t.items()]} for t in tuples]
    return bytes(
        GsupMessage.from_dict({"msg_type": "SEND_AUTH_INFO_RESULT", "ies": ies}).to_bytes()
    )


def sai_error(imsi: str, cause: int) -> bytes:
    ies = [{"imsi": imsi}, {"cause": cause}]
    return bytes(GsupMessage.from_dict({"msg_type": "SEND_AUTH_INFO_ERROR", "ies": ies}).to_bytes())


UMTS = {
    "rand": H("0133336b4a6e207c7a477d5cf102e126"),
    "sres": H("47e221db"),
    "kc": H("75763781f73e8c00"),
    "ik": H("0cb6387356dce76f45bbd5677a56589a"),
    "ck": H("a9c45ff4b9622b20ceafd6a0b1a0b5dc"),
    "autn": H("a907a8f61507000019832b72dc0b0c59"),
    "res": H("ecf715028f11b20f"),
}


class FakeHlr:
    """Speaks first with ID_GET, records the ID_RESP, answers GSUP with ``answers`` in turn."""

    def __init__(self) -> None:
        self.id_resp: bytes | None = None
        self.requests: list[bytes] = []
        self.answers: list[bytes | None] = []
        self.ping_first = False
        self.ccm: list[int] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.append(task)
        writer.write(ID_GET)
        decoder = ipa.Decoder()
        while data := await reader.read(65536):
            for frame in decoder.feed(data):
                if ipa.ccm_type(frame) == ipa.Ccm.ID_RESP:
                    self.id_resp = frame.payload
                elif frame.proto == ipa.Proto.CCM:
                    self.ccm.append(frame.payload[0])
                else:
                    self.requests.append(frame.payload)
                    if self.ping_first:
                        writer.write(ipa.ccm(ipa.Ccm.PING))
                    answer = self.answers.pop(0)
                    if answer is not None:
                        writer.write(ipa.gsup(answer))
        writer.close()


@pytest.fixture
async def hlr() -> AsyncIterator[FakeHlr]:
    server = FakeHlr()
    await server.start()
    yield server
    await server.stop()


def test_the_sai_request_is_coded_as_osmo_hlr_expects() -> None:
    # shared/reference/osmo-hlr.md §4: SAI_REQ, IMSI, CN=cs, 3 vectors
    assert gsup.sai_request(IMSI, 3) == H("08010809710000000040f2280102520103")


def test_a_resync_request_carries_auts_and_rand() -> None:
    rand, auts = bytes(range(16)), bytes(range(100, 114))
    encoded = gsup.sai_request(IMSI, 1, resync=gsup.Resync(rand, auts))
    assert encoded == (
        H("08010809710000000040f2280102") + H("260e") + auts + H("2010") + rand + H("520101")
    )
    with pytest.raises(ValueError, match="14-byte AUTS"):
        gsup.sai_request(IMSI, 1, resync=gsup.Resync(rand, auts[:-1]))


@pytest.mark.parametrize(
    ("imsi", "count", "error"),
    [("9017", 1, "imsi"), ("90170000000004x", 1, "imsi"), (IMSI, 6, "count")],
)
def test_bad_requests_name_the_field(imsi: str, count: int, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        gsup.sai_request(imsi, count)


def test_a_result_is_read_into_vectors() -> None:
    two_g = {"rand": UMTS["rand"], "sres": UMTS["sres"], "kc": UMTS["kc"]}
    vectors = gsup.parse_sai_answer(IMSI, sai_result(IMSI, [UMTS, two_g]))
    assert vectors is not None
    umts, gsm = vectors
    assert (umts.rand, umts.autn, umts.xres, umts.ck, umts.ik) == (
        UMTS["rand"],
        UMTS["autn"],
        UMTS["res"],
        UMTS["ck"],
        UMTS["ik"],
    )
    assert (umts.sres, umts.kc) == (UMTS["sres"], UMTS["kc"])
    assert umts.umts and umts.sqn_xor_ak == UMTS["autn"][:6]
    assert not gsm.umts and gsm.xres is None and gsm.sqn_xor_ak is None
    assert UMTS["ck"].hex() not in repr(umts) and "ck=" not in repr(umts)


def test_a_result_for_another_imsi_is_not_ours() -> None:
    assert gsup.parse_sai_answer("901700000000001", sai_result(IMSI, [UMTS])) is None


@pytest.mark.parametrize(
    ("cause", "words", "transient"),
    [
        (2, "IMSI unknown in the HLR, or no authentication data", False),
        (17, "network failure", True),
    ],
)
def test_an_error_names_its_cause(cause: int, words: str, transient: bool) -> None:
    with pytest.raises(gsup.GsupError, match=words) as raised:
        gsup.parse_sai_answer(IMSI, sai_error(IMSI, cause))
    assert (raised.value.cause, raised.value.transient) == (cause, transient)


def test_an_unknown_cause_is_shown_by_number() -> None:
    assert gsup.cause_text(250) == "cause 250"


async def test_the_client_identifies_with_unit_and_serial_then_asks(hlr: FakeHlr) -> None:
    hlr.answers = [sai_result(IMSI, [UMTS])]
    async with gsup.GsupClient("127.0.0.1", hlr.port, name="provgw-test") as client:
        (vector,) = await client.send_auth_info(IMSI, count=1)
    assert vector.xres == UMTS["res"]
    assert (
        hlr.id_resp
        == bytes((ipa.Ccm.ID_RESP,)) + H("000708") + b"0/0/0\0" + H("000d00") + b"provgw-test\0"
    )
    assert hlr.requests == [gsup.sai_request(IMSI, 1)]


async def test_pings_are_answered_while_waiting(hlr: FakeHlr) -> None:
    hlr.ping_first = True
    hlr.answers = [sai_result(IMSI, [UMTS])]
    vectors = await gsup.send_auth_info("127.0.0.1", IMSI, port=hlr.port)
    assert len(vectors) == 1
    for _ in range(100):  # the server reads the PONG in its own time
        if hlr.ccm:
            break
        await asyncio.sleep(0.01)
    assert hlr.ccm == [ipa.Ccm.PONG]


async def test_a_refusal_keeps_the_connection_and_the_next_request_works(hlr: FakeHlr) -> None:
    hlr.answers = [sai_error(IMSI, 2), sai_result(IMSI, [UMTS])]
    async with gsup.GsupClient("127.0.0.1", hlr.port) as client:
        with pytest.raises(gsup.GsupError) as refused:
            await client.send_auth_info(IMSI)
        assert refused.value.cause == 2 and not refused.value.transient
        assert len(await client.send_auth_info(IMSI)) == 1


async def test_no_answer_is_a_transient_error_and_closes_the_connection(hlr: FakeHlr) -> None:
    hlr.answers = [None]
    async with gsup.GsupClient("127.0.0.1", hlr.port, timeout=0.2) as client:
        with pytest.raises(gsup.GsupError, match="no SendAuthInfo answer") as raised:
            await client.send_auth_info(IMSI)
        assert raised.value.transient


async def test_an_hlr_that_is_not_there_is_a_transient_error() -> None:
    server = FakeHlr()
    await server.start()
    await server.stop()
    with pytest.raises(gsup.GsupError, match="cannot open GSUP") as raised:
        await gsup.send_auth_info("127.0.0.1", IMSI, port=server.port)
    assert raised.value.transient
