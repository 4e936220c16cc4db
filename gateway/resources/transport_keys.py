"""Transport keys: how card vendors send the Ki encrypted, and how it is opened here.

The cipher (this project's definition; vendors agree on one per contract): each 16-byte Ki is
encrypted on its own with AES-128 in ECB mode under the transport key whose index the vendor
file's header names (``AuC-transport-key-index``); the file carries the 32 hex digits of the
ciphertext. Index 0 means the Ki is in clear. One AES block per key, so ECB leaks nothing but
equality of two Kis — which are random.

Keys (32 hex digits each) come from the environment, ``PROVGW_TRANSPORT_KEY_<n>``, or from a key
file of lines ``<n> <32 hex digits>`` (``#`` comments) readable by its owner only — never from
the repository. The file is ``$PROVGW_TRANSPORT_KEY_FILE`` or the path the gateway passes.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from gateway.resources.refusals import Invalid

ENV_PREFIX = "PROVGW_TRANSPORT_KEY_"
ENV_FILE = "PROVGW_TRANSPORT_KEY_FILE"
_LINE = re.compile(r"([0-9]{1,3})\s+([0-9A-Fa-f]{32})")


class TransportKeys:
    """Transport keys by index; ``decrypt`` opens many Kis in one AES pass."""

    def __init__(self, keys: dict[int, bytes]) -> None:
        if 0 in keys:
            raise ValueError("transport key index 0 means 'in clear' and has no key")
        self._keys = dict(keys)

    @classmethod
    def from_environment(cls, key_file: Path | None = None) -> TransportKeys:
        """Keys from ``PROVGW_TRANSPORT_KEY_<n>`` and from the key file (if it exists);
        the environment wins for an index given in both."""
        keys: dict[int, bytes] = {}
        named = os.environ.get(ENV_FILE)
        path = Path(named) if named else key_file
        if path is not None and path.exists():
            keys.update(_read_key_file(path))
        for name, value in os.environ.items():
            if name.startswith(ENV_PREFIX) and name[len(ENV_PREFIX) :].isdigit():
                if not re.fullmatch(r"[0-9A-Fa-f]{32}", value.strip()):
                    raise ValueError(f"${name} must be 32 hexadecimal digits (an AES-128 key)")
                keys[int(name[len(ENV_PREFIX) :])] = bytes.fromhex(value.strip())
        keys.pop(0, None)
        return cls(keys)

    def __contains__(self, index: int) -> bool:
        return index == 0 or index in self._keys

    def decrypt(self, index: int, blocks: list[bytes]) -> list[bytes]:
        """Open each 16-byte block (a Ki) under key ``index``; index 0 returns them as they are."""
        if index == 0:
            return blocks
        key = self._keys.get(index)
        if key is None:
            raise Invalid(
                f"transport key {index} is not configured: set ${ENV_PREFIX}{index} or add it to"
                " the transport key file",
                field="line 1",
            )
        decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305 - see above
        clear = decryptor.update(b"".join(blocks)) + decryptor.finalize()
        return [clear[i : i + 16] for i in range(0, len(clear), 16)]

    def encrypt(self, index: int, blocks: list[bytes]) -> list[bytes]:
        """The vendor's side (benchmarks and tests make vendor files with it)."""
        if index == 0:
            return blocks
        encryptor = Cipher(algorithms.AES(self._keys[index]), modes.ECB()).encryptor()  # noqa: S305
        sealed = encryptor.update(b"".join(blocks)) + encryptor.finalize()
        return [sealed[i : i + 16] for i in range(0, len(sealed), 16)]


def _read_key_file(path: Path) -> dict[int, bytes]:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(
            f"transport key file {path} must be readable by its owner only (chmod 600)"
        )
    keys: dict[int, bytes] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            # The line is not echoed: it may hold a key.
            raise ValueError(f"{path} line {number}: expected '<index> <32 hex digits>'")
        keys[int(match.group(1))] = bytes.fromhex(match.group(2))
    return keys
