"""The emulated UICC/USIM: APDU in, response APDU out.

It stands in for a programmable card (sysmoISIM-SJA2-like) in front of the card library, both
in-process (`UsimCard.transmit`) and behind pcscd through vpcd (`emulators.usim.vpcd`).
Commands follow ETSI TS 102 221 / 3GPP TS 31.102 for CLA 00 (and 80 for STATUS); the classic
GSM commands with CLA A0 follow TS 51.011, answering `9Fxx` and GET RESPONSE as a SIM does.
UICC commands answer their data with `9000` directly (never `61xx`): fewer APDUs per card.

The card imports nothing from the card library except `simcard.milenage`: it stands in for
third-party hardware, and sharing codec code would hide bugs in both.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emulators.usim import auth, fcp, keystore, state
from emulators.usim.layout import (
    ADM1_REF,
    CURRENT_ADF_FID,
    MF_FID,
    PIN1_REF,
    Access,
    Df,
    Ef,
    FileSystem,
    Node,
)
from emulators.usim.state import CardState, PinCounter, SqnState
from emulators.usim.status import CardError, Sw, pin_rejected, wrong_le
from emulators.usim.toolkit import MENU_FILE, CardToolkit
from simcard.ota_keys import KeySet

ATRS = {
    "provgw": bytes.fromhex("3b9f96801f878031e073fe211b6770726f76677731aa"),
    "sja2": bytes.fromhex("3b9f96801f878031e073fe211b674a4c753034054ba9"),
}
"""ATR per card model: the emulator's own (historical bytes spell "provgw1"), and the
sysmoISIM-SJA2's, for tools that recognise that card by ATR."""

_FS = FileSystem()
_PIN1, _PUK1, _ADM1 = "PIN1", "PUK1", "ADM1"
_PIN_NAMES = {PIN1_REF: _PIN1, ADM1_REF: _ADM1}
_SIM_KEY_FILE = "3F00/A515/6F20"
_USIM_KEY_FILE = "ADF.USIM/AF20"
_OK = b"\x90\x00"


def _pin_bytes(digits: str, field_name: str) -> bytes:
    """4-8 decimal digits as ASCII padded with FF (as pySim sends them), or 16 hex digits raw."""
    if len(digits) == 16 and all(c in "0123456789abcdefABCDEF" for c in digits):
        return bytes.fromhex(digits)
    if 4 <= len(digits) <= 8 and digits.isascii() and digits.isdigit():
        return digits.encode().ljust(state.PIN_LEN, b"\xff")
    raise ValueError(f"{field_name} must be 4-8 decimal digits or 16 hex digits")


@dataclass
class Context:
    """The volatile state commands run in: selection, codes verified, a pending response.

    The terminal's commands run in the card's own context (reset at power-on); a remote file
    management script runs in one of its own, with the rights of its access domain, so that
    neither disturbs the other (TS 102 226 §6).
    """

    df: Df
    ef: Ef | None = None
    verified: set[str] = field(default_factory=set)
    usim_active: bool = False
    pending: bytes = b""


@dataclass(frozen=True)
class _Apdu:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None  # None: absent; 0 means "up to 256"

    @classmethod
    def parse(cls, raw: bytes) -> _Apdu:
        if len(raw) < 4:
            raise Sw.WRONG_LENGTH.error()
        cla, ins, p1, p2 = raw[:4]
        if len(raw) == 4:
            return cls(cla, ins, p1, p2, b"", None)
        lc = raw[4]
        if len(raw) == 5:
            return cls(cla, ins, p1, p2, b"", lc)
        if len(raw) == 5 + lc:
            return cls(cla, ins, p1, p2, raw[5:], None)
        if len(raw) == 6 + lc:
            return cls(cla, ins, p1, p2, raw[5:-1], raw[-1])
        raise Sw.WRONG_LENGTH.error()


class UsimCard:
    """A programmable USIM: file system, PIN1/PUK1/ADM1, AUTHENTICATE, optional persistence.

    Construct with `blank()` or `load()`. A new instance is as after power-on: MF selected,
    nothing verified. Not thread-safe (vpcd serialises a slot's traffic anyway).
    """

    def __init__(self, card_state: CardState, store: Path | None) -> None:
        if card_state.model not in ATRS:
            raise ValueError(f"model must be one of {', '.join(ATRS)}, got {card_state.model!r}")
        self._state = card_state
        self._store = store
        self._ctx = Context(_FS.mf)
        self._gsm = False  # the class of the command being served (picks the status words)
        self._toolkit = CardToolkit(self)
        self._message_reference = 0

    # -- construction and power ------------------------------------------------------------

    @classmethod
    def blank(
        cls,
        store: Path | None = None,
        *,
        model: str = "provgw",
        adm1: str = "12345678",
        ota_keys: Sequence[KeySet] = (),
    ) -> UsimCard:
        """A blank programmable card (written to `store` at once if given, replacing it),
        holding the OTA key sets `ota_keys` as a card vendor personalises them."""
        pins = {
            _PIN1: PinCounter(_pin_bytes("1234", "pin1"), 3, 3, enabled=False),
            _PUK1: PinCounter(_pin_bytes("12345678", "puk1"), 10, 10),
            _ADM1: PinCounter(_pin_bytes(adm1, "adm1"), 3, 3),
        }
        files = state.blank_files(_FS)
        records = [r for keys in ota_keys for r in keystore.key_records(keys)]
        key_file = files[keystore.KEY_FILE]
        length = _record_length(keystore.KEY_FILE)
        if len(records) * length > len(key_file):
            raise ValueError(f"at most {len(key_file) // length // 2} OTA key sets fit the card")
        for i, record in enumerate(records):
            key_file[i * length : (i + 1) * length] = record.ljust(length, b"\xff")
        card = cls(CardState(model, files, pins, SqnState()), store)
        card._persist()
        return card

    @classmethod
    def load(cls, store: Path) -> UsimCard:
        """The card kept in `store` (raises state.StoreError naming what is wrong)."""
        return cls(state.load(store, _FS), store)

    @property
    def model(self) -> str:
        return self._state.model

    @property
    def atr(self) -> bytes:
        return ATRS[self._state.model]

    def power_on(self) -> bytes:
        """Power cycle / reset: selection and verifications are forgotten; counters are not."""
        self._ctx = Context(_FS.mf)
        self._toolkit = CardToolkit(self)  # a new toolkit session waits for TERMINAL PROFILE
        return self.atr

    def transmit(self, apdu: bytes) -> bytes:
        """One command APDU (short form) → response data + SW1 SW2.

        Once the terminal has sent TERMINAL PROFILE, a pending proactive command turns a
        `9000` into `91xx` (except in the answer to FETCH itself)."""
        response = self._execute(apdu)
        if response[-2:] == _OK and apdu[:2] != b"\x80\x12":
            length = self._toolkit.pending()
            if length is not None:
                return response[:-2] + bytes([0x91, length & 0xFF])
        return response

    def _execute(self, apdu: bytes) -> bytes:
        self._gsm = len(apdu) > 0 and apdu[0] == 0xA0
        try:
            cmd = _Apdu.parse(apdu)
            handler = self._handler(cmd)
            if cmd.ins != 0xC0:
                self._ctx.pending = b""
            return handler(cmd)
        except CardError as err:
            sw = err.gsm if self._gsm else err.uicc
            return sw.to_bytes(2, "big")

    # -- for the card's own applications (remote file management, toolkit) ------------------

    def context(self, in_usim: bool, granted: frozenset[str]) -> Context:
        """A fresh context at the MF or in ADF.USIM with the codes `granted` as verified."""
        return Context(_FS.adf if in_usim else _FS.mf, verified=set(granted), usim_active=in_usim)

    def run_in(self, context: Context, apdu: bytes) -> bytes:
        """Run one command in `context` instead of the terminal's, which stays as it was."""
        terminal, self._ctx = self._ctx, context
        try:
            return self._execute(apdu)
        finally:
            self._ctx = terminal

    def content(self, key: str) -> bytes:
        """The content of the file with store key `key` (e.g. `3F00/A515/6F22`)."""
        return bytes(self._state.files[key])

    @staticmethod
    def record_length(key: str) -> int:
        return _record_length(key)

    def replace_content(self, key: str, data: bytes) -> None:
        """Rewrite a file's content as the card's OS does (no access check), persisted."""
        if len(data) != len(self._state.files[key]):
            raise ValueError(
                f"{key}: {len(data)} bytes for a file of {len(self._state.files[key])}"
            )
        self._state.files[key][:] = data
        self._persist()

    def next_message_reference(self) -> int:
        """TP-MR for the next SMS the card sends."""
        self._message_reference = (self._message_reference + 1) & 0xFF
        return self._message_reference

    def _handler(self, cmd: _Apdu) -> Callable[[_Apdu], bytes]:
        if cmd.cla in (0x01, 0x02, 0x03):
            raise Sw.CHANNEL_NOT_SUPPORTED.error()
        if cmd.cla == 0x80:
            table = {
                0xF2: self._status,
                0x10: self._terminal_profile,
                0x12: self._fetch,
                0x14: self._terminal_response,
                0xC2: self._envelope,
            }
        elif cmd.cla in (0x00, 0xA0):
            table = {
                0xA4: self._select,
                0xB0: self._read_binary,
                0xD6: self._update_binary,
                0xB2: self._read_record,
                0xDC: self._update_record,
                0x20: self._verify,
                0x24: self._change_pin,
                0x26: self._disable_pin,
                0x28: self._enable_pin,
                0x2C: self._unblock_pin,
                0x88: self._authenticate,
                0xC0: self._get_response,
                0xF2: self._status,
            }
        else:
            raise Sw.CLA_NOT_SUPPORTED.error()
        try:
            return table[cmd.ins]
        except KeyError:
            raise Sw.INS_NOT_SUPPORTED.error() from None

    def _persist(self) -> None:
        if self._store is not None:
            state.save(self._store, self._state)

    def _answer_later(self, data: bytes) -> bytes:
        """SELECT and RUN GSM ALGORITHM in the GSM class: `9Fxx`, the data by GET RESPONSE.

        UICC commands answer data + 9000 at once instead (never `61xx`)."""
        if not self._gsm:
            return data + _OK
        self._ctx.pending = data
        return bytes([0x9F, len(data)])

    # -- selection -------------------------------------------------------------------------

    def _select(self, cmd: _Apdu) -> bytes:
        if self._gsm:
            if (cmd.p1, cmd.p2) != (0, 0):
                raise Sw.WRONG_P1_P2.error()
            node = self._by_fid(self._fid(cmd.data), gsm=True)
        elif cmd.p2 not in (0x00, 0x04, 0x0C):
            raise Sw.WRONG_P1_P2.error()
        elif cmd.p1 == 0x00:
            node = self._by_fid(self._fid(cmd.data), gsm=False)
        elif cmd.p1 == 0x04:
            node = self._by_aid(cmd.data)
        elif cmd.p1 in (0x08, 0x09):
            node = self._by_path(cmd.data, from_mf=cmd.p1 == 0x08)
        else:
            raise Sw.WRONG_P1_P2.error()
        self._make_current(node)
        if cmd.p2 == 0x0C:
            return _OK
        return self._answer_later(self._describe(node))

    def _describe(self, node: Node) -> bytes:
        if self._gsm:
            pins = self._state.pins
            return fcp.gsm_response(_FS, node, pin1=pins[_PIN1], puk1=pins[_PUK1])
        return fcp.uicc_fcp(_FS, node, pin1_enabled=self._state.pins[_PIN1].enabled)

    @staticmethod
    def _fid(data: bytes) -> int:
        if len(data) != 2:
            raise Sw.WRONG_LENGTH.error()
        return int.from_bytes(data, "big")

    def _make_current(self, node: Node) -> None:
        if isinstance(node, Df):
            self._ctx.df, self._ctx.ef = node, None
            if node is _FS.adf:
                self._ctx.usim_active = True
        else:
            parent = _FS.parent(node)
            assert parent is not None  # every EF sits in a DF
            self._ctx.df, self._ctx.ef = parent, node

    def _by_fid(self, fid: int, *, gsm: bool) -> Node:
        """TS 102 221 §8.4.1 search order: children of the current DF, the current DF, its
        parent, the parent's children; 7FFF is the USIM ADF, 3F00 the MF."""
        if fid == MF_FID:
            return _FS.mf
        if fid == CURRENT_ADF_FID and not gsm:
            return _FS.adf
        current = self._ctx.df
        if gsm and current is _FS.adf:
            current = _FS.mf
        parent = _FS.parent(current)
        candidates: list[Node | None] = [_FS.child(current, fid)]
        candidates.append(current if current.fid == fid else None)
        if parent is not None:
            candidates += [parent if parent.fid == fid else None, _FS.child(parent, fid)]
        found = next((c for c in candidates if c is not None), None)
        if found is None:
            raise Sw.FILE_NOT_FOUND.error()
        return found

    def _by_aid(self, aid: bytes) -> Node:
        """Select by DF name: the full AID or a leading part of it (right-truncated)."""
        adf_aid = _FS.adf.aid
        assert adf_aid is not None
        if not 5 <= len(aid) <= 16 or not adf_aid.startswith(aid):
            raise Sw.FILE_NOT_FOUND.error()
        return _FS.adf

    def _by_path(self, data: bytes, *, from_mf: bool) -> Node:
        if not data or len(data) % 2:
            raise Sw.WRONG_LENGTH.error()
        fids = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
        if from_mf and fids[0] == MF_FID:
            fids = fids[1:]
        node: Node = _FS.mf if from_mf else self._ctx.df
        for i, fid in enumerate(fids):
            if not isinstance(node, Df):
                raise Sw.FILE_NOT_FOUND.error()
            child: Node | None
            if fid == CURRENT_ADF_FID and i == 0 and node is _FS.mf:
                child = _FS.adf
            else:
                child = _FS.child(node, fid)
            if child is None:
                raise Sw.FILE_NOT_FOUND.error()
            node = child
        return node

    # -- access control ---------------------------------------------------------------------

    def _allowed(self, access: Access) -> bool:
        if access is Access.ALWAYS:
            return True
        if access is Access.NEVER:
            return False
        if _ADM1 in self._ctx.verified:
            return True
        if access is Access.PIN1:
            return _PIN1 in self._ctx.verified or not self._state.pins[_PIN1].enabled
        return False

    def _require(self, access: Access) -> None:
        if not self._allowed(access):
            raise Sw.SECURITY_NOT_SATISFIED.error()

    def _ef_for(self, p_sfi: int, *, records: bool) -> Ef:
        """The EF a READ/UPDATE addresses: by SFI (which then becomes current) or current."""
        if p_sfi:
            ef = _FS.child_by_sfi(self._ctx.df, p_sfi)
            if ef is None:
                raise Sw.FILE_NOT_FOUND.error()
            self._ctx.ef = ef
        elif self._ctx.ef is None:
            raise Sw.NO_EF_SELECTED.error()
        ef = self._ctx.ef
        if bool(ef.record_len) != records:
            raise Sw.INCOMPATIBLE_FILE.error()
        return ef

    def _content(self, ef: Ef) -> bytearray:
        return self._state.files[_FS.storage(ef)]

    # -- binary and record files ------------------------------------------------------------

    def _binary_target(self, cmd: _Apdu) -> tuple[Ef, int]:
        if cmd.p1 & 0x80:
            if cmd.p1 & 0x60:
                raise Sw.WRONG_P1_P2.error()
            return self._ef_for(cmd.p1 & 0x1F, records=False), cmd.p2
        return self._ef_for(0, records=False), cmd.p1 << 8 | cmd.p2

    def _read_binary(self, cmd: _Apdu) -> bytes:
        ef, offset = self._binary_target(cmd)
        self._require(ef.read)
        if offset >= ef.size:
            raise Sw.OFFSET_OUTSIDE_FILE.error()
        available = min(ef.size - offset, 256)
        length = available if not cmd.le else cmd.le
        if length > available:
            raise wrong_le(available)
        return bytes(self._content(ef)[offset : offset + length]) + _OK

    def _update_binary(self, cmd: _Apdu) -> bytes:
        ef, offset = self._binary_target(cmd)
        self._require(ef.update)
        if offset >= ef.size:
            raise Sw.OFFSET_OUTSIDE_FILE.error()
        if not cmd.data or offset + len(cmd.data) > ef.size:
            raise Sw.WRONG_LENGTH.error()
        self._content(ef)[offset : offset + len(cmd.data)] = cmd.data
        self._updated(ef)
        return _OK

    def _record_target(self, cmd: _Apdu) -> tuple[Ef, int]:
        if cmd.p2 & 0x07 != 0x04:  # only absolute/current addressing (mode 100)
            raise Sw.WRONG_P1_P2.error()
        ef = self._ef_for(cmd.p2 >> 3, records=True)
        if not 1 <= cmd.p1 <= ef.records:
            raise Sw.RECORD_NOT_FOUND.error()
        return ef, (cmd.p1 - 1) * ef.record_len

    def _read_record(self, cmd: _Apdu) -> bytes:
        ef, start = self._record_target(cmd)
        self._require(ef.read)
        if cmd.le and cmd.le != ef.record_len:
            raise wrong_le(ef.record_len)
        return bytes(self._content(ef)[start : start + ef.record_len]) + _OK

    def _update_record(self, cmd: _Apdu) -> bytes:
        ef, start = self._record_target(cmd)
        self._require(ef.update)
        if len(cmd.data) != ef.record_len:
            raise Sw.WRONG_LENGTH.error()
        self._content(ef)[start : start + ef.record_len] = cmd.data
        self._updated(ef)
        return _OK

    def _updated(self, ef: Ef) -> None:
        self._persist()
        if _FS.storage(ef) == MENU_FILE:
            self._toolkit.menu_changed()

    # -- toolkit (CLA 80) -------------------------------------------------------------------

    def _terminal_profile(self, cmd: _Apdu) -> bytes:
        self._toolkit.terminal_profile(cmd.data)
        return _OK

    def _fetch(self, cmd: _Apdu) -> bytes:
        return self._toolkit.fetch(cmd.le) + _OK

    def _terminal_response(self, cmd: _Apdu) -> bytes:
        self._toolkit.terminal_response(cmd.data)
        return _OK

    def _envelope(self, cmd: _Apdu) -> bytes:
        return self._toolkit.envelope(cmd.data) + _OK

    def _status(self, cmd: _Apdu) -> bytes:
        if cmd.p2 == 0x0C:
            return _OK
        if cmd.p2 == 0x01 and not self._gsm:
            if not self._ctx.usim_active:
                raise Sw.CONDITIONS_NOT_SATISFIED.error()
            assert _FS.adf.aid is not None
            return fcp.tlv(0x84, _FS.adf.aid) + _OK
        if cmd.p2 != 0x00:
            raise Sw.WRONG_P1_P2.error()
        return self._describe(self._ctx.df) + _OK

    def _get_response(self, cmd: _Apdu) -> bytes:
        if not self._ctx.pending:
            raise Sw.CONDITIONS_NOT_SATISFIED.error()
        data = self._ctx.pending
        if cmd.le and cmd.le < len(data):
            data = data[: cmd.le]
        self._ctx.pending = b""
        return data + _OK

    # -- PINs -------------------------------------------------------------------------------

    def _pin(self, cmd: _Apdu, *, data_len: int) -> tuple[str, PinCounter]:
        if cmd.p1 != 0x00:
            raise Sw.WRONG_P1_P2.error()
        name = _PIN_NAMES.get(cmd.p2)
        if name is None:
            raise Sw.REFERENCE_NOT_FOUND.error()
        if cmd.data and len(cmd.data) != data_len:
            raise Sw.WRONG_LENGTH.error()
        return name, self._state.pins[name]

    def _check(self, pin: PinCounter, value: bytes) -> None:
        """Compare a presented code, counting the try; a wrong one is remembered at once."""
        if pin.blocked:
            raise Sw.PIN_BLOCKED.error()
        if not hmac.compare_digest(value, pin.value):
            pin.tries -= 1
            self._persist()
            raise pin_rejected(pin.tries)
        if pin.tries != pin.max_tries:
            pin.tries = pin.max_tries
            self._persist()

    def _verify(self, cmd: _Apdu) -> bytes:
        name, pin = self._pin(cmd, data_len=state.PIN_LEN)
        if not cmd.data:  # no data: report the state
            if pin.blocked:
                raise Sw.PIN_BLOCKED.error()
            if name in self._ctx.verified or not pin.enabled:
                return _OK
            raise pin_rejected(pin.tries)
        self._check(pin, cmd.data)
        self._ctx.verified.add(name)
        return _OK

    def _change_pin(self, cmd: _Apdu) -> bytes:
        name, pin = self._pin(cmd, data_len=2 * state.PIN_LEN)
        if not cmd.data:
            raise Sw.WRONG_LENGTH.error()
        if not pin.enabled:
            raise Sw.CONDITIONS_NOT_SATISFIED.error()
        self._check(pin, cmd.data[: state.PIN_LEN])
        pin.value = cmd.data[state.PIN_LEN :]
        self._persist()
        self._ctx.verified.add(name)
        return _OK

    def _set_pin_enabled(self, cmd: _Apdu, enabled: bool) -> bytes:
        name, pin = self._pin(cmd, data_len=state.PIN_LEN)
        if name != _PIN1:
            raise Sw.REFERENCE_NOT_FOUND.error()  # ADM1 cannot be switched off
        if not cmd.data:
            raise Sw.WRONG_LENGTH.error()
        if pin.enabled == enabled:
            raise Sw.CONDITIONS_NOT_SATISFIED.error()
        self._check(pin, cmd.data)
        pin.enabled = enabled
        self._persist()
        self._ctx.verified.add(name)
        return _OK

    def _disable_pin(self, cmd: _Apdu) -> bytes:
        return self._set_pin_enabled(cmd, False)

    def _enable_pin(self, cmd: _Apdu) -> bytes:
        return self._set_pin_enabled(cmd, True)

    def _unblock_pin(self, cmd: _Apdu) -> bytes:
        name, pin = self._pin(cmd, data_len=2 * state.PIN_LEN)
        if name != _PIN1:
            raise Sw.REFERENCE_NOT_FOUND.error()  # ADM1 has no unblock key: blocked for good
        puk = self._state.pins[_PUK1]
        if not cmd.data:
            if puk.blocked:
                raise Sw.PIN_BLOCKED.error()
            raise pin_rejected(puk.tries)
        self._check(puk, cmd.data[: state.PIN_LEN])
        pin.value, pin.tries, pin.enabled = cmd.data[state.PIN_LEN :], pin.max_tries, True
        self._persist()
        self._ctx.verified.add(name)
        return _OK

    # -- AUTHENTICATE -----------------------------------------------------------------------

    def _authenticate(self, cmd: _Apdu) -> bytes:
        self._require(Access.PIN1)
        if self._gsm:  # RUN GSM ALGORITHM: 16-byte RAND, SRES ‖ Kc via GET RESPONSE
            if (cmd.p1, cmd.p2) != (0, 0):
                raise Sw.WRONG_P1_P2.error()
            if len(cmd.data) != 16:
                raise Sw.WRONG_LENGTH.error()
            sres, kc = auth.authenticate_gsm(self._key(_SIM_KEY_FILE), cmd.data)
            return self._answer_later(sres + kc)
        if cmd.p1 != 0x00 or cmd.p2 not in (0x80, 0x81):
            raise Sw.WRONG_P1_P2.error()
        if not self._ctx.usim_active:
            raise Sw.CONDITIONS_NOT_SATISFIED.error()
        fields = _split_lv(cmd.data)
        if cmd.p2 == 0x80:
            if len(fields) != 1 or len(fields[0]) != 16:
                raise Sw.WRONG_DATA.error()
            sres, kc = auth.authenticate_gsm(self._key(_SIM_KEY_FILE), fields[0])
            return auth.gsm_context_response(sres, kc) + _OK
        if len(fields) != 2 or len(fields[0]) != 16 or len(fields[1]) != 16:
            raise Sw.WRONG_DATA.error()
        response = auth.authenticate_3g(
            self._key(_USIM_KEY_FILE), self._state.sqn, fields[0], fields[1]
        )
        if response[0] == 0xDB:
            self._persist()
        return response + _OK

    def _key(self, path: str) -> auth.KeyFile:
        return auth.KeyFile.parse(bytes(self._state.files[path]))


def _record_length(key: str) -> int:
    return next(ef.record_len for path, ef in _FS.stored_efs() if path == key)


def _split_lv(data: bytes) -> list[bytes]:
    fields, i = [], 0
    while i < len(data):
        n = data[i]
        if i + 1 + n > len(data):
            raise Sw.WRONG_DATA.error()
        fields.append(data[i + 1 : i + 1 + n])
        i += 1 + n
    return fields
