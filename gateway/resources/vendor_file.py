"""Card vendor output files: the personalisation data of a batch of cards.

Format (see docs/resources.md): a header line

    batchID timestamp quantity productID #IMSIs [AuC-transport-key-index [OTA-key-index]]

then one line per card, fields separated by blanks. Two column sets are recognised by their
field count — ``IMSI ICCID PIN1 PUK1 PIN2 PUK2 ACC KI`` (8) and the same followed by ``OPC ADM1``
(10) — or any order of those names given in a comment line before the first card, e.g.
``# ICCID IMSI KI OPC ADM1``. A file without a KI column is a batch of blank programmable cards
(keys are generated at the counter). ``#IMSIs`` is the number of IMSIs per card; only 1 is
supported. Other ``#`` lines and blank lines are ignored.

Cards that can be managed over the air also carry their OTA key set, ``KIC`` and ``KID``
(named in the column line), encrypted like the Ki under the transport key the header's
``OTA-key-index`` names (0 or absent: in clear); they are sealed with the other secrets.

Every line is checked (ICCID Luhn digit, IMSI, key lengths, PIN/PUK/ADM formats, duplicates
inside the file, the header's quantity); problems are reported by line number — never with the
value, which may be a key — and a file with any problem is refused whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import TypeAdapter, ValidationError

from gateway.identifiers import Iccid, Imsi
from gateway.resources.refusals import Invalid
from gateway.resources.transport_keys import TransportKeys

MAX_ERRORS = 50
MAX_CARDS = 1_000_000
SIMPLE = ("IMSI", "ICCID", "PIN1", "PUK1", "PIN2", "PUK2", "ACC", "KI")
EXTENDED = (*SIMPLE, "OPC", "ADM1")
SECRET_COLUMNS = ("KI", "OPC", "PIN1", "PUK1", "PIN2", "PUK2", "ADM1", "KIC", "KID")
OTA_COLUMNS = ("KIC", "KID")  # under the OTA transport key, like the Ki under its own
_BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_STAMP = re.compile(r"[0-9A-Za-z:.+-]{1,32}")
_PRODUCT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_IMSI: TypeAdapter[str] = TypeAdapter(Imsi)
_ICCID: TypeAdapter[str] = TypeAdapter(Iccid)


def _pattern(regex: str, message: str) -> Callable[[str], str | None]:
    compiled = re.compile(regex)
    return lambda value: None if compiled.fullmatch(value) else message


def _key(value: str) -> str | None:
    if re.fullmatch(r"[0-9A-Fa-f]+", value) is None:
        return "must be hexadecimal"
    if len(value) != 32:
        return f"must be 32 hexadecimal digits (128 bits), got {len(value)}"
    return None


def _adapter(adapter: TypeAdapter[str]) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        try:
            adapter.validate_python(value)
        except ValidationError as exc:
            return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        return None

    return check


CHECKS: dict[str, Callable[[str], str | None]] = {
    "IMSI": _adapter(_IMSI),
    "ICCID": _adapter(_ICCID),
    "PIN1": _pattern(r"[0-9]{4,8}", "must be 4 to 8 digits"),
    "PIN2": _pattern(r"[0-9]{4,8}", "must be 4 to 8 digits"),
    "PUK1": _pattern(r"[0-9]{8}", "must be 8 digits"),
    "PUK2": _pattern(r"[0-9]{8}", "must be 8 digits"),
    "ACC": _pattern(r"[0-9A-Fa-f]{4}", "must be 4 hexadecimal digits"),
    "KI": _key,
    "OPC": _key,
    "KIC": _key,
    "KID": _key,
    "ADM1": _pattern(
        r"[0-9A-Za-z]{4,8}|[0-9A-Fa-f]{16}",
        "must be 4 to 8 characters (sent as ASCII) or 16 hexadecimal digits",
    ),
}


@dataclass(frozen=True)
class VendorHeader:
    batch_id: str
    stamp: str
    quantity: int
    product: str
    transport_key: int
    ota_key: int | None


@dataclass(frozen=True)
class VendorCard:
    line: int
    iccid: str
    imsi: str
    acc: str | None
    secrets: dict[str, str] = field(repr=False)  # lower-case column → clear value; never shown


@dataclass(frozen=True)
class VendorBatch:
    header: VendorHeader
    columns: tuple[str, ...]
    cards: list[VendorCard]

    @property
    def programmable(self) -> bool:
        """Blank programmable cards: the vendor delivered no Ki."""
        return "KI" not in self.columns


class _Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, line: int, message: str) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append((f"line {line}", message))

    def raise_if_any(self) -> None:
        if self.items:
            raise Invalid.of(self.items)


def _header(line: int, fields: list[str], keys: TransportKeys, problems: _Problems) -> VendorHeader:
    if not 5 <= len(fields) <= 7:
        problems.add(
            line,
            "header must be 'batchID timestamp quantity productID #IMSIs"
            " [AuC-transport-key-index [OTA-key-index]]'",
        )
        problems.raise_if_any()
    numbers = fields[2:3] + fields[4:]
    if not all(n.isdigit() for n in numbers):
        problems.add(line, "header: quantity, #IMSIs and key indexes must be whole numbers")
        problems.raise_if_any()
    batch_id, stamp, quantity, product, imsis = fields[:5]
    transport = int(fields[5]) if len(fields) > 5 else 0
    ota = int(fields[6]) if len(fields) > 6 else None
    if not _BATCH_ID.fullmatch(batch_id):
        problems.add(line, "header: batchID must be letters, digits, '.', '_' or '-' (≤ 32)")
    if not _STAMP.fullmatch(stamp):
        problems.add(line, "header: timestamp must be one token like 20261121T101500")
    if not _PRODUCT.fullmatch(product):
        problems.add(line, "header: productID must be letters, digits, '.', '_' or '-' (≤ 32)")
    if not 1 <= int(quantity) <= MAX_CARDS:
        problems.add(line, f"header: quantity must be 1 to {MAX_CARDS:,}")
    if int(imsis) != 1:
        problems.add(line, f"header: cards with {imsis} IMSIs each are not supported (only 1)")
    if transport not in keys:
        problems.add(
            line,
            f"header: transport key {transport} is not configured (set"
            f" $PROVGW_TRANSPORT_KEY_{transport} or add it to the transport key file)",
        )
    return VendorHeader(batch_id, stamp, int(quantity), product, transport, ota)


def _column_line(fields: list[str]) -> tuple[str, ...] | None:
    names = tuple(f.upper() for f in fields)
    if names and all(n in CHECKS for n in names) and len(set(names)) == len(names):
        return names
    return None


def parse_vendor_file(text: str, keys: TransportKeys) -> VendorBatch:
    """Parse and check a whole file; `Invalid` lists the bad lines (at most 50)."""
    problems = _Problems()
    header: VendorHeader | None = None
    header_line = 1
    columns: tuple[str, ...] | None = None
    cards: list[VendorCard] = []
    kis: list[bytes] = []
    ota: list[dict[str, bytes]] = []
    seen_iccid: dict[str, int] = {}
    seen_imsi: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            named = _column_line(stripped[1:].split())
            if named is not None and header is not None and not cards:
                if "IMSI" not in named or "ICCID" not in named:
                    problems.add(number, "the column line must name IMSI and ICCID")
                columns = named
            continue
        fields = stripped.split()
        if header is None:
            header, header_line = _header(number, fields, keys, problems), number
            continue
        if columns is None:
            columns = {len(SIMPLE): SIMPLE, len(EXTENDED): EXTENDED}.get(len(fields))
            if columns is None:
                problems.add(
                    number,
                    f"expected {len(SIMPLE)} fields ({' '.join(SIMPLE)}) or {len(EXTENDED)}"
                    f" (… OPC ADM1), got {len(fields)}",
                )
                problems.raise_if_any()
        assert columns is not None
        if len(fields) != len(columns):
            problems.add(
                number, f"expected {len(columns)} fields ({' '.join(columns)}), got {len(fields)}"
            )
            continue
        row = dict(zip(columns, fields, strict=True))
        bad = False
        for name, value in row.items():
            message = CHECKS[name](value)
            if message is not None:
                problems.add(number, f"{name} {message}")
                bad = True
        iccid, imsi = row["ICCID"], row["IMSI"]
        for label, value, seen in (("ICCID", iccid, seen_iccid), ("IMSI", imsi, seen_imsi)):
            if value in seen:
                problems.add(number, f"{label} {value} repeats line {seen[value]}")
                bad = True
            else:
                seen[value] = number
        if bad:
            continue
        # Hex keys are normalised to lower case; PINs and ADM codes are kept as written (an
        # ADM1 sent as ASCII is case-sensitive).
        secrets = {
            c.lower(): row[c] for c in SECRET_COLUMNS if c in row and c not in ("KI", *OTA_COLUMNS)
        }
        if "opc" in secrets:
            secrets["opc"] = secrets["opc"].lower()
        if "KI" in row:
            kis.append(bytes.fromhex(row["KI"]))
        ota.append({c: bytes.fromhex(row[c]) for c in OTA_COLUMNS if c in row})
        cards.append(VendorCard(number, iccid, imsi, row.get("ACC"), secrets))
    if header is None:
        raise Invalid("the file is empty: no header line", field="line 1")
    if not problems.items and len(cards) != header.quantity:
        problems.add(header_line, f"header says {header.quantity} cards, the file has {len(cards)}")
    problems.raise_if_any()
    if kis:
        for card, ki in zip(cards, keys.decrypt(header.transport_key, kis), strict=True):
            card.secrets["ki"] = ki.hex()
    _open_ota_keys(ota, cards, header, keys)
    assert columns is not None
    return VendorBatch(header, columns, cards)


def _open_ota_keys(
    ota: list[dict[str, bytes]], cards: list[VendorCard], header: VendorHeader, keys: TransportKeys
) -> None:
    """KIc and KID of each card (``ota``, in card order), opened under the header's OTA
    transport key into the card's secrets."""
    present = [name for name in OTA_COLUMNS if cards and name in ota[0]]
    if not present:
        return
    index = header.ota_key or 0
    if index not in keys:
        raise Invalid(
            f"header: OTA transport key {index} is not configured (set"
            f" $PROVGW_TRANSPORT_KEY_{index} or add it to the transport key file)",
            field="line 1",
        )
    for name in present:
        opened = keys.decrypt(index, [row[name] for row in ota])
        for card, key in zip(cards, opened, strict=True):
            card.secrets[name.lower()] = key.hex()
