"""GSM A3/A8 for 2G-only cards: COMP128v1, from the `comp128` package (a port of libosmocore's).

A USIM running Milenage answers a GSM-context challenge with c2/c3 of its 3G results (see
`simcard.milenage`); a SIM configured for COMP128v1 computes SRES/Kc directly from Ki and RAND.
"""

from __future__ import annotations

from comp128.comp128v1 import Comp128v1


def comp128v1(ki: bytes, rand: bytes) -> tuple[bytes, bytes]:
    """(SRES 4 bytes, Kc 8 bytes) for a 16-byte Ki and RAND."""
    if len(ki) != 16:
        raise ValueError(f"Ki must be 16 bytes, got {len(ki)}")
    if len(rand) != 16:
        raise ValueError(f"RAND must be 16 bytes, got {len(rand)}")
    sres, kc = Comp128v1().comp128v1(bytearray(ki), bytearray(rand))
    return bytes(sres), bytes(kc)
