"""Reading the emulator's optional config files (templates, return codes): TOML or JSON."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from emulators.hlr.codes import ReturnCodes
from emulators.hlr.state import Template


def read_table(path: Path) -> dict[str, Any]:
    """The top-level table of a `.toml` or `.json` file; `ValueError` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a table at the top level")
    return data


def read_templates(path: Path) -> dict[int, Template]:
    """Templates keyed by TPLID: `[1]` / `[2] GPRS = true, GPRSTPLID = 1`, fields as in LST SUB.

    The file replaces the default set: only the templates it names exist.
    """
    templates: dict[int, Template] = {}
    for key, fields in read_table(path).items():
        if not key.isdigit() or not 1 <= int(key) <= 9999:
            raise ValueError(f"{path}: template {key!r}: expected a TPLID from 1 to 9999")
        if not isinstance(fields, dict):
            raise ValueError(f"{path}: template {key}: expected a table of fields")
        templates[int(key)] = Template.from_mapping(f"{path}: template {key}", fields)
    return templates


def read_codes(path: Path) -> ReturnCodes:
    """A return-code table overriding the defaults row by row (see `ReturnCodes.from_mapping`)."""
    try:
        return ReturnCodes.from_mapping(read_table(path))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
