"""Batches of profiles: generated from IMSI/ICCID ranges, read from and written to CSV.

The CSV columns are pySim-prog's (`name, iccid, mcc, mnc, imsi, smsp, ki, opc, acc, adm1,
msisdn…`; `--read-csv` lower-cases the header), so a batch file made here programs cards with
pySim-prog and one made for pySim-prog programs cards here. As there: `smsp` is the raw EF.SMSP
content in hex, `name` the SPN, `pin_adm`/`adm1` the ADM code as ASCII, `pin_adm_hex` as hex.
The header-less rows `pySim-prog --write-csv` appends are read too, in its column order.
"""

from __future__ import annotations

import csv
import itertools
import secrets
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from simcard.codec import CodecError
from simcard.identities import Smsp
from simcard.milenage import opc_from_op
from simcard.profile import CardProfile, ProfileError, luhn_digit

CSV_COLUMNS = (
    "name", "iccid", "mcc", "mnc", "imsi", "smsp", "ki", "opc", "acc", "adm1", "msisdn",
    "pin1", "puk1", "pin2", "puk2",
)  # fmt: skip
PYSIM_WRITE_CSV_COLUMNS = ("name", "iccid", "mcc", "mnc", "imsi", "smsp", "ki", "opc")
"""What `pySim-prog --write-csv` appends per card, header-less (pySim-prog.py,
`write_params_csv`)."""
_RENAMED = {"name": "spn", "pin_adm": "adm1", "pin_adm_hex": "adm1"}
_FIELDS = set(CardProfile.model_fields)
_SMSP_TAIL = 28


def profile_from_row(
    row: Mapping[str, str | None], *, line: int | None = None, defaults: Mapping[str, Any] = {}
) -> CardProfile:
    """A profile from one CSV row (pySim-prog columns); unknown columns are ignored."""
    where = f"line {line}: " if line is not None else ""
    data: dict[str, Any] = dict(defaults)
    for column, cell in row.items():
        if column is None or cell is None or not cell.strip():
            continue
        key = column.strip().lower()
        key = _RENAMED.get(key, key)
        if key == "smsp":
            data["smsc"] = _smsc_from_smsp(cell.strip(), where)
        elif key in _FIELDS:
            data[key] = cell.strip()
    try:
        return CardProfile.create(data)
    except ProfileError as exc:
        raise ProfileError(f"{where}{exc}") from None


def _smsc_from_smsp(cell: str, where: str) -> str:
    try:
        return Smsp().decode(bytes.fromhex(cell))
    except (ValueError, CodecError) as exc:
        raise ProfileError(f"{where}smsp: not an EF.SMSP record in hex ({exc})") from None


def profile_to_row(profile: CardProfile) -> dict[str, str]:
    """The CSV row for a profile — keys in clear: this is the personalisation file."""

    def secret(value: Any) -> str:
        return value.get_secret_value() if value is not None else ""

    opc = profile.opc_bytes
    return {
        "name": profile.spn,
        "iccid": profile.iccid,
        "mcc": profile.mcc,
        "mnc": profile.mnc,
        "imsi": profile.imsi,
        "smsp": Smsp().encode(profile.smsc, _SMSP_TAIL).hex() if profile.smsc else "",
        "ki": secret(profile.ki),
        "opc": opc.hex() if opc is not None else "",
        "acc": profile.acc,
        "adm1": secret(profile.adm1),
        "msisdn": profile.msisdn or "",
        "pin1": secret(profile.pin1),
        "puk1": secret(profile.puk1),
        "pin2": secret(profile.pin2),
        "puk2": secret(profile.puk2),
    }


def read_csv(
    stream: IO[str], *, defaults: Mapping[str, Any] = {}
) -> Iterator[tuple[int, CardProfile | ProfileError]]:
    """(line, profile or the error for that line) for every data row, so a batch can skip a
    bad row and go on.

    A first line naming columns is a header (any order, as pySim-prog --read-csv wants). A
    first line of data instead is taken as what `pySim-prog --write-csv` appends: no header,
    the columns of PYSIM_WRITE_CSV_COLUMNS in that order (no ADM1: give it separately)."""
    rows = csv.reader(stream)
    first = next(rows, None)
    if first is None:
        return
    names = [cell.strip().lower() for cell in first]
    data: Iterator[list[str]]
    if {"iccid", "imsi"} & set(names):
        missing = {"iccid", "imsi"} - set(names)
        if missing:
            raise ProfileError(
                f"CSV header lacks {', '.join(sorted(missing))} "
                f"(columns: {', '.join(sorted(n for n in names if n))})"
            )
        columns, data = names, rows
    else:
        columns, data = list(PYSIM_WRITE_CSV_COLUMNS), itertools.chain([first], rows)
        if len(first) != len(columns):
            raise ProfileError(
                f"line 1: neither a header (no iccid/imsi column) nor a pySim-prog --write-csv "
                f"row ({len(first)} columns, expected {len(columns)}: {', '.join(columns)})"
            )
    for row in data:
        line = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        try:
            yield line, profile_from_row(_named(columns, row, line), line=line, defaults=defaults)
        except ProfileError as exc:
            yield line, exc


def _named(columns: list[str], row: list[str], line: int) -> dict[str, str | None]:
    if len(row) > len(columns):
        raise ProfileError(f"line {line}: {len(row)} cells, but only {len(columns)} columns")
    return {name: row[i] if i < len(row) else None for i, name in enumerate(columns)}


def write_csv(stream: IO[str], profiles: Iterable[CardProfile]) -> int:
    """Write a header and one row per profile; returns the number of rows."""
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for profile in profiles:
        writer.writerow(profile_to_row(profile))
        count += 1
    return count


def _step(first: str, i: int, what: str) -> str:
    value = str(int(first) + i).zfill(len(first))
    if len(value) != len(first):
        raise ProfileError(f"{what} range overflows {len(first)} digits")
    return value


def _random_digits(n: int) -> str:
    return f"{secrets.randbelow(10**n):0{n}d}"


def generate(
    count: int,
    first_imsi: str,
    first_iccid: str,
    *,
    op: bytes | None = None,
    template: Mapping[str, Any] = {},
) -> list[CardProfile]:
    """`count` profiles with consecutive IMSIs and ICCIDs (Luhn digit recomputed) and fresh
    keys from `secrets`: Ki random; OPc from the operator's OP when given, else random;
    PIN1/PIN2 4 random digits, PUK1/PUK2 8. `template` supplies the shared fields (mnc,
    spn, smsc, adm1, PLMN lists…)."""
    if count < 1:
        raise ProfileError("count must be at least 1")
    if len(first_iccid) not in (19, 20) or not first_iccid.isdigit():
        raise ProfileError("first ICCID must be 19 or 20 digits, check digit included")
    if luhn_digit(first_iccid[:-1]) != first_iccid[-1]:
        raise ProfileError(f"iccid: first ICCID {first_iccid} fails the Luhn check")
    if not first_imsi.isdigit():
        raise ProfileError("imsi: first IMSI must be decimal digits")
    if op is not None and len(op) != 16:
        raise ProfileError("op: OP must be 16 bytes")
    shared = {k: v for k, v in template.items() if k not in ("ki", "opc", "op", "iccid", "imsi")}
    # one network for the whole batch: a range running into the next MNC is refused
    shared.setdefault("mcc", first_imsi[:3])
    shared.setdefault("mnc", first_imsi[3:5])
    profiles = []
    for i in range(count):
        body = _step(first_iccid[:-1], i, "ICCID")
        ki = secrets.token_bytes(16)
        opc = opc_from_op(ki, op) if op is not None else secrets.token_bytes(16)
        fields = {
            **shared,
            "iccid": body + luhn_digit(body),
            "imsi": _step(first_imsi, i, "IMSI"),
            "ki": ki.hex(),
            "opc": opc.hex(),
            "pin1": _random_digits(4),
            "puk1": _random_digits(8),
            "pin2": _random_digits(4),
            "puk2": _random_digits(8),
        }
        profiles.append(CardProfile.create(fields))
    return profiles
