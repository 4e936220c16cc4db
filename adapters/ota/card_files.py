"""The card files an OTA operation can change, vendor-neutral (`gateway.operations.CardFile`)
on one side, and where they live and what their bytes are on the other.

| file | where (from the RFM application's start) | RFM application |
|---|---|---|
| ``spn`` | EF.SPN ``6F46`` (17 bytes) | USIM RFM, TAR B00011 (starts in ADF.USIM) |
| ``oplmnwact`` | EF.OPLMNwAcT ``6F61`` (60 bytes: 12 networks) | USIM RFM |
| ``smsp`` | EF.SMSP ``6F42`` record 1 (``smsp_record_length``, 52 on sysmocom cards) | USIM RFM |
| ``stk_menu`` | the menu file ``A515/6FE0`` (8 records of 80 bytes) | UICC RFM, TAR B00010 (MF) |

The codecs are the card layer's (`simcard`), the ones the card writer and reader use, so a
file written over the air reads back the same through a reader, and the other way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.operations import (
    AccessTechnology,
    CardFile,
    CardFileName,
    MenuEntry,
    PlmnEntry,
    RoamingListFile,
    SmsCentreFile,
    SpnFile,
    StkMenuFile,
)
from simcard import rfm
from simcard.codec import CodecError, is_blank
from simcard.identities import Smsp
from simcard.plmn import ACCESS_TECHNOLOGIES, ACT_ALL, Plmn, PlmnAct, PlmnActList, act_names
from simcard.sms_pp import SmsError, SmsSubmit
from simcard.stk_menu import MENU_RECORD_LENGTH, MENU_RECORDS, Menu, MenuError, MenuItem
from simcard.text import ServiceProviderName, Spn

SMSP_RECORD_LENGTH = 52
_TECHNOLOGY_NAMES = {
    AccessTechnology.UTRAN: "UTRAN",
    AccessTechnology.E_UTRAN: "E-UTRAN",
    AccessTechnology.NG_RAN: "NG-RAN",
    AccessTechnology.GSM: "GSM",
    AccessTechnology.GSM_COMPACT: "GSM COMPACT",
}


class CardFileError(ValueError):
    """Content the file cannot hold, or bytes that are not such a file; the text says which."""


@dataclass(frozen=True)
class Spot:
    """Where one file is: its RFM application, the path to it, its shape."""

    name: CardFileName
    title: str
    tar: bytes
    path: tuple[int, ...]
    size: int  # bytes of a transparent file, or of one record
    records: int | None = None  # linear fixed: how many records are written and read

    def select(self) -> list[bytes]:
        return rfm.select_path(*self.path)

    def reads(self) -> list[bytes]:
        if self.records is None:
            return [rfm.read_binary(self.size)]
        return [rfm.read_record(n, self.size) for n in range(1, self.records + 1)]

    @property
    def where(self) -> str:
        return f"{self.title} {'/'.join(f'{fid:04X}' for fid in self.path)}"


def spots(smsp_record_length: int = SMSP_RECORD_LENGTH) -> dict[CardFileName, Spot]:
    usim, uicc = rfm.TAR_USIM_RFM, rfm.TAR_UICC_RFM
    return {
        "spn": Spot("spn", "EF.SPN", usim, (0x6F46,), 17),
        "oplmnwact": Spot("oplmnwact", "EF.OPLMNwAcT", usim, (0x6F61,), 60),
        "smsp": Spot("smsp", "EF.SMSP", usim, (0x6F42,), smsp_record_length, 1),
        "stk_menu": Spot(
            "stk_menu", "menu file", uicc, (0xA515, 0x6FE0), MENU_RECORD_LENGTH, MENU_RECORDS
        ),
    }


def updates(spot: Spot, content: CardFile) -> list[bytes]:
    """The RFM commands writing ``content`` (after the SELECTs of ``spot``)."""
    data = encode(spot, content)
    if spot.records is None:
        return [rfm.update_binary(data[0])]
    return [rfm.update_record(n, record) for n, record in enumerate(data, start=1)]


def encode(spot: Spot, content: CardFile) -> list[bytes]:
    """The file's bytes (one item: a transparent file; else one per record)."""
    try:
        if isinstance(content, SpnFile):
            name = ServiceProviderName(
                content.name, content.show_in_home, content.hide_when_roaming
            )
            return [Spn().encode(name)]
        if isinstance(content, RoamingListFile):
            entries = tuple(_plmn_act(entry) for entry in content.networks)
            return [PlmnActList(spot.title).encode(entries, spot.size)]
        if isinstance(content, SmsCentreFile):
            return [Smsp().encode(f"+{content.address}", spot.size)]
        return _menu(content).records()
    except CodecError as exc:  # it names the file
        raise CardFileError(str(exc)) from None
    except (MenuError, SmsError) as exc:
        raise CardFileError(f"{spot.title}: {exc}") from None


def decode(spot: Spot, data: Sequence[bytes]) -> CardFile | None:
    """What the file holds (None: never written, all FF)."""
    try:
        if spot.name == "spn":
            if is_blank(data[0]):
                return None
            spn = Spn().decode(data[0])
            return SpnFile(
                name=spn.name, show_in_home=spn.show_in_hplmn, hide_when_roaming=spn.hide_in_oplmn
            )
        if spot.name == "oplmnwact":
            entries = PlmnActList(spot.title).decode(data[0])
            return RoamingListFile(networks=tuple(_entry(e) for e in entries))
        if spot.name == "smsp":
            address = Smsp().decode(data[0])
            return SmsCentreFile(address=address.lstrip("+")) if address else None
        menu = Menu.from_records(list(data))
        if menu is None:
            return None
        items = tuple(
            MenuEntry(
                id=item.id,
                label=item.label,
                destination=item.sms.destination.lstrip("+"),
                text=item.sms.decoded_text(),
            )
            for item in menu.items
        )
        return StkMenuFile(title=menu.title, items=items)
    except (CodecError, MenuError, SmsError, ValueError) as exc:
        raise CardFileError(f"{spot.title} does not read as such a file: {exc}") from None


def describe(content: CardFile) -> str:
    """The content in words, for renders."""
    if isinstance(content, SpnFile):
        flags = [
            f
            for f, on in (
                ("home", content.show_in_home),
                ("not roaming", content.hide_when_roaming),
            )
            if on
        ]
        return f"name {content.name!r} (shown: {', '.join(flags) or 'by the phone'})"
    if isinstance(content, RoamingListFile):
        networks = [
            f"{e.mcc}-{e.mnc} {'+'.join(e.technologies) if e.technologies is not None else 'all'}"
            for e in content.networks
        ]
        return ", ".join(networks) or "no networks"
    if isinstance(content, SmsCentreFile):
        return f"SMS centre +{content.address}"
    items = "; ".join(
        f"{i.id} {i.label!r} → SMS {i.text!r} to {i.destination}" for i in content.items
    )
    return f"menu {content.title!r}: {items}"


def _plmn_act(entry: PlmnEntry) -> PlmnAct:
    if entry.technologies is None:
        return PlmnAct(Plmn(entry.mcc, entry.mnc), ACT_ALL)
    act = 0
    for technology in entry.technologies:
        act |= ACCESS_TECHNOLOGIES[_TECHNOLOGY_NAMES[technology]]
    return PlmnAct(Plmn(entry.mcc, entry.mnc), act)


def _entry(entry: PlmnAct) -> PlmnEntry:
    if entry.act == ACT_ALL:
        technologies = None
    else:
        names = set(act_names(entry.act))
        technologies = tuple(t for t, name in _TECHNOLOGY_NAMES.items() if name in names)
    return PlmnEntry(mcc=entry.plmn.mcc, mnc=entry.plmn.mnc, technologies=technologies)


def _menu(content: StkMenuFile) -> Menu:
    items = tuple(
        MenuItem(item.id, item.label, SmsSubmit.text(item.destination, item.text))
        for item in content.items
    )
    return Menu(content.title, items)
