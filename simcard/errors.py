"""What can go wrong between the library and a card, as exceptions a caller can act on.

Every message says what happened in words an outlet clerk can relay; none carries a key, PIN
or ADM value (they are masked before they reach an exception).
"""

from __future__ import annotations

from collections.abc import Sequence


class CardLayerError(Exception):
    """Base of everything the card library raises about cards, readers and profiles."""


class ReaderError(CardLayerError):
    """No such reader, several readers match, or PC/SC itself is unavailable."""


class NoCardError(ReaderError):
    """The reader is there but holds no card (or none appeared in time)."""


class CardRemovedError(CardLayerError):
    """The card left the reader (or was reset by someone else) during a command."""


class StatusWordError(CardLayerError):
    """A command got a status word other than the one expected."""

    def __init__(self, what: str, sw: int, meaning: str = "") -> None:
        self.what = what
        self.sw = sw
        text = f"{what}: card answered {sw:04X}"
        super().__init__(f"{text} ({meaning})" if meaning else text)


class FileMissingError(StatusWordError):
    """SELECT answered 6A82: the card has no such file."""


class AdmRejectedError(CardLayerError):
    """The card refused the ADM code. Never retried: three wrong tries lock a card for good."""

    def __init__(self, tries_left: int | None) -> None:
        self.tries_left = tries_left
        if tries_left is None or tries_left == 0:
            msg = "ADM1 rejected: the card's ADM1 is blocked (0 tries left); it cannot be written"
        else:
            msg = (
                f"ADM1 rejected by the card: {tries_left} tries left. Not retried — check the "
                "ADM1 from the card vendor's file; three wrong tries lock the card for good"
            )
        super().__init__(msg)


class PinRejectedError(CardLayerError):
    """PIN1 refused (needed to read files when the card has PIN1 enabled)."""

    def __init__(self, tries_left: int) -> None:
        self.tries_left = tries_left
        super().__init__(f"PIN1 rejected by the card: {tries_left} tries left; not retried")


class UnknownCardError(CardLayerError):
    """No card model matches the ATR (name the model explicitly to write anyway)."""


class CardNotBlankError(CardLayerError):
    """A blank card was expected but the card already carries a subscriber."""


class HalfWrittenCardError(CardLayerError):
    """Writing stopped part-way: the card holds some of the profile and must not be issued."""

    def __init__(
        self, written: Sequence[str], not_written: Sequence[str], cause: Exception
    ) -> None:
        self.written = list(written)
        self.not_written = list(not_written)
        self.cause = cause
        super().__init__(
            f"card HALF-WRITTEN, do not issue it ({cause}). Written: "
            f"{', '.join(self.written) or 'nothing'}. Not written: "
            f"{', '.join(self.not_written) or 'nothing'}"
        )


class VerificationError(CardLayerError):
    """Read-back or AUTHENTICATE showed the card does not hold the profile."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("card does not match the profile: " + "; ".join(self.problems))


class AuthenticationRejectedError(CardLayerError):
    """The card refused a challenge's AUTN (MAC failure, 9862): the card's Ki/OPc differ from
    the ones that built the challenge."""


class WrongCardError(CardLayerError):
    """The card in the reader is not the one the profile is for (its ICCID differs)."""
