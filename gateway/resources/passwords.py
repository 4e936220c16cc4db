"""Operator passwords, stored only as salted scrypt hashes.

Why scrypt from the standard library: it is memory-hard (a GPU or ASIC guessing passwords pays
for memory, not only for arithmetic), it needs no new dependency, and OWASP's Password Storage
Cheat Sheet names it as the choice when Argon2id is not at hand, with N=2^17, r=8, p=1 — the
default cost here. The cost and a 16-byte random salt are stored in the hash itself
(``scrypt$N$r$p$salt$hash``), so the cost can be raised later without breaking old hashes.

A hash at that cost takes about half a second and 128 MiB, so it runs in a worker thread
(hashlib releases the GIL) and at most two run at once.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

_PREFIX = "scrypt"
_CONCURRENT = threading.BoundedSemaphore(2)


@dataclass(frozen=True)
class ScryptCost:
    n: int = 2**17
    r: int = 8
    p: int = 1

    @property
    def maxmem(self) -> int:
        # scrypt needs 128·r·N bytes for its table plus 128·r·p for the blocks; leave room.
        return 256 * self.r * (self.n + self.p) + 2**20


OWASP_COST = ScryptCost()


def _derive(password: str, salt: bytes, cost: ScryptCost) -> bytes:
    with _CONCURRENT:
        return hashlib.scrypt(
            password.encode(),
            salt=salt,
            n=cost.n,
            r=cost.r,
            p=cost.p,
            maxmem=cost.maxmem,
            dklen=32,
        )


def hash_password(password: str, cost: ScryptCost = OWASP_COST) -> str:
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, cost)
    b64 = base64.b64encode
    return f"{_PREFIX}${cost.n}${cost.r}${cost.p}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time comparison against a stored hash; a malformed hash never matches."""
    try:
        prefix, n, r, p, salt, digest = stored.split("$")
        if prefix != _PREFIX:
            return False
        cost = ScryptCost(int(n), int(r), int(p))
        expected = base64.b64decode(digest)
        actual = _derive(password, base64.b64decode(salt), cost)
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


async def hash_password_async(password: str, cost: ScryptCost = OWASP_COST) -> str:
    return await asyncio.to_thread(hash_password, password, cost)


async def verify_password_async(password: str, stored: str) -> bool:
    return await asyncio.to_thread(verify_password, password, stored)
