"""The card's file system: which DFs and EFs exist, their sizes and access conditions.

One declarative tree (TS 102 221 / TS 31.102 / TS 51.011 file identifiers, sizes as a
sysmoISIM-SJA2 has them where known) that everything else is derived from: the FCPs, the
EF.ARR access rules they point at, the blank contents and the keys of the persisted store.
docs/card-emulator.md carries the same table for humans; a test checks they agree.

Linked files: on a sysmoISIM-SJA2 several DF.GSM files are the ADF.USIM files seen from the
GSM side (and ADF.USIM's MSISDN/SMSP are DF.TELECOM's): one content, two directory entries,
each with its own SFI and FCP. pySim-prog writes IMSI, SPN, ACC and the PLMNwAcT files only
under DF.GSM and MSISDN/SMSP only under DF.TELECOM, yet a card it programmed shows the same
values under ADF.USIM (pySim's own SJA2 test card dump,
tests/card_sanitizer/card_backup_3b9f96801f878031e073fe211b674a4c753034054ba9_*.script), and
pySim notes that the 2G key file A515/6F20 is hard-linked to ADF.USIM/AF22. An `Ef` with
`link` set is such a second entry: it stores nothing itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum


class Access(Enum):
    """Who may read or update a file (ADM1 also satisfies PIN1, as on sysmocom cards)."""

    ALWAYS = "always"
    PIN1 = "PIN1"
    ADM1 = "ADM1"
    NEVER = "never"


PIN1_REF = 0x01
ADM1_REF = 0x0A


@dataclass(frozen=True, eq=False)
class Ef:
    """An elementary file; `record_len` 0 means transparent, else linear fixed."""

    fid: int
    name: str
    size: int
    record_len: int = 0
    sfi: int | None = None
    read: Access = Access.ALWAYS
    update: Access = Access.ADM1
    blank: bytes | None = None
    link: str | None = None
    """Path key (`ADF.USIM/6F07`) of the file whose content this entry shows, if any."""

    def __post_init__(self) -> None:
        if self.record_len and self.size % self.record_len:
            raise ValueError(f"{self.name}: size {self.size} is not whole records")
        if self.blank is not None and len(self.blank) != self.size:
            raise ValueError(f"{self.name}: blank content is not {self.size} bytes")

    @property
    def records(self) -> int:
        return self.size // self.record_len if self.record_len else 0

    def blank_content(self) -> bytes:
        return self.blank if self.blank is not None else b"\xff" * self.size


@dataclass(frozen=True, eq=False)
class Df:
    """A dedicated file, or the USIM application (an ADF, which has an `aid`)."""

    fid: int
    name: str
    children: tuple[Ef | Df, ...]
    aid: bytes | None = None


Node = Ef | Df

# The access rules of EF.ARR, in record order: (read, update). Every EF's FCP points at the
# record matching its own (read, update) pair, so the ARR a tool decodes is the rule enforced.
ARR_RULES: tuple[tuple[Access, Access], ...] = (
    (Access.ALWAYS, Access.ADM1),
    (Access.PIN1, Access.ADM1),
    (Access.NEVER, Access.ADM1),
    (Access.ALWAYS, Access.NEVER),
    (Access.PIN1, Access.PIN1),
)


def _security_condition(access: Access) -> bytes:
    """Expanded-format SC_DO (ISO 7816-4 §9.3): always, never, or user authentication."""

    def key(ref: int) -> bytes:
        return bytes([0xA4, 0x06, 0x83, 0x01, ref, 0x95, 0x01, 0x08])

    return {
        Access.ALWAYS: b"\x90\x00",
        Access.NEVER: b"\x97\x00",
        Access.ADM1: key(ADM1_REF),
        Access.PIN1: key(PIN1_REF) + key(ADM1_REF),  # two SC_DOs: either key satisfies
    }[access]


def _arr_record(read: Access, update: Access) -> bytes:
    return (
        b"\x80\x01\x01" + _security_condition(read) + b"\x80\x01\x02" + _security_condition(update)
    )


def _arr_content() -> tuple[int, bytes]:
    rules = [_arr_record(r, u) for r, u in ARR_RULES]
    record_len = max(len(r) for r in rules)
    return record_len, b"".join(r.ljust(record_len, b"\xff") for r in rules)


def arr_record_number(ef: Ef) -> int:
    return ARR_RULES.index((ef.read, ef.update)) + 1


_ARR_RECORD_LEN, _ARR = _arr_content()

USIM_AID = bytes.fromhex("a0000000871002ff86ff0389ffffffff")
"""The USIM application's AID (TS 31.110: A0000000871002 is the 3GPP USIM RID + PIX prefix)."""

_DIR_RECORD_LEN = 38
_DIR_APP = b"\x4f\x10" + USIM_AID + b"\x50\x04USIM"
_DIR = (b"\x61" + bytes([len(_DIR_APP)]) + _DIR_APP).ljust(_DIR_RECORD_LEN, b"\xff") + (
    b"\xff" * _DIR_RECORD_LEN
)

# TS 35.206 constants as sysmocom stores them in EF 6F21: r1..r5, then c1..c5 (16 bytes each).
_MILENAGE = bytes([0x40, 0x00, 0x20, 0x40, 0x60]) + b"".join(
    v.to_bytes(16, "big") for v in (0, 1, 2, 4, 8)
)

# Ki/OPc files of the sysmoISIM-SJA2: config byte (Milenage 4 | 0x10 "value is OPc"),
# Ki (16), OP/OPc (16). A blank card has zero keys with the factory's Milenage/OPc config.
KEY_FILE_SIZE = 33
_BLANK_KEYS = bytes([0x14]) + bytes(32)
_ARR_FID_MF, _ARR_FID_ADF = 0x2F06, 0x6F06
_SIM_AUTH_KEY = "3F00/A515/6F20"


def _arr(fid: int, sfi: int) -> Ef:
    return Ef(
        fid,
        "EF.ARR",
        len(_ARR),
        record_len=_ARR_RECORD_LEN,
        sfi=sfi,
        update=Access.NEVER,
        blank=_ARR,
    )


def _key_file(fid: int, name: str) -> Ef:
    return Ef(fid, name, KEY_FILE_SIZE, read=Access.NEVER, blank=_BLANK_KEYS)


def _usim(fid: int) -> str:
    return f"ADF.USIM/{fid:04X}"


def _gsm_link(fid: int, name: str, size: int, *, read: Access = Access.ALWAYS) -> Ef:
    """A DF.GSM entry showing the ADF.USIM file of the same FID (as the SJA2 links them)."""
    return Ef(fid, name, size, read=read, link=_usim(fid))


ADF_USIM = Df(
    0x7FFF,
    "ADF.USIM",
    aid=USIM_AID,
    children=(
        Ef(0x6F05, "EF.LI", 10, sfi=0x02),
        _arr(_ARR_FID_ADF, 0x17),
        Ef(0x6F07, "EF.IMSI", 9, sfi=0x07, read=Access.PIN1),
        Ef(0x6F08, "EF.KEYS", 33, sfi=0x08, read=Access.PIN1, update=Access.PIN1),
        Ef(0x6F09, "EF.KEYSPS", 33, sfi=0x09, read=Access.PIN1, update=Access.PIN1),
        Ef(0x6F31, "EF.HPPLMN", 1, sfi=0x12),
        Ef(0x6F38, "EF.UST", 20, sfi=0x04),
        Ef(0x6F3E, "EF.GID1", 10),
        Ef(0x6F3F, "EF.GID2", 10),
        Ef(0x6F40, "EF.MSISDN", 6 * 34, record_len=34, link="3F00/7F10/6F40"),
        Ef(0x6F42, "EF.SMSP", 2 * 52, record_len=52, link="3F00/7F10/6F42"),
        Ef(0x6F46, "EF.SPN", 17),
        Ef(0x6F60, "EF.PLMNwAcT", 60, sfi=0x0A),
        Ef(0x6F61, "EF.OPLMNwAcT", 60, sfi=0x11),
        Ef(0x6F62, "EF.HPLMNwAcT", 60, sfi=0x13),
        Ef(0x6F78, "EF.ACC", 2, sfi=0x06),
        Ef(0x6F7B, "EF.FPLMN", 12, sfi=0x0D),
        Ef(0x6FAD, "EF.AD", 4, sfi=0x03),
        Ef(0x6FD9, "EF.EHPLMN", 12, sfi=0x1D),
        Ef(0x6F21, "EF.MILENAGE_CFG", len(_MILENAGE), update=Access.NEVER, blank=_MILENAGE),
        _key_file(0xAF20, "EF.USIM_AUTH_KEY"),
        Ef(
            0xAF22,
            "EF.USIM_AUTH_KEY_2G",
            KEY_FILE_SIZE,
            read=Access.NEVER,
            link=_SIM_AUTH_KEY,
        ),
    ),
)

MF = Df(
    0x3F00,
    "MF",
    children=(
        Ef(0x2FE2, "EF.ICCID", 10, sfi=0x02),
        Ef(0x2F00, "EF.DIR", len(_DIR), record_len=_DIR_RECORD_LEN, sfi=0x1E, blank=_DIR),
        Ef(0x2F05, "EF.PL", 10, sfi=0x05),
        _arr(_ARR_FID_MF, 0x06),
        Df(
            0x7F10,
            "DF.TELECOM",
            children=(
                Ef(0x6F40, "EF.MSISDN", 6 * 34, record_len=34),
                Ef(0x6F42, "EF.SMSP", 2 * 52, record_len=52),
            ),
        ),
        Df(
            0x7F20,
            "DF.GSM",
            children=(
                _gsm_link(0x6F07, "EF.IMSI", 9, read=Access.PIN1),
                Ef(0x6F30, "EF.PLMNsel", 60),
                _gsm_link(0x6F31, "EF.HPPLMN", 1),
                Ef(0x6F38, "EF.SST", 15),
                _gsm_link(0x6F3E, "EF.GID1", 10),
                _gsm_link(0x6F3F, "EF.GID2", 10),
                _gsm_link(0x6F46, "EF.SPN", 17),
                _gsm_link(0x6F60, "EF.PLMNwAcT", 60),
                _gsm_link(0x6F61, "EF.OPLMNwAcT", 60),
                _gsm_link(0x6F62, "EF.HPLMNwAcT", 60),
                _gsm_link(0x6F78, "EF.ACC", 2),
                _gsm_link(0x6F7B, "EF.FPLMN", 12),
                _gsm_link(0x6FAD, "EF.AD", 4),
            ),
        ),
        Df(
            0xA515,
            "DF.SYSMO",
            children=(
                _key_file(0x6F20, "EF.SIM_AUTH_KEY"),
                # OTA key sets and counters where the SJA2 keeps them (pySim sysmocom_sja2.py)
                Ef(0x6F22, "EF.0348_KEY", 8 * 35, record_len=35, read=Access.NEVER),
                Ef(0x6F23, "EF.0348_COUNT", 8 * 7, record_len=7),
                # the emulator's own toolkit applet keeps its menu here (simcard.stk_menu)
                Ef(0x6FE0, "EF.STK_MENU", 8 * 80, record_len=80),
            ),
        ),
    ),
)

MF_FID = 0x3F00
CURRENT_ADF_FID = 0x7FFF


class FileSystem:
    """Navigation over the tree: parents, children by FID/SFI, and stable path keys.

    The ADF hangs off the MF for navigation (its parent is the MF, as TS 102 221 §8.4.1
    treats it when searching by FID) but is only reachable by AID or 7FFF, not as a child.
    """

    def __init__(self, mf: Df = MF, adf: Df = ADF_USIM) -> None:
        self.mf = mf
        self.adf = adf
        self._parent: dict[int, Df] = {}
        self._path: dict[int, str] = {}
        self._index(mf, None, "3F00")
        self._index(adf, mf, adf.name)
        self._check_links()

    def _index(self, node: Node, parent: Df | None, path: str) -> None:
        if parent is not None:
            self._parent[id(node)] = parent
        self._path[id(node)] = path
        if isinstance(node, Df):
            for child in node.children:
                self._index(child, node, f"{path}/{child.fid:04X}")

    def parent(self, node: Node) -> Df | None:
        return self._parent.get(id(node))

    def path(self, node: Node) -> str:
        """A stable key such as `3F00/7F20/6F07` or `ADF.USIM/6F07` (used by the store)."""
        return self._path[id(node)]

    def child(self, df: Df, fid: int) -> Node | None:
        return next((c for c in df.children if c.fid == fid), None)

    def child_by_sfi(self, df: Df, sfi: int) -> Ef | None:
        return next((c for c in df.children if isinstance(c, Ef) and c.sfi == sfi), None)

    def arr_fid(self, node: Node) -> int:
        """The EF.ARR an FCP refers to: the ADF's own, or the MF's for everything else."""
        inside_adf = node is self.adf or self.parent(node) is self.adf
        return _ARR_FID_ADF if inside_adf else _ARR_FID_MF

    def efs(self) -> Iterator[tuple[str, Ef]]:
        """Every EF with its path key, MF tree first, then the ADF (linked entries too)."""
        for root in (self.mf, self.adf):
            yield from self._efs(root)

    def stored_efs(self) -> Iterator[tuple[str, Ef]]:
        """The EFs that hold content of their own (the store's keys): every EF but links."""
        return ((path, ef) for path, ef in self.efs() if ef.link is None)

    def storage(self, ef: Ef) -> str:
        """The store key of the content `ef` shows: its own path, or the linked file's."""
        return ef.link or self.path(ef)

    def links(self) -> dict[str, str]:
        """Path key of every linked entry → path key of the file it shows."""
        return {path: ef.link for path, ef in self.efs() if ef.link is not None}

    def _check_links(self) -> None:
        stored = dict(self.stored_efs())
        for path, ef in self.efs():
            if ef.link is None:
                continue
            target = stored.get(ef.link)
            if target is None:
                raise ValueError(f"{path} links to {ef.link}, which holds no content of its own")
            if (target.size, target.record_len) != (ef.size, ef.record_len):
                raise ValueError(f"{path} and its link target {ef.link} differ in structure")

    def _efs(self, df: Df) -> Iterator[tuple[str, Ef]]:
        for child in df.children:
            if isinstance(child, Ef):
                yield self.path(child), child
            else:
                yield from self._efs(child)
