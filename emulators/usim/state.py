"""What the card remembers across power cycles, and how it is kept on disk.

Non-volatile card memory is: every file's content, the PIN/PUK/ADM values and retry counters,
and the SQN array of the AKA freshness check. It is stored as one JSON document, replaced
atomically (temporary file + rename in the same directory) after every change, so a killed
emulator never leaves half a card behind. Volatile state (selection, verified PINs) lives in
`card.UsimCard` and is lost at power-off, as on a real card.

The file holds Ki/OPc/ADM1 in clear, like the card's own EEPROM; it is created 0600.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.usim.layout import FileSystem

FORMAT = "provgw-usim-card/1"

PIN_LEN = 8
IND_BITS = 5
"""TS 33.102 Annex C.3.2: SQN = SEQ || IND with a 5-bit IND, as osmo-hlr assigns it."""


@dataclass
class PinCounter:
    """A PIN, PUK or ADM code (8 bytes, FF-padded) with its retry counter."""

    value: bytes = field(repr=False)
    tries: int
    max_tries: int
    enabled: bool = True

    @property
    def blocked(self) -> bool:
        return self.tries == 0


@dataclass
class SqnState:
    """The USIM side of the SQN check (TS 33.102 Annex C.2.2): highest SEQ per IND slot."""

    seq: list[int] = field(default_factory=lambda: [0] * (1 << IND_BITS))
    highest: int = 0

    def fresh(self, sqn: int) -> bool:
        return (sqn >> IND_BITS) > self.seq[sqn & ((1 << IND_BITS) - 1)]

    def accept(self, sqn: int) -> None:
        self.seq[sqn & ((1 << IND_BITS) - 1)] = sqn >> IND_BITS
        self.highest = max(self.highest, sqn)


@dataclass
class CardState:
    model: str
    files: dict[str, bytearray] = field(repr=False)  # includes Ki/OPc: never printed
    pins: dict[str, PinCounter] = field(repr=False)
    sqn: SqnState = field(default_factory=SqnState)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "model": self.model,
            "files": {path: data.hex() for path, data in self.files.items()},
            "pins": {
                name: {
                    "value": pin.value.hex(),
                    "tries": pin.tries,
                    "max_tries": pin.max_tries,
                    "enabled": pin.enabled,
                }
                for name, pin in self.pins.items()
            },
            "sqn": {"seq": self.sqn.seq, "highest": self.sqn.highest},
        }


class StoreError(ValueError):
    """The card store file is missing, unreadable or does not describe this card layout."""


def blank_files(fs: FileSystem) -> dict[str, bytearray]:
    return {path: bytearray(ef.blank_content()) for path, ef in fs.stored_efs()}


def load(path: Path, fs: FileSystem) -> CardState:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise StoreError(f"card store {path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise StoreError(f"card store {path}: unreadable ({exc})") from None
    try:
        return _from_json(doc, fs)
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"card store {path}: {exc}") from None


def _from_json(doc: dict[str, Any], fs: FileSystem) -> CardState:
    if doc.get("format") != FORMAT:
        raise ValueError(f"format is {doc.get('format')!r}, expected {FORMAT!r}")
    files = blank_files(fs)  # files added to the layout since the store was written stay blank
    record_len = {path: ef.record_len for path, ef in fs.stored_efs()}
    links = fs.links()
    for path, content in doc["files"].items():
        if path in links:
            # Stores written before the layout linked this entry kept a copy of its own:
            # the linked file's content wins, the copy fills it only if the store has none.
            if links[path] in doc["files"]:
                continue
            path = links[path]
        if path not in files:
            raise ValueError(f"file {path} is not part of the card layout")
        data = bytes.fromhex(content)
        size = len(files[path])
        grown = record_len[path] and len(data) < size and not len(data) % record_len[path]
        if grown:  # a record file the layout gave more records: the new ones stay blank
            data += files[path][len(data) :]
        if len(data) != size:
            raise ValueError(f"file {path} holds {len(data)} bytes, expected {size}")
        files[path] = bytearray(data)
    pins = {}
    for name, p in doc["pins"].items():
        value = bytes.fromhex(p["value"])
        if len(value) != PIN_LEN or not 0 <= int(p["tries"]) <= int(p["max_tries"]):
            raise ValueError(f"pins.{name} is malformed")
        pins[name] = PinCounter(value, int(p["tries"]), int(p["max_tries"]), bool(p["enabled"]))
    seq = [int(s) for s in doc["sqn"]["seq"]]
    if len(seq) != 1 << IND_BITS:
        raise ValueError(f"sqn.seq has {len(seq)} entries, expected {1 << IND_BITS}")
    return CardState(str(doc["model"]), files, pins, SqnState(seq, int(doc["sqn"]["highest"])))


def save(path: Path, state: CardState) -> None:
    """Replace the store atomically: readers see the old card or the new one, never a mix."""
    text = json.dumps(state.to_json(), indent=1)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
