"""Remote file management over SMS-PP, the card's side (TS 31.115, TS 102 225, TS 102 226).

The toolkit hands every SMS-PP download here (ENVELOPE D1). Segments of a concatenated
message are collected first (answered `9000` with nothing); a whole command packet is then
checked in the order a card must:

1. TAR: an RFM application of this card? else PoR "TAR unknown";
2. keys: the key set named by KIc/KID (EF.0348_KEY); decipher; verify the checksum —
   failures answer "unidentified security error", "ciphering error", "RC/CC/DS failed",
   unsigned and in clear;
3. the application's minimum security level (TS 102 226 §8.2.1.3.2.4): cryptographic
   checksum, ciphering and a counter that must be higher — else "insufficient security level";
4. the counter (EF.0348_COUNT): a replayed or lower counter "counter low", one beyond the next
   when the SPI asks for exactly the next "counter high", an exhausted one "counter blocked";
   an accepted counter is stored before anything runs;
5. the script, run in a context of its own (the terminal's selection and PIN state are not
   touched) with the application's access domain: ADM1 and PIN1 granted, so files with
   "never" (Ki, OTA keys) stay out of reach. Commands run until one fails. A case-4 command
   without Le (SELECT with FCP in the compact format) answers `61xx` and leaves its data for a
   GET RESPONSE, as on a T=0 card.

The PoR, secured as the SPI asks, goes back in the ENVELOPE's response data (for the
SMS-DELIVER-REPORT) or — when the SPI says SMS-SUBMIT, or it exceeds the 128 bytes an RP-ACK
may carry (TS 31.111) — as SEND SHORT MESSAGE proactive commands to the command's originator,
concatenated when it needs more than one message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from emulators.usim import keystore
from simcard.rfm import (
    BAD_FORMAT,
    TAR_UICC_RFM,
    TAR_USIM_RFM,
    Format,
    RApdu,
    RfmError,
    compact_response,
    expanded_response,
    read_script,
)
from simcard.secured_packet import (
    CounterMode,
    Integrity,
    Por,
    PorMode,
    PorStatus,
    SecuredPacketError,
    Spi,
    check_counter,
    read_command_header,
    unwrap_command,
    wrap_response,
)
from simcard.sms_pp import (
    DCS_CLASS2_8BIT,
    IEI_COMMAND_PACKET,
    IEI_RESPONSE_PACKET,
    PID_USIM_DATA_DOWNLOAD,
    Reassembler,
    SmsDeliver,
    SmsError,
    SmsSubmit,
    segment,
)

if TYPE_CHECKING:
    from emulators.usim.card import UsimCard

RP_ACK_MAX = 128
_P3_IS_LE = frozenset({0xB0, 0xB2, 0xC0, 0xF2, 0xCA, 0x12})


@dataclass(frozen=True)
class RfmApplication:
    """An RFM application: its TAR, where its scripts start, the rights it grants."""

    name: str
    tar: bytes
    in_usim: bool
    access_domain: frozenset[str] = frozenset({"ADM1", "PIN1"})

    @staticmethod
    def secure_enough(spi: Spi) -> bool:
        """Minimum security level: CC, ciphering and a counter that must grow."""
        return (
            spi.integrity >= Integrity.CC
            and spi.ciphered
            and spi.counter in (CounterMode.HIGHER, CounterMode.NEXT)
        )


APPLICATIONS = {
    app.tar: app
    for app in (
        RfmApplication("UICC RFM", TAR_UICC_RFM, in_usim=False),
        RfmApplication("USIM RFM", TAR_USIM_RFM, in_usim=True),
    )
}


@dataclass
class Download:
    """The card's answer to one SMS-PP download: ENVELOPE response data, SMS to send."""

    response: bytes = b""
    submits: list[SmsSubmit] = field(default_factory=list)


@dataclass
class RemoteManagement:
    card: UsimCard
    _segments: Reassembler = field(default_factory=Reassembler)
    _reference: int = 0

    def download(self, tpdu: bytes) -> Download:
        try:
            sms = SmsDeliver.decode(tpdu)
            whole = self._segments.add(sms.user_data, sms.originator) if sms.udhi else None
        except SmsError:
            return Download()  # not for the RFM: the card has nothing to say about it
        if whole is None or whole.iei != IEI_COMMAND_PACKET:
            return Download()
        outcome = self._process(whole.packet)
        if outcome is None:
            return Download()
        spi, user_data = outcome
        if not spi.por_by_submit and len(user_data) <= RP_ACK_MAX:
            return Download(response=user_data)
        self._reference = (self._reference + 1) & 0xFF
        parts = segment(user_data[3:], IEI_RESPONSE_PACKET, self._reference)
        return Download(submits=[self._submit(sms.originator, part) for part in parts])

    def _submit(self, destination: str, user_data: bytes) -> SmsSubmit:
        return SmsSubmit(
            destination,
            user_data,
            pid=PID_USIM_DATA_DOWNLOAD,
            dcs=DCS_CLASS2_8BIT,
            reference=self.card.next_message_reference(),
            udhi=True,
        )

    def _process(self, packet: bytes) -> tuple[Spi, bytes] | None:
        """The PoR user data for a command packet (None when the SPI wants none)."""
        try:
            spi, kic, kid, tar = read_command_header(packet)
        except SecuredPacketError:
            return None  # not even a header to answer to
        version = (kic if spi.ciphered else kid) >> 4
        keys = keystore.find_keys(
            self.card.content(keystore.KEY_FILE),
            self.card.record_length(keystore.KEY_FILE),
            version,
        )
        status, counter, data = PorStatus.OK, 0, b""
        app = APPLICATIONS.get(tar)
        try:
            if app is None:
                raise SecuredPacketError("TAR unknown", PorStatus.TAR_UNKNOWN)
            command = unwrap_command(packet, keys)
            counter = command.counter
            if not app.secure_enough(command.spi):
                raise SecuredPacketError(
                    "below the minimum security level", PorStatus.INSUFFICIENT_SECURITY
                )
            self._accept_counter(command.spi.counter, command.counter, version)
            data = self._run(app, command.data)
        except SecuredPacketError as exc:
            status = exc.status
        if spi.por is PorMode.NONE or (spi.por is PorMode.ON_ERROR and status is PorStatus.OK):
            return None
        por = Por(tar, counter, status, data if status is PorStatus.OK else b"")
        return spi, wrap_response(keys, spi, por)

    def _accept_counter(self, mode: CounterMode, received: int, version: int) -> None:
        content = self.card.content(keystore.COUNTER_FILE)
        length = self.card.record_length(keystore.COUNTER_FILE)
        refusal = check_counter(mode, received, keystore.counter(content, length, version))
        if refusal is not None:
            raise SecuredPacketError(refusal.meaning, refusal)
        if mode in (CounterMode.HIGHER, CounterMode.NEXT):
            try:
                updated = keystore.with_counter(content, length, version, received)
            except ValueError:
                raise SecuredPacketError(
                    "no room for the counter", PorStatus.INSUFFICIENT_MEMORY
                ) from None
            self.card.replace_content(keystore.COUNTER_FILE, updated)

    def _run(self, app: RfmApplication, data: bytes) -> bytes:
        try:
            script = read_script(data)
        except RfmError as exc:
            if data[:1] in (b"\xaa", b"\xae"):
                return expanded_response([], problem=(BAD_FORMAT, bytes([exc.bad_format])))
            return compact_response(0, RApdu(b"", 0x6700))
        context = self.card.context(app.in_usim, app.access_domain)
        responses: list[RApdu] = []
        for apdu in script.apdus:
            raw = self.card.run_in(context, apdu)
            answer, sw = raw[:-2], int.from_bytes(raw[-2:], "big")
            no_le = len(apdu) > 5 and len(apdu) == 5 + apdu[4] and apdu[1] not in _P3_IS_LE
            if answer and sw == 0x9000 and no_le:  # T=0: the data waits for GET RESPONSE
                context.pending, answer, sw = answer, b"", 0x6100 | (len(answer) & 0xFF)
            responses.append(RApdu(answer, sw))
            if not responses[-1].ok:
                break
        if script.fmt is Format.EXPANDED:
            return expanded_response(responses, indefinite=script.indefinite)
        return compact_response(len(responses), responses[-1] if responses else RApdu(b"", 0x6700))
