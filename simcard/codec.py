"""The shape every elementary-file codec shares, and the BCD digit packing most of them use.

A codec turns one abstract value (an IMSI string, a list of PLMNs…) into the bytes of a file or
record and back. Each codec class carries its own test vectors (`vectors`: hex as found on real
cards, paired with the decoded value), in the style of pySim, so one generic test can check them
all and a reader can see the encoding next to the code. Errors name the file (`field`), so a
profile value that does not fit says which file refused it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")

PAD = 0xFF


class CodecError(ValueError):
    """A value that cannot be encoded into (or bytes that cannot be decoded from) one file."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Codec(ABC, Generic[T]):
    """Encode/decode one file's (or record's) content.

    `size` is the encoded size when the standard fixes it; otherwise the caller passes the size
    the card reported in the file's FCP (file size, or record length) and the codec pads with
    `FF` — unused space on a UICC is `FF`, and writing a file whole avoids reading it first.
    """

    field: str
    size: ClassVar[int | None] = None
    vectors: ClassVar[tuple[tuple[str, Any], ...]] = ()

    def encode(self, value: T, size: int | None = None) -> bytes:
        """Bytes for `value`, padded with FF to `size` (or the fixed size of this file)."""
        target = size if size is not None else self.size
        raw = self._encode(value, target)
        if target is None:
            return raw
        if len(raw) > target:
            raise self.error(f"needs {len(raw)} bytes but the file holds {target}")
        return raw + bytes([PAD]) * (target - len(raw))

    def decode(self, data: bytes) -> T:
        """The value held in `data` (as read from the card)."""
        if self.size is not None and len(data) < self.size:
            raise self.error(f"expected {self.size} bytes, got {len(data)}")
        return self._decode(bytes(data))

    def error(self, message: str) -> CodecError:
        return CodecError(self.field, message)

    @abstractmethod
    def _encode(self, value: T, size: int | None) -> bytes:
        """Unpadded encoding; `size` is given for codecs whose layout depends on it."""

    @abstractmethod
    def _decode(self, data: bytes) -> T: ...


def is_blank(data: bytes) -> bool:
    """True when every byte is FF — the state of a file never written."""
    return all(b == PAD for b in data)


def swap_bcd(digits: str) -> bytes:
    """Digits packed two per byte, low nibble first, F-padded to a whole byte (TS 31.102 BCD).

    Accepts the hex nibbles a-f too: ICCIDs and dialling numbers use F as filler and some
    numbers carry `*`/`#` as A/B.
    """
    if len(digits) % 2:
        digits += "f"
    return bytes(int(digits[i + 1] + digits[i], 16) for i in range(0, len(digits), 2))


def unswap_bcd(data: bytes) -> str:
    """The inverse of `swap_bcd`, without stripping anything."""
    return "".join(f"{b & 0x0F:x}{b >> 4:x}" for b in data)


def check_digits(codec: Codec[Any], value: str, what: str, low: int, high: int) -> None:
    """Raise a field-naming error unless `value` is `low`..`high` decimal digits."""
    if not value.isascii() or not value.isdigit():
        raise codec.error(f"{what} must be decimal digits")
    if not low <= len(value) <= high:
        span = f"{low}" if low == high else f"{low}-{high}"
        raise codec.error(f"{what} must have {span} digits, got {len(value)}")
