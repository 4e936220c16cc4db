"""Programmable card models: how each is recognised, where its keys go, what gets written.

A model turns a profile into an ordered list of `FileWrite`s. The order is the writing order and
is chosen for the fewest SELECTs: the files of one DF together, DF.GSM first (its EF.IMSI is
the blank check), ADF.USIM last, so AUTHENTICATE follows with the application already entered.
Models differ in three things only: their ATRs, whether the ICCID may be rewritten (not on
sysmoISIM-SJA2/SJA5: it is tied to the card OS licence, as pySim warns), and where
Ki/OPc/algorithm live (shared/reference/sim-cards.md, "Programmable card models").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simcard.codec import Codec
from simcard.errors import UnknownCardError
from simcard.files import FilePath
from simcard.identities import Iccid, Imsi, Msisdn, Smsp
from simcard.plmn import Ad, AdminData, PlmnActList, PlmnList
from simcard.profile import CardProfile
from simcard.tables import Acc, Ust
from simcard.text import Spn

MILENAGE_SJA2 = 0x04  # key file config: algorithm nibble (TS 35.206 Milenage)
COMP128V1_SJA2 = 0x01
OPC_FLAG_SJA2 = 0x10  # the 16 bytes after Ki are OPc, not OP
MILENAGE_SJS1 = 0x01


@dataclass(frozen=True)
class FileWrite:
    """One file (or record) to write: `content(size)` gives its bytes for the size in the FCP.

    `secret` files (keys) are never read back or shown; `optional` ones are skipped when the
    card has no such file.
    """

    label: str
    path: FilePath
    content: Callable[[int], bytes]
    record: int | None = None
    secret: bool = False
    optional: bool = False

    @property
    def name(self) -> str:
        where = f"{self.path}#{self.record}" if self.record else str(self.path)
        return f"{self.label} ({where})"


@dataclass(frozen=True)
class Placement:
    """Where one profile value goes: `codec.encode(value(profile))` into `path`."""

    label: str
    path: str
    codec: Codec[Any]
    value: Callable[[CardProfile], Any]
    record: int | None = None

    def write(self, profile: CardProfile, *, optional: bool = False) -> FileWrite:
        value, codec = self.value(profile), self.codec
        return FileWrite(
            self.label,
            FilePath.parse(self.path),
            lambda size: codec.encode(value, size),
            self.record,
            optional=optional,
        )


def _gsm(fid: str) -> str:
    return f"MF/7F20/{fid}"


def _usim(fid: str) -> str:
    return f"ADF.USIM/{fid}"


def _standard(under: Callable[[str], str], *, act_files: bool) -> tuple[Placement, ...]:
    """IMSI, SPN, AD, ACC (and the three PLMN-with-AcT lists) in one DF."""
    files = (
        Placement("IMSI", under("6F07"), Imsi(), lambda p: p.imsi),
        Placement("SPN", under("6F46"), Spn(), lambda p: p.spn_record),
        Placement("AD", under("6FAD"), Ad(), lambda p: AdminData(len(p.mnc))),
        Placement("ACC", under("6F78"), Acc(), lambda p: p.access_classes),
    )
    if not act_files:
        return files
    return (
        *files,
        Placement(
            "PLMNwAcT", under("6F60"), PlmnActList("EF.PLMNwAcT"), lambda p: p.act_list("plmn")
        ),
        Placement(
            "OPLMNwAcT", under("6F61"), PlmnActList("EF.OPLMNwAcT"), lambda p: p.act_list("oplmn")
        ),
        Placement(
            "HPLMNwAcT", under("6F62"), PlmnActList("EF.HPLMNwAcT"), lambda p: p.act_list("hplmn")
        ),
    )


_ICCID = Placement("ICCID", "MF/2FE2", Iccid(), lambda p: p.iccid)
_PLMNSEL = Placement("PLMNsel", _gsm("6F30"), PlmnList("EF.PLMNsel"), lambda p: p.plmnsel_list)
_TELECOM = (
    Placement("SMSP", "MF/7F10/6F42", Smsp(), lambda p: p.smsc or "", record=1),
    Placement("MSISDN", "MF/7F10/6F40", Msisdn(), lambda p: p.msisdn or "", record=1),
)
_USIM_ONLY = (
    Placement("UST", _usim("6F38"), Ust(), lambda p: p.ust),
    Placement("EHPLMN", _usim("6FD9"), PlmnList("EF.EHPLMN"), lambda p: p.ehplmn_list),
)
_USIM_NUMBERS = {  # written to ADF.USIM too when the UST announces them (services 12, 21)
    12: Placement("SMSP", _usim("6F42"), Smsp(), lambda p: p.smsc or "", record=1),
    21: Placement("MSISDN", _usim("6F40"), Msisdn(), lambda p: p.msisdn or "", record=1),
}


def _fixed(label: str, path: str, data: bytes) -> FileWrite:
    """A key file: fixed bytes, refused when the card's file is smaller."""

    def content(size: int) -> bytes:
        if size < len(data):
            raise ValueError(f"{label}: file {path} holds {size} bytes, {len(data)} needed")
        return data

    return FileWrite(label, FilePath.parse(path), content, secret=True)


def _sja2_keys(profile: CardProfile) -> list[FileWrite]:
    """EF.SIM_AUTH_KEY (A515/6F20, used by the GSM context) and EF.USIM_AUTH_KEY (ADF/AF20):
    config byte, Ki, OPc — one UPDATE each (pySim sends Ki and OPc separately)."""
    opc = profile.opc_bytes
    if profile.algorithm == "comp128v1":
        config, tail = COMP128V1_SJA2, opc or bytes(16)
    else:
        assert opc is not None  # the profile guarantees OPc or OP for Milenage
        config, tail = MILENAGE_SJA2 | OPC_FLAG_SJA2, opc
    data = bytes([config]) + profile.ki_bytes + tail
    return [
        _fixed("Ki/OPc (2G)", "MF/A515/6F20", data),
        _fixed("Ki/OPc (3G)", "ADF.USIM/AF20", data),
    ]


def _sjs1_keys(profile: CardProfile) -> list[FileWrite]:
    """Ki in 7F20/00FF, `01`+OPc in 7F20/00F7, algorithms [2G, 3G] in 7FCC/6F00."""
    if profile.algorithm != "milenage":
        raise ValueError("sysmoUSIM-SJS1: only Milenage profiles are supported")
    opc = profile.opc_bytes
    assert opc is not None
    return [
        _fixed("Ki", "MF/7F20/00FF", profile.ki_bytes),
        _fixed("OPc", "MF/7F20/00F7", b"\x01" + opc),
        _fixed("algorithms", "MF/7FCC/6F00", bytes([MILENAGE_SJS1, MILENAGE_SJS1])),
    ]


@dataclass(frozen=True)
class CardModel:
    """What the writer needs to know about one kind of programmable card."""

    name: str
    atrs: tuple[bytes, ...]
    writes_iccid: bool
    gsm_files: tuple[Placement, ...]
    usim_files: tuple[Placement, ...]
    keys: Callable[[CardProfile], list[FileWrite]]
    optional_usim: bool = False
    adm_reference: int = 0x0A

    def plan(self, profile: CardProfile) -> list[FileWrite]:
        """Every write for `profile`, in writing order (DF.GSM IMSI first: the blank check)."""
        keys = self.keys(profile)
        mf_keys = [k for k in keys if not k.path.adf]
        adf_keys = [k for k in keys if k.path.adf]
        plan = [place.write(profile) for place in self.gsm_files]
        if self.writes_iccid:
            plan.append(_ICCID.write(profile))
        plan += mf_keys
        plan += [place.write(profile) for place in _TELECOM]
        usim = [
            *self.usim_files,
            *(_USIM_NUMBERS[n] for n in sorted(_USIM_NUMBERS) if n in profile.ust),
        ]
        plan += [place.write(profile, optional=self.optional_usim) for place in usim]
        return plan + adf_keys


_SJA2_GSM = (*_standard(_gsm, act_files=False), _PLMNSEL)
_SJA2_USIM = (*_standard(_usim, act_files=True), *_USIM_ONLY)

SJA2 = CardModel(
    "sysmoISIM-SJA2",
    tuple(
        bytes.fromhex(a)
        for a in (
            "3b9f96801f878031e073fe211b674a4c753034054ba9",
            "3b9f96801f878031e073fe211b674a4c7531330251b2",
            "3b9f96801f878031e073fe211b674a4c5275310451d5",
        )
    ),
    writes_iccid=False,
    gsm_files=_SJA2_GSM,
    usim_files=_SJA2_USIM,
    keys=_sja2_keys,
)
SJA5 = CardModel(
    "sysmoISIM-SJA5",
    tuple(
        bytes.fromhex(a)
        for a in (
            "3b9f96801f878031e073fe211b674a357530350251cc",
            "3b9f96801f878031e073fe211b674a357530350265f8",
            "3b9f96801f878031e073fe211b674a357530350259c4",
        )
    ),
    writes_iccid=False,
    gsm_files=_SJA2_GSM,
    usim_files=_SJA2_USIM,
    keys=_sja2_keys,
)
SJS1 = CardModel(
    "sysmoUSIM-SJS1",
    (bytes.fromhex("3b9f96801fc78031a073be21136743200718000001a5"),),
    writes_iccid=True,
    gsm_files=(*_standard(_gsm, act_files=True), _PLMNSEL),
    usim_files=(Placement("AD", _usim("6FAD"), Ad(), lambda p: AdminData(len(p.mnc))), *_USIM_ONLY),
    keys=_sjs1_keys,
    optional_usim=True,
)
PROVGW = CardModel(
    "provgw",
    (bytes.fromhex("3b9f96801f878031e073fe211b6770726f76677731aa"),),
    writes_iccid=True,
    gsm_files=_SJA2_GSM,
    usim_files=_SJA2_USIM,
    keys=_sja2_keys,
)
MODELS: tuple[CardModel, ...] = (SJA2, SJA5, SJS1, PROVGW)


def detect(atr: bytes) -> CardModel:
    """The model whose ATR list holds `atr` exactly."""
    for model in MODELS:
        if atr in model.atrs:
            return model
    known = ", ".join(m.name for m in MODELS)
    raise UnknownCardError(f"no known card model has ATR {atr.hex()} (known: {known})")


def by_name(name: str) -> CardModel:
    """A model by name, case-blind, with or without the `sysmo…-` prefix (`sja2`)."""
    wanted = name.lower()
    for model in MODELS:
        if wanted in (model.name.lower(), model.name.lower().rsplit("-", 1)[-1]):
            return model
    raise UnknownCardError(
        f"unknown card model {name!r}; models: {', '.join(m.name for m in MODELS)}"
    )
