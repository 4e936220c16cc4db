"""An operator's STK menu as the emulated card's toolkit applet keeps it: records of its menu file.

On a real card the menu belongs to a toolkit applet (installed and personalised by remote
applet management); the USIM emulator's applet keeps its menu in a file of its own,
`MF/A515/6FE0` (linear fixed, `MENU_RECORDS` records of `MENU_RECORD_LENGTH` bytes, ADM1 to
update), so that the menu can be provisioned like any file: by RFM over the air or by a card
writer. Records hold COMPREHENSION-TLVs of TS 102 223, the very objects the applet puts into
its proactive commands:

    record 1        85 <alpha: menu title>
    record 2…       8F <item id, alpha: item text> 8B <SMS-SUBMIT TPDU the item sends>

unused records FF. Texts are GSM default alphabet when possible, else UCS-2 (`80` form), as
everywhere on the card (simcard.text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simcard.codec import is_blank
from simcard.sms_pp import SmsSubmit
from simcard.text import decode_alpha, encode_alpha
from simcard.tlv import TlvError, parse, simple_tag, tlv

MENU_FILE = "MF/A515/6FE0"
MENU_RECORD_LENGTH = 80
MENU_RECORDS = 8
ALPHA, ITEM, SMS_TPDU = 0x85, 0x8F, 0x8B


class MenuError(ValueError):
    """A menu that does not fit the file, or records that are not a menu."""


@dataclass(frozen=True)
class MenuItem:
    id: int
    label: str
    sms: SmsSubmit


@dataclass(frozen=True)
class Menu:
    title: str
    items: tuple[MenuItem, ...]

    def records(self) -> list[bytes]:
        """The file's records, FF-padded; raises MenuError naming what does not fit."""
        if not self.items:
            raise MenuError("a menu needs at least one item")
        if len(self.items) > MENU_RECORDS - 1:
            raise MenuError(f"at most {MENU_RECORDS - 1} items fit the menu file")
        if len({item.id for item in self.items}) != len(self.items):
            raise MenuError("item ids must differ")
        records = [tlv(ALPHA, encode_alpha(self.title))]
        for item in self.items:
            if not 1 <= item.id <= 255:
                raise MenuError(f"item id must be 1-255, got {item.id}")
            records.append(
                tlv(ITEM, bytes([item.id]) + encode_alpha(item.label))
                + tlv(SMS_TPDU, item.sms.encode())
            )
        for number, record in enumerate(records, start=1):
            if len(record) > MENU_RECORD_LENGTH:
                raise MenuError(
                    f"record {number} needs {len(record)} bytes, {MENU_RECORD_LENGTH} fit: "
                    "shorten the text or the SMS"
                )
        records += [b""] * (MENU_RECORDS - len(records))
        return [r.ljust(MENU_RECORD_LENGTH, b"\xff") for r in records]

    @classmethod
    def from_records(cls, records: Sequence[bytes]) -> Menu | None:
        """The menu the records hold, None for an empty (blank) file."""
        if not records or is_blank(records[0]):
            return None
        try:
            title = decode_alpha(dict(_tlvs(records[0]))[simple_tag(ALPHA)])
            items = []
            for record in records[1:]:
                if is_blank(record):
                    continue
                fields = dict(_tlvs(record))
                item = fields[simple_tag(ITEM)]
                sms = SmsSubmit.decode(fields[simple_tag(SMS_TPDU)])
                items.append(MenuItem(item[0], decode_alpha(item[1:]), sms))
        except (KeyError, IndexError, TlvError, ValueError) as exc:
            raise MenuError(f"menu file does not hold a menu: {exc}") from None
        return cls(title, tuple(items))


def _tlvs(record: bytes) -> list[tuple[int, bytes]]:
    return [(simple_tag(tag), value) for tag, value in parse(record, padded=True)]
