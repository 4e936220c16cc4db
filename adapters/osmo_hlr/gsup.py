"""A minimal GSUP client: ask an Osmocom HLR for authentication vectors (SendAuthInfo).

The gateway's authentication proof challenges a freshly written card with a vector the HLR
computed from the keys it was given, which proves card and HLR hold the same K/OPc. Usage::

    async with GsupClient("127.0.0.2") as hlr:
        vectors = await hlr.send_auth_info("901700000000001", count=1)
    # → [AuthVector(rand=…, autn=…, xres=…, ck=…, ik=…, sres=…, kc=…)]

GSUP rides on IPA (`adapters.osmo_hlr.ipa`, proto 0xEE, extension 0x05). The HLR speaks first:
an IPA CCM ID_GET, which must be answered with an ID_RESP carrying UNIT and SERNR — osmo-hlr
resets a peer without UNIT and cannot route answers to one without SERNR (it becomes the peer's
name, and osmo-hlr assigns each peer name its own SQN index IND). Messages are coded with
pyosmocom's GSUP codec.

One request at a time per client (GSUP answers carry the IMSI but no request id); open one
client per concurrent proof. A timeout or a broken answer closes the connection, so that a late
answer can never be taken for the next request's; the next call reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self

from osmocom.gsup.message import GsupMessage, MsgType

from adapters.osmo_hlr import ipa

DEFAULT_PORT = 4222

# TS 24.008 §10.5.5.14 GMM causes, as osmo-hlr uses them in GSUP errors.
_CAUSES = {
    2: "IMSI unknown in the HLR, or no authentication data for it "
    "(osmo-hlr answers both with cause 2)",
    3: "illegal MS",
    6: "illegal ME",
    7: "GPRS services not allowed",
    8: "GPRS and non-GPRS services not allowed",
    11: "PLMN not allowed",
    13: "roaming not allowed in this location area",
    17: "network failure",
    22: "congestion",
    95: "semantically incorrect message",
    96: "invalid mandatory information",
    97: "message type non-existent or not implemented",
    111: "protocol error, unspecified",
}
_TRANSIENT_CAUSES = frozenset({17, 22})


@dataclass(frozen=True)
class AuthVector:
    """One authentication vector. 3G fields are None for a 2G-only (COMP128) subscriber; SRES
    and Kc are always there (from COMP128 or, with 3G keys only, from c2/c3). The session keys
    and expected responses are kept out of ``repr``."""

    rand: bytes
    sres: bytes = field(repr=False)
    kc: bytes = field(repr=False)
    autn: bytes | None = None
    xres: bytes | None = field(default=None, repr=False)
    ck: bytes | None = field(default=None, repr=False)
    ik: bytes | None = field(default=None, repr=False)

    @property
    def umts(self) -> bool:
        """Whether this is a 3G (UMTS AKA) vector, usable with AUTHENTICATE P2=81."""
        return self.autn is not None

    @property
    def sqn_xor_ak(self) -> bytes | None:
        """The first 6 bytes of AUTN: SQN concealed by the anonymity key AK."""
        return None if self.autn is None else self.autn[:6]


class GsupError(Exception):
    """The HLR refused, or the exchange failed. ``transient``: worth asking again later."""

    def __init__(self, message: str, *, cause: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.cause = cause
        self.transient = transient


def cause_text(cause: int) -> str:
    return _CAUSES.get(cause, f"cause {cause}")


class Resync(NamedTuple):
    """A card's resynchronisation token: the RAND it was challenged with and its AUTS."""

    rand: bytes
    auts: bytes


def sai_request(
    imsi: str,
    count: int = 1,
    domain: Literal["cs", "ps"] = "cs",
    resync: Resync | None = None,
) -> bytes:
    """An encoded SEND_AUTH_INFO_REQUEST for ``count`` vectors (1-5); with ``resync``, the
    HLR first checks the AUTS and moves its SQN past the card's (TS 33.102 §6.3.5)."""
    if not (imsi.isascii() and imsi.isdigit() and 6 <= len(imsi) <= 15):
        raise ValueError("imsi must be 6 to 15 digits")
    if not 1 <= count <= 5:
        raise ValueError("count must be 1 to 5 vectors")
    ies: list[dict[str, Any]] = [{"imsi": imsi}, {"cn_domain": domain}]
    if resync is not None:
        if len(resync.rand) != 16 or len(resync.auts) != 14:
            raise ValueError("resync needs a 16-byte RAND and a 14-byte AUTS")
        ies += [{"auts": resync.auts}, {"rand": resync.rand}]
    ies.append({"num_vectors_req": count})
    message = GsupMessage.from_dict({"msg_type": "SEND_AUTH_INFO_REQUEST", "ies": ies})
    return bytes(message.to_bytes())


def parse_sai_answer(imsi: str, encoded: bytes) -> list[AuthVector] | None:
    """The vectors of a SEND_AUTH_INFO_RESULT for ``imsi``; None for a message about something
    else (another IMSI or message type). Raises `GsupError` for SEND_AUTH_INFO_ERROR."""
    message = GsupMessage.from_bytes(encoded)
    ies: list[dict[str, Any]] = message.to_dict()["ies"]
    if not any(ie.get("imsi") == imsi for ie in ies):
        return None
    if message.msg_type == MsgType.SEND_AUTH_INFO_ERROR:
        cause = next((int(ie["cause"]) for ie in ies if "cause" in ie), 0)
        raise GsupError(
            f"HLR refused authentication info for IMSI {imsi}: {cause_text(cause)}",
            cause=cause,
            transient=cause in _TRANSIENT_CAUSES,
        )
    if message.msg_type != MsgType.SEND_AUTH_INFO_RESULT:
        return None
    vectors = []
    for ie in ies:
        if "auth_tuple" not in ie:
            continue
        parts: dict[str, bytes] = {}
        for item in ie["auth_tuple"]:
            parts.update(item)
        try:
            vectors.append(
                AuthVector(
                    rand=parts["rand"],
                    sres=parts["sres"],
                    kc=parts["kc"],
                    autn=parts.get("autn"),
                    xres=parts.get("res"),
                    ck=parts.get("ck"),
                    ik=parts.get("ik"),
                )
            )
        except KeyError as exc:
            raise GsupError(f"HLR sent an authentication tuple without {exc}") from None
    if not vectors:
        raise GsupError(f"HLR sent no authentication vectors for IMSI {imsi}")
    return vectors


class GsupClient:
    """A GSUP connection to an HLR, identified as ``name`` (the IPA SERNR).

    ``name`` matters beyond identification: osmo-hlr derives the IND of the SQNs it hands out
    from it, so one name per gateway keeps the card's SQN array tidy.
    """

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        name: str = "provgw",
        unit: str = "0/0/0",
        timeout: float = 5.0,
    ) -> None:
        if not name.isascii() or not name.isprintable() or not name:
            raise ValueError("name must be printable ASCII")
        self.host = host
        self.port = port
        self.name = name
        self.unit = unit
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._decoder = ipa.Decoder()
        self._pending: list[ipa.Frame] = []
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connect and identify (answer the HLR's ID_GET); idempotent."""
        if self._writer is not None:
            return
        try:
            async with asyncio.timeout(self.timeout):
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
                self._decoder = ipa.Decoder()
                self._pending = []
                while True:
                    frame = await self._frame()
                    if ipa.ccm_type(frame) == ipa.Ccm.ID_GET:
                        ipa.requested_tags(frame.payload[1:])  # checks its shape
                        self._writer.write(
                            ipa.id_resp({ipa.IdTag.UNIT: self.unit, ipa.IdTag.SERNR: self.name})
                        )
                        await self._writer.drain()
                        return
        except (OSError, TimeoutError, ipa.FramingError) as exc:
            await self.close()
            raise GsupError(
                f"cannot open GSUP to {self.host}:{self.port}: {exc or 'no ID_GET in time'}",
                transient=True,
            ) from None

    async def send_auth_info(
        self,
        imsi: str,
        *,
        count: int = 1,
        domain: Literal["cs", "ps"] = "cs",
        resync: Resync | None = None,
    ) -> list[AuthVector]:
        """``count`` vectors for ``imsi`` as the HLR computes them (each call advances its SQN);
        with ``resync``, after moving the HLR's SQN past the card's.

        Raises `GsupError`: refused (``cause`` set; cause 2 = unknown IMSI or no keys), or the
        exchange failed (``transient``).
        """
        request = ipa.gsup(sai_request(imsi, count, domain, resync))
        async with self._lock:
            await self.connect()
            assert self._writer is not None
            try:
                async with asyncio.timeout(self.timeout):
                    self._writer.write(request)
                    await self._writer.drain()
                    while True:
                        frame = await self._frame()
                        if frame.proto == ipa.Proto.OSMO and frame.ext == ipa.Ext.GSUP:
                            vectors = parse_sai_answer(imsi, frame.payload)
                            if vectors is not None:
                                return vectors
            except (OSError, TimeoutError, ipa.FramingError, ValueError) as exc:
                await self.close()
                raise GsupError(
                    f"no SendAuthInfo answer for IMSI {imsi}: {exc or 'timed out'}",
                    transient=True,
                ) from None

    async def _frame(self) -> ipa.Frame:
        """The next frame that is not a PING (answered with a PONG) or ID_ACK."""
        assert self._reader is not None and self._writer is not None
        while True:
            while not self._pending:
                data = await self._reader.read(65536)
                if not data:
                    raise ConnectionError("the HLR closed the GSUP connection")
                self._pending.extend(self._decoder.feed(data))
            frame = self._pending.pop(0)
            kind = ipa.ccm_type(frame)
            if kind == ipa.Ccm.PING:
                self._writer.write(ipa.ccm(ipa.Ccm.PONG))
            elif kind != ipa.Ccm.ID_ACK:
                return frame

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):  # already reset by the HLR: closed all the same
                await writer.wait_closed()


async def send_auth_info(
    host: str, imsi: str, *, port: int = DEFAULT_PORT, count: int = 1, name: str = "provgw"
) -> list[AuthVector]:
    """One-shot: connect, identify as ``name``, fetch ``count`` vectors for ``imsi``, close."""
    async with GsupClient(host, port, name=name) as client:
        return await client.send_auth_info(imsi, count=count)
