"""The SMS centre as a `NetworkElement`: SMS barring over its admin API, notifications over SMPP.

Two operations of `gateway.operations` reach an SMSC (the SMS *service*, `SetSmsService`, is
the HLR's: see its docstring for why barring here does not replace it):

* ``SetSmsBarring(msisdn, barred)`` — bar or unbar SMS to a number: ``PUT`` or ``DELETE
  /barring/{msisdn}`` on the SMSC's provisioning interface (HTTP JSON, Basic authentication;
  docs/smsc.md). Both are idempotent, so a compensation is the same operation with the flag
  flipped, and an unknown outcome is settled by reading the flag back (``GET``).
* ``SendSms(msisdn, text, sender, reference)`` — a notification: `SmppClient.submit`. Its
  reply carries the SMSC's message ids (``fields["message_ids"]``) for matching receipts.

``read`` answers with a `SubscriberView` in which every number "exists" (for an SMSC), and
``sms_barred`` is the only thing it holds about one.

Both paths mark transport failures alike (`adapters.transport_failures`): an admin API that
cannot be reached or does not answer, and a submit stopped by a lost or missing bind, give
replies with ``unreachable`` set; an HTTP error status or an SMPP refusal is the SMSC's word.
"""

from __future__ import annotations

import json
import time

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from adapters.network_element import NotSupported
from adapters.smpp import sms_text
from adapters.smpp.client import SmppClient, concatenation_reference
from adapters.transport_failures import (
    Garbled,
    LostAfterSending,
    NeUnavailable,
    NoAnswer,
    NotSent,
    TransportFailure,
    failure_reply,
)
from gateway.operations import (
    Lookup,
    Operation,
    Outcome,
    Reply,
    SendSms,
    SetSmsBarring,
    SetSmsService,
    SubscriberView,
)

PROBE_MSISDN = "8613000000000"
"""A number outside any block an operator sells: what the breaker's probe asks about."""


class SmscAdminSettings(BaseModel):
    """How to reach the SMSC's provisioning interface."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    name: str = Field("smsc", description="the SMSC's name in plans and transcripts")
    host: str = "127.0.0.1"
    port: int = Field(8775, ge=1, le=65535)
    https: bool = False
    username: str = Field(min_length=1)
    password: SecretStr
    request_timeout: float = Field(5.0, gt=0)


class Smsc:
    """`NetworkElement` for an SMSC; ``sms`` is needed only for ``SendSms``."""

    dialect = "smsc-http-smpp"

    def __init__(self, settings: SmscAdminSettings, sms: SmppClient | None = None) -> None:
        self.settings = settings
        self.name = settings.name
        self._sms = sms
        scheme = "https" if settings.https else "http"
        self._http = httpx.AsyncClient(
            base_url=f"{scheme}://{settings.host}:{settings.port}",
            auth=(settings.username, settings.password.get_secret_value()),
            timeout=settings.request_timeout,
        )

    def render(self, op: Operation) -> str:
        if isinstance(op, SetSmsBarring):
            return f"{'PUT' if op.barred else 'DELETE'} /barring/{op.msisdn}"
        if isinstance(op, SendSms):
            encoded = sms_text.encode(op.text, concatenation_reference(op.reference))
            coding = encoded.data_coding.name.replace("GSM7", "GSM 7-bit").replace("UCS2", "UCS-2")
            return (
                f"submit_sm to {op.msisdn} from {op.sender}, {encoded.segments} part(s) "
                f"{coding}, reference {op.reference}: {op.text}"
            )
        if isinstance(op, SetSmsService):
            raise NotSupported(
                f"{self.name}: the SMS service (the SMS-MO/MT teleservices) is the subscriber's "
                "subscription in the HLR/HSS; an SMS centre can only bar a number"
            )
        raise NotSupported(f"{self.name}: an SMSC does not carry out {type(op).__name__}")

    def check(self, op: Operation) -> None:
        self.render(op)

    async def execute(self, op: Operation) -> Reply:
        command = self.render(op)
        if isinstance(op, SetSmsBarring):
            method = "PUT" if op.barred else "DELETE"
            return await self._request(method, f"/barring/{op.msisdn}", command)
        assert isinstance(op, SendSms)
        if self._sms is None:
            raise NotSupported(f"{self.name}: no SMPP bind configured for notifications")
        result = await self._sms.submit(
            op.msisdn, op.text, sender=op.sender, reference=op.reference
        )
        return Reply(
            outcome=result.outcome,
            code=result.code,
            text=result.text,
            fields={
                "message_ids": ",".join(result.message_ids),
                "segments": str(result.segments),
                "data_coding": str(result.data_coding),
            },
            command=command,
            response=f"{result.code} {' '.join(result.message_ids)}".strip(),
            elapsed_ms=result.elapsed_ms,
            unreachable=result.unreachable,
        )

    async def read(self, lookup: Lookup) -> SubscriberView:
        if lookup.msisdn is None:
            raise NotSupported(f"{self.name}: an SMSC knows numbers, not IMSIs")
        reply = await self._request("GET", f"/barring/{lookup.msisdn}", "")
        if not reply.ok:
            raise NeUnavailable(f"{self.name}: barring not readable: {reply.code} {reply.text}")
        return SubscriberView(
            exists=True, msisdn=lookup.msisdn, sms_barred=reply.fields.get("barred") == "true"
        )

    async def probe(self) -> None:
        """The admin API's barring of a number no operator assigns: any HTTP answer will do."""
        reply = await self._request("GET", f"/barring/{PROBE_MSISDN}", "")
        if reply.unreachable:
            raise NeUnavailable(f"{self.name}: {reply.code}: {reply.text}")

    async def close(self) -> None:
        """Close the HTTP client; the SMPP client belongs to whoever made it."""
        await self._http.aclose()

    async def _request(self, method: str, path: str, command: str) -> Reply:
        """One admin API call as a `Reply`; what a failure means decides its outcome."""
        command = command or f"{method} {path}"
        started = time.perf_counter()
        try:
            response = await self._http.request(method, path)
        except httpx.HTTPError as exc:
            failure = _failure(exc)
            text = f"not sent: {failure}" if isinstance(failure, NotSent) else str(failure)
            return failure_reply(
                failure,
                command=command,
                text=text,
                # Sent, and then no answer: the change may or may not have been made.
                may_have_run=not isinstance(failure, NotSent),
                elapsed_ms=(time.perf_counter() - started) * 1000.0,
            )
        text = response.text
        try:
            payload = json.loads(text)
        except json.JSONDecodeError:
            payload = {}
        fields = {k: _text(v) for k, v in payload.items()} if isinstance(payload, dict) else {}
        status = response.status_code
        if status == 200:
            outcome = Outcome.OK
        elif status in (408, 429) or status >= 500:
            outcome = Outcome.TRANSIENT
        else:
            outcome = Outcome.PERMANENT
        return Reply(
            outcome=outcome,
            code=str(status),
            text=fields.get("error", ""),
            fields=fields,
            command=command,
            response=text,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
        )


def _failure(exc: httpx.HTTPError) -> TransportFailure:
    """What an httpx error says happened to the request."""
    why = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return NotSent(why)
    if isinstance(exc, httpx.TimeoutException):
        return NoAnswer(why)
    if isinstance(exc, httpx.DecodingError):
        return Garbled(why)
    return LostAfterSending(why)


def _text(value: object) -> str:
    """A JSON value as a `Reply` field: strings as they are, the rest as JSON (``true``)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
