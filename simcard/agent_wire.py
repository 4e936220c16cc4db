"""What crosses the wire between a gateway and a card agent: jobs, results and error codes.

Both ends import this one module, so that a card failure on the clerk's PC comes back to the
gateway as the same `simcard.errors` class with the same clerk-readable message (and the same
attributes, such as ADM1 tries left) as if the reader sat on the gateway's machine: the
station's mapping of failures to retry-or-not is then the same for local and remote readers.

A job is a JSON object ``{"id", "kind", "card_wait_s", ...}``:

- ``write``: ``profile`` — the card profile with its secrets (Ki, OPc, ADM1) in clear. They
  cross the wire in this body only; production needs TLS between agent and gateway.
- ``challenge``: ``rand``, ``autn`` (hex) → ``res`` or ``auts`` (hex). CK/IK stay on the
  clerk's PC: the gateway's proof needs only RES.
- ``imsi``: → ``imsi`` (null for a blank card); how the gateway reconciles a write whose
  outcome it does not know.

A result is ``{"ok": true, ...}`` or ``{"ok": false, "error": {"code", "message", ...}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simcard.errors import (
    AdmRejectedError,
    AuthenticationRejectedError,
    CardLayerError,
    CardNotBlankError,
    CardRemovedError,
    FileMissingError,
    HalfWrittenCardError,
    NoCardError,
    PinRejectedError,
    ReaderError,
    StatusWordError,
    UnknownCardError,
    VerificationError,
    WrongCardError,
)
from simcard.profile import CardProfile, ProfileError
from simcard.verifier import AuthResult, Proof
from simcard.writer import CardReport

JOB_KINDS = ("write", "challenge", "imsi")
_SECRET_FIELDS = ("ki", "opc", "op", "pin1", "puk1", "pin2", "puk2", "adm1")

# Error code, class, and the attributes that travel with the message. Subclasses come before
# their bases: the first class an exception is an instance of names its code.
_ERRORS: tuple[tuple[str, type[CardLayerError], tuple[str, ...]], ...] = (
    ("half-written", HalfWrittenCardError, ("written", "not_written")),
    ("adm-rejected", AdmRejectedError, ("tries_left",)),
    ("pin-rejected", PinRejectedError, ("tries_left",)),
    ("no-card", NoCardError, ()),
    ("no-reader", ReaderError, ()),
    ("card-removed", CardRemovedError, ()),
    ("file-missing", FileMissingError, ("what", "sw")),
    ("status-word", StatusWordError, ("what", "sw")),
    ("mac-failure", AuthenticationRejectedError, ()),
    ("not-blank", CardNotBlankError, ()),
    ("wrong-card", WrongCardError, ()),
    ("unknown-card", UnknownCardError, ()),
    ("verification", VerificationError, ("problems",)),
    ("profile", ProfileError, ()),
    ("card", CardLayerError, ()),
)
_BY_CODE = {code: (cls, attrs) for code, cls, attrs in _ERRORS}


class WireError(ValueError):
    """A job or result that does not have the shape this module describes."""


# -- errors ------------------------------------------------------------------------------------


def error_result(exc: Exception) -> dict[str, Any]:
    """A failed result for ``exc``. Exceptions outside the card layer (a bad job) get the
    generic ``card`` code: the gateway reads them as a card failure it cannot retry."""
    code, attrs = next(
        ((code, attrs) for code, cls, attrs in _ERRORS if isinstance(exc, cls)), ("card", ())
    )
    error: dict[str, Any] = {"code": code, "message": str(exc)}
    error |= {name: getattr(exc, name) for name in attrs}
    return {"ok": False, "error": error}


def error_from(error: Mapping[str, Any]) -> CardLayerError:
    """The exception a failed result stands for: same class, message and attributes.

    Built without the class's own constructor, which would compose the message again from
    parts the wire does not carry (the cause of a half-written card, say); the message is
    the one the agent's card layer wrote. An unknown code reads as a generic card failure.
    """
    message = error.get("message")
    if not isinstance(message, str):
        raise WireError("error.message: expected a string")
    cls, attrs = _BY_CODE.get(str(error.get("code")), (CardLayerError, ()))
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    for name in attrs:
        setattr(exc, name, error.get(name))
    if isinstance(exc, HalfWrittenCardError):
        exc.cause = CardLayerError(message)
    return exc


def check_result(result: Mapping[str, Any]) -> Mapping[str, Any]:
    """``result`` when it reports success; raises the card error it carries otherwise."""
    if result.get("ok") is True:
        return result
    if result.get("ok") is False and isinstance(result.get("error"), Mapping):
        raise error_from(result["error"])
    raise WireError("ok: expected true, or false with an error object")


# -- payloads ----------------------------------------------------------------------------------


def profile_to_wire(profile: CardProfile) -> dict[str, Any]:
    """The profile as JSON with its secrets in clear (for a job body, nothing else)."""
    data = profile.model_dump(mode="json")
    for name in _SECRET_FIELDS:
        value = getattr(profile, name)
        if value is not None:
            data[name] = value.get_secret_value()
    data["ust"] = sorted(profile.ust)
    return data


def profile_from_wire(data: Any) -> CardProfile:
    if not isinstance(data, Mapping):
        raise WireError("profile: expected an object of profile fields")
    return CardProfile.create(data)


def report_to_wire(report: CardReport) -> dict[str, Any]:
    proof = report.proof
    return {
        "model": report.model,
        "iccid": report.iccid,
        "iccid_written": report.iccid_written,
        "imsi": report.imsi,
        "written": list(report.written),
        "skipped": list(report.skipped),
        "proof": None
        if proof is None
        else {"sqn": proof.sqn, "resynchronised": proof.resynchronised, "contexts": proof.contexts},
        "apdus": report.apdus,
        "elapsed_ms": report.elapsed_ms,
    }


def report_from_wire(data: Mapping[str, Any]) -> CardReport:
    try:
        proof = data["proof"]
        return CardReport(
            model=str(data["model"]),
            iccid=str(data["iccid"]),
            imsi=str(data["imsi"]),
            written=tuple(str(f) for f in data["written"]),
            skipped=tuple(str(f) for f in data["skipped"]),
            proof=None
            if proof is None
            else Proof(
                sqn=int(proof["sqn"]),
                resynchronised=bool(proof["resynchronised"]),
                contexts=tuple(str(c) for c in proof["contexts"]),
            ),
            apdus=int(data["apdus"]),
            elapsed_ms=float(data["elapsed_ms"]),
            iccid_written=bool(data.get("iccid_written", True)),  # agents before it existed
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise WireError(f"write result: {exc!r} in the card report") from None


def auth_to_wire(result: AuthResult) -> dict[str, Any]:
    """RES, or AUTS on a sync failure; CK/IK/Kc are not sent (the gateway does not need them)."""
    if result.auts is not None:
        return {"res": None, "auts": result.auts.hex()}
    return {"res": result.res.hex(), "auts": None}


def auth_from_wire(data: Mapping[str, Any]) -> AuthResult:
    res, auts = data.get("res"), data.get("auts")
    try:
        if isinstance(auts, str):
            return AuthResult(auts=bytes.fromhex(auts))
        if isinstance(res, str):
            return AuthResult(res=bytes.fromhex(res))
    except ValueError:
        raise WireError("challenge result: res/auts must be hex") from None
    raise WireError("challenge result: expected res or auts")


def imsi_from_wire(data: Mapping[str, Any]) -> str | None:
    imsi = data.get("imsi")
    if imsi is None or (isinstance(imsi, str) and imsi.isdigit()):
        return imsi
    raise WireError("imsi result: expected digits or null")


def hex_field(job: Mapping[str, Any], name: str) -> bytes:
    value = job.get(name)
    try:
        if isinstance(value, str):
            return bytes.fromhex(value)
    except ValueError:
        pass
    raise WireError(f"{name}: expected hex digits")
