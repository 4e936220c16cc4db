"""Reading a card the way pySim-read does: every file a clerk or engineer wants to see, decoded.

Read-only: no ADM code is presented (PIN1 only if the card has it enabled and it is given), so
reading can never lock or change a card. A file the card lacks, or refuses, is reported as
such instead of stopping the read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simcard.codec import Codec, CodecError
from simcard.errors import StatusWordError
from simcard.files import Application, DirRecord, FilePath
from simcard.identities import Iccid, Imsi, Msisdn, Smsp
from simcard.models import MODELS
from simcard.plmn import Ad, AdminData, Plmn, PlmnAct, PlmnActList, PlmnList, act_names
from simcard.session import CardSession
from simcard.tables import Acc, Sst, Ust
from simcard.text import ServiceProviderName, Spn
from simcard.transport import Transport


@dataclass(frozen=True)
class Item:
    """One file to show: label, path, codec, and whether it is a record file (record 1)."""

    key: str
    label: str
    path: str
    codec: Codec[Any]
    record: bool = False


ITEMS = (
    Item("iccid", "ICCID", "MF/2FE2", Iccid()),
    Item("imsi", "IMSI", "MF/7F20/6F07", Imsi()),
    Item("smsp", "SMSP", "MF/7F10/6F42", Smsp(), record=True),
    Item("spn", "SPN", "MF/7F20/6F46", Spn()),
    Item("plmnsel", "PLMNsel", "MF/7F20/6F30", PlmnList("EF.PLMNsel")),
    Item("acc", "ACC", "MF/7F20/6F78", Acc()),
    Item("msisdn", "MSISDN", "MF/7F10/6F40", Msisdn(), record=True),
    Item("ad", "AD", "MF/7F20/6FAD", Ad()),
    Item("sst", "SIM Service Table", "MF/7F20/6F38", Sst()),
    Item("usim_imsi", "USIM IMSI", "ADF.USIM/6F07", Imsi()),
    Item("usim_spn", "USIM SPN", "ADF.USIM/6F46", Spn()),
    Item("usim_ad", "USIM AD", "ADF.USIM/6FAD", Ad()),
    Item("usim_acc", "USIM ACC", "ADF.USIM/6F78", Acc()),
    Item("plmnwact", "PLMNwAcT", "ADF.USIM/6F60", PlmnActList("EF.PLMNwAcT")),
    Item("oplmnwact", "OPLMNwAcT", "ADF.USIM/6F61", PlmnActList("EF.OPLMNwAcT")),
    Item("hplmnwact", "HPLMNwAcT", "ADF.USIM/6F62", PlmnActList("EF.HPLMNwAcT")),
    Item("ehplmn", "EHPLMN", "ADF.USIM/6FD9", PlmnList("EF.EHPLMN")),
    Item("fplmn", "FPLMN", "ADF.USIM/6F7B", PlmnList("EF.FPLMN")),
    Item("ust", "USIM Service Table", "ADF.USIM/6F38", Ust()),
    Item("usim_msisdn", "USIM MSISDN", "ADF.USIM/6F40", Msisdn(), record=True),
    Item("usim_smsp", "USIM SMSP", "ADF.USIM/6F42", Smsp(), record=True),
)
DIR_PATH = FilePath.parse("MF/2F00")


@dataclass(frozen=True)
class Reading:
    """One file as read: its decoded value and raw hex, or why it could not be read."""

    item: Item
    value: Any = None
    raw: str = ""
    error: str = ""


def read_card(transport: Transport, *, pin1: bytes | None = None) -> dict[str, Any]:
    """Everything readable, as a JSON-ready dict (`readings` keyed as in ITEMS)."""
    atr = transport.atr or transport.connect()
    session = CardSession(transport)
    if pin1 is not None:
        session.verify_pin1(pin1)
    apps = _applications(session)
    usim = next((a for a in apps if a.is_usim), None)
    if usim is not None:
        session.usim_aid = usim.aid
    readings = [
        _read(session, item) for item in ITEMS if usim is not None or "ADF" not in item.path
    ]
    model = next((m.name for m in MODELS if atr in m.atrs), "unknown")
    return {
        "atr": atr.hex(),
        "model": model,
        "applications": [{"aid": a.aid.hex(), "label": a.label} for a in apps],
        "files": {r.item.key: _json(r) for r in readings},
        "apdus": transport.apdu_count,
    }


def _applications(session: CardSession) -> list[Application]:
    apps = []
    try:
        fcp = session.select(DIR_PATH)
        for number in range(1, fcp.record_count + 1):
            app = DirRecord().decode(session.read_record(DIR_PATH, number))
            if app is None:
                break
            apps.append(app)
    except (StatusWordError, CodecError):
        return apps
    return apps


def _read(session: CardSession, item: Item) -> Reading:
    path = FilePath.parse(item.path)
    try:
        raw = session.read_record(path, 1) if item.record else session.read_binary(path)
    except StatusWordError as exc:
        return Reading(item, error=f"not readable ({exc.sw:04X})")
    try:
        return Reading(item, item.codec.decode(raw), raw.hex())
    except (CodecError, ValueError) as exc:
        return Reading(item, raw=raw.hex(), error=str(exc))


def _plain(value: Any) -> Any:
    """A decoded value as JSON: strings, lists, dicts of those."""
    if isinstance(value, ServiceProviderName):
        return {
            "name": value.name,
            "show_in_hplmn": value.show_in_hplmn,
            "hide_in_oplmn": value.hide_in_oplmn,
        }
    if isinstance(value, AdminData):
        return {"mnc_length": value.mnc_length, "operation_mode": f"{value.operation_mode:02x}"}
    if isinstance(value, PlmnAct):
        return {"plmn": str(value.plmn), "act": act_names(value.act)}
    if isinstance(value, Plmn):
        return str(value)
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _json(reading: Reading) -> dict[str, Any]:
    out: dict[str, Any] = {"label": reading.item.label, "path": reading.item.path}
    if reading.error:
        out["error"] = reading.error
    else:
        out["value"] = _plain(reading.value)
    if reading.raw:
        out["raw"] = reading.raw
    return out


def format_reading(card: dict[str, Any]) -> str:
    """Human-readable lines in the spirit of pySim-read."""
    lines = [f"ATR: {card['atr']}", f"Card model: {card['model']}"]
    for app in card["applications"]:
        lines.append(f"Application: {app['label'] or '?'} {app['aid']}")
    for entry in card["files"].values():
        label = entry["label"]
        if "error" in entry:
            lines.append(f"{label}: {entry['error']}")
            continue
        lines.extend(_format_value(label, entry["value"], entry.get("raw", "")))
    return "\n".join(lines)


def _format_value(label: str, value: Any, raw: str) -> list[str]:
    if isinstance(value, dict) and "name" in value:
        return [
            f"{label}: {value['name']}",
            f"  Show in HPLMN: {value['show_in_hplmn']}",
            f"  Hide in OPLMN: {value['hide_in_oplmn']}",
        ]
    if isinstance(value, dict) and "mnc_length" in value:
        return [f"{label}: {raw}", f"  MNC length: {value['mnc_length']}"]
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [f"{label}:"] + [f"  {v['plmn']} AcT: {', '.join(v['act'])}" for v in value]
    if isinstance(value, list):
        shown = ", ".join(str(v) for v in value) or "(none)"
        return [
            f"{label}: {raw} (classes {shown})" if label.endswith("ACC") else f"{label}: {shown}"
        ]
    return [f"{label}: {value if value != '' else '(not set)'}"]
