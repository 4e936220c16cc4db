"""Why a request about a resource was refused, in words a clerk can act on.

The API maps each kind to an HTTP status (`NotFound` 404, `Unavailable` 409, `Invalid` 422,
`NotAllowed` 403) and the CLI to an exit code; messages never contain a secret value.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

from gateway.validation import clerk_errors


class ResourceError(Exception):
    """A refused request; ``errors`` pairs a field (or ``line N``) with a message."""

    def __init__(self, message: str, *, field: str = "body") -> None:
        super().__init__(message)
        self.errors: list[dict[str, str]] = [{"field": field, "message": message}]

    @property
    def message(self) -> str:
        return "; ".join(e["message"] for e in self.errors)

    def __str__(self) -> str:
        return self.message


class NotFound(ResourceError):
    """No such number, card, customer, operator or channel."""


class Unavailable(ResourceError):
    """The resource exists but its state forbids the request (held by another clerk, sold …)."""


class NotAllowed(ResourceError):
    """The operator, channel, time of day or customer category forbids the request."""


class Throttled(ResourceError):
    """Sign-in is locked after too many wrong passwords; ``retry_after`` seconds remain."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Invalid(ResourceError):
    """Bad input; nothing was changed. May carry several problems (one per bad line)."""

    @property
    def message(self) -> str:
        return "; ".join(
            e["message"] if e["field"] == "body" else f"{e['field']}: {e['message']}"
            for e in self.errors
        )

    @classmethod
    def of(cls, problems: Sequence[tuple[str, str]]) -> Invalid:
        first_field, first_message = problems[0]
        error = cls(first_message, field=first_field)
        error.errors = [{"field": f, "message": m} for f, m in problems]
        return error

    @classmethod
    def from_validation(cls, exc: ValidationError, *, prefix: str = "") -> Invalid:
        """Pydantic's errors with field names a clerk reads (``prefix`` places them)."""
        return cls.of([(prefix + e["field"], e["message"]) for e in clerk_errors(exc.errors())])
