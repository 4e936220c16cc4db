"""Secrets at rest: Ki, OPc, ADM codes and passwords are sealed with AES-256-GCM.

The key comes from ``PROVGW_SECRET_KEY`` (64 hex digits) or a key file (created with mode 0600
on first use in demo mode); it is never stored beside the data in the repository. Sealed values
look like ``enc:v1:<base64(nonce ‖ ciphertext ‖ tag)>``; the store passes `Vault.seal` and
`Vault.unseal` as pydantic serialisation/validation context (see `gateway.identifiers.Secret`),
so secrets are sealed field by field and everything else in a record stays readable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.identifiers import SEALED_PREFIX
from gateway.private_files import private_dir

ENV_KEY = "PROVGW_SECRET_KEY"


class VaultError(Exception):
    """A sealed value could not be opened (wrong key or tampered data)."""


class Vault:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the secret key must be 32 bytes (64 hex digits)")
        self._aead = AESGCM(key)
        self._nonce_prefix = secrets.token_bytes(8)
        self._nonce_counter = 0
        self._mac_key = hmac.new(key, b"provgw order digest", hashlib.sha256).digest()

    @classmethod
    def from_environment(cls, key_file: Path, *, create: bool = False) -> Vault:
        """Key from ``$PROVGW_SECRET_KEY``, else from ``key_file`` (created if ``create``)."""
        env = os.environ.get(ENV_KEY)
        if env:
            return cls(bytes.fromhex(env.strip()))
        if key_file.exists():
            return cls(bytes.fromhex(key_file.read_text().strip()))
        if not create:
            raise VaultError(f"no secret key: set ${ENV_KEY} or create {key_file}")
        private_dir(key_file.parent)
        key = secrets.token_bytes(32)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key.hex() + "\n")
        return cls(key)

    def _nonce(self) -> bytes:
        """A 96-bit nonce that never repeats under one key: a random 64-bit prefix per
        process and a 32-bit counter (NIST SP 800-38D §8.2.1), re-drawn when it wraps."""
        self._nonce_counter += 1
        if self._nonce_counter >= 2**32:
            self._nonce_prefix, self._nonce_counter = secrets.token_bytes(8), 1
        return self._nonce_prefix + self._nonce_counter.to_bytes(4, "big")

    def seal(self, plaintext: str) -> str:
        nonce = self._nonce()
        blob = nonce + self._aead.encrypt(nonce, plaintext.encode(), None)
        return SEALED_PREFIX + base64.b64encode(blob).decode()

    def unseal(self, token: str) -> str:
        if not token.startswith(SEALED_PREFIX):
            raise VaultError("not a sealed value")
        blob = base64.b64decode(token[len(SEALED_PREFIX) :])
        try:
            return self._aead.decrypt(blob[:12], blob[12:], None).decode()
        except InvalidTag:
            raise VaultError("a sealed value does not open with this key") from None

    def digest(self, data: bytes) -> str:
        """A keyed digest: compares bodies that hold secrets without storing them in clear."""
        return hmac.new(self._mac_key, data, hashlib.sha256).hexdigest()

    @property
    def context(self) -> dict[str, Any]:
        """Pydantic context that seals on dump and unseals on validate."""
        return {"seal": self.seal, "unseal": self.unseal}
