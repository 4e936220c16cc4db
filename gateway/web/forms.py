"""The counter's forms: which fields each shows, and how a filled form becomes an order.

A field's ``field`` is the name the gateway uses for it in an order (``customer.id_number``,
``forwarding.0.forward_to``), so a message the order validation gives for that name is
shown next to that very field. A form only ever supplies what the clerk typed; the channel,
the operator, the IMSI of a card from stock and the like are filled in by the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from gateway.operations import BarOutgoing, BarRoaming, ForwardingKind
from gateway.orders import IdType, SuspendReason, roaming_list
from gateway.web.i18n import Translator

Options = list[tuple[str, str]]


@dataclass(frozen=True)
class Field:
    field: str  # the order's name for it, where validation messages point
    name: str  # the form control's name
    label: str
    type: str = "text"
    options: Options | None = None
    value: str = ""
    hint: str = ""
    required: bool = False
    autocomplete: str = ""
    inputmode: str = ""
    form: str = ""  # on a page with several forms, keeps the element ids apart

    @property
    def id(self) -> str:
        return "-".join(filter(None, ("f", self.form, self.field.replace(".", "-"))))


@dataclass(frozen=True)
class OrderForm:
    name: str
    title: str
    submit: str
    fields: list[Field]
    intro: str = ""
    picker: bool = False  # shows the number picker (a new number to hold)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", [replace(f, form=self.name) for f in self.fields])


def _msisdn(t: Translator) -> Field:
    return Field(
        "msisdn",
        "msisdn",
        t("field.msisdn"),
        required=True,
        inputmode="numeric",
        hint=t("field.msisdn_hint"),
    )


def _options(t: Translator, prefix: str, values: list[str]) -> Options:
    return [(v, t(f"{prefix}.{v}")) for v in values]


def customer_fields(t: Translator) -> list[Field]:
    return [
        Field("customer.name", "name", t("field.name"), required=True, autocomplete="name"),
        Field(
            "customer.id_type",
            "id_type",
            t("field.id_type"),
            options=_options(t, "id_type", [i.value for i in IdType]),
            hint=t("field.id_type_hint"),
        ),
        Field(
            "customer.id_number",
            "id_number",
            t("field.id_number"),
            required=True,
            hint=t("field.id_number_hint"),
        ),
        Field(
            "customer.address",
            "address",
            t("field.address"),
            required=True,
            autocomplete="street-address",
        ),
        Field(
            "customer.contact",
            "contact",
            t("field.contact"),
            required=True,
            type="tel",
            autocomplete="tel",
            hint=t("field.contact_hint"),
        ),
        Field(
            "language",
            "language",
            t("field.notice_language"),
            options=_options(t, "notice_language", ["zh", "en"]),
        ),
    ]


def swap_fields(t: Translator) -> list[Field]:
    return [
        _msisdn(t),
        Field(
            "reason",
            "reason",
            t("field.swap_reason"),
            options=_options(t, "swap_reason", ["replace", "lost", "damaged", "upgrade"]),
        ),
    ]


def query_fields(t: Translator) -> list[Field]:
    return [
        _msisdn(t),
        Field(
            "service_password",
            "service_password",
            t("field.service_password"),
            type="password",
            autocomplete="off",
            hint=t("field.service_password_hint"),
        ),
        Field(
            "id_type",
            "id_type",
            t("field.id_type"),
            options=_options(t, "id_type", [i.value for i in IdType]),
        ),
        Field("id_number", "id_number", t("field.owner_id"), hint=t("field.owner_id_hint")),
    ]


def after_sales_forms(t: Translator) -> list[OrderForm]:
    reasons = _options(t, "reason", [r.value for r in SuspendReason])
    return [
        OrderForm(
            "suspend_resume",
            t("after.suspend_resume"),
            t("after.submit"),
            [
                _msisdn(t),
                Field(
                    "kind",
                    "action",
                    t("field.action"),
                    type="radio",
                    value="suspend",
                    options=[("suspend", t("kind.suspend")), ("resume", t("kind.resume"))],
                ),
                Field("reason", "reason", t("field.reason"), options=reasons),
            ],
        ),
        OrderForm(
            "roaming",
            t("after.roaming"),
            t("after.submit"),
            [
                _msisdn(t),
                Field(
                    "roaming_barring",
                    "roaming_barring",
                    t("field.roaming"),
                    options=_options(t, "roaming", [b.value for b in BarRoaming]),
                ),
            ],
        ),
        OrderForm(
            "international",
            t("after.international"),
            t("after.submit"),
            [
                _msisdn(t),
                Field(
                    "outgoing_barring",
                    "outgoing_barring",
                    t("field.outgoing"),
                    options=_options(t, "outgoing", [b.value for b in BarOutgoing]),
                ),
            ],
        ),
        OrderForm(
            "forwarding",
            t("after.forwarding"),
            t("after.submit"),
            [
                _msisdn(t),
                Field(
                    "forwarding.0.kind",
                    "forwarding_kind",
                    t("field.forwarding_kind"),
                    options=_options(t, "forwarding", [f.value for f in ForwardingKind]),
                ),
                Field(
                    "forwarding.0.forward_to",
                    "forward_to",
                    t("field.forward_to"),
                    type="tel",
                    hint=t("field.forward_to_hint"),
                ),
            ],
        ),
        OrderForm(
            "data",
            t("after.data"),
            t("after.submit"),
            [
                _msisdn(t),
                Field(
                    "data",
                    "data",
                    t("field.data"),
                    type="radio",
                    value="on",
                    options=[("on", t("after.on")), ("off", t("after.off"))],
                ),
            ],
        ),
        OrderForm(
            "change_number",
            t("after.change_number"),
            t("after.submit"),
            [
                _msisdn(t),
                Field(
                    "new_msisdn",
                    "new_msisdn",
                    t("field.new_msisdn"),
                    required=True,
                    inputmode="numeric",
                    hint=t("field.new_msisdn_hint"),
                ),
            ],
            picker=True,
        ),
        OrderForm(
            "ota_update",
            t("after.ota_update"),
            t("after.submit"),
            [
                _msisdn(t),
                Field("spn", "spn", t("field.spn"), hint=t("field.spn_hint")),
                Field(
                    "roaming_networks",
                    "roaming_networks",
                    t("field.roaming_networks"),
                    hint=t("field.roaming_networks_hint"),
                ),
                Field(
                    "sms_centre",
                    "sms_centre",
                    t("field.sms_centre"),
                    type="tel",
                    hint=t("field.sms_centre_hint"),
                ),
            ],
            intro=t("after.ota_intro"),
        ),
        OrderForm(
            "stk_activate",
            t("after.stk_activate"),
            t("after.submit"),
            [_msisdn(t)],
            intro=t("after.stk_intro"),
        ),
        OrderForm(
            "cancel",
            t("after.cancel"),
            t("after.submit"),
            [
                _msisdn(t),
                Field(
                    "kind",
                    "action",
                    t("field.action"),
                    type="radio",
                    value="pre_cancel",
                    options=[("pre_cancel", t("kind.pre_cancel")), ("cancel", t("kind.cancel"))],
                ),
                Field("owner_present", "owner_present", t("field.owner_present"), type="checkbox"),
            ],
            intro=t("after.cancel_intro"),
        ),
    ]


class FormProblem(Exception):
    """The form itself is wrong (not the order it makes): a field name and a message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    """Only what was typed: an empty field stays absent, so the order says it is required."""
    if value is not None:
        body[key] = value


def _choice(data: Mapping[str, Any], key: str, allowed: tuple[str, ...], t: Translator) -> str:
    chosen = _text(data, key) or allowed[0]
    if chosen not in allowed:
        raise FormProblem("kind" if key == "action" else key, t("form.unknown_action"))
    return chosen


def order_body(form: str, data: Mapping[str, Any], t: Translator) -> dict[str, Any]:
    """The order a filled form asks for, before the server adds channel, operator and ids."""
    body: dict[str, Any] = {}
    _put(body, "msisdn", _text(data, "msisdn"))
    match form:
        case "open_account":
            body["kind"] = "open_account"
            customer: dict[str, Any] = {}
            for key in ("name", "id_type", "id_number", "address", "contact"):
                _put(customer, key, _text(data, key))
            body["customer"] = customer
            _put(body, "product", _text(data, "product"))
            _put(body, "language", _text(data, "language"))
        case "sim_swap":
            body["kind"] = "sim_swap"
            _put(body, "reason", _text(data, "reason"))
        case "suspend_resume":
            body["kind"] = _choice(data, "action", ("suspend", "resume"), t)
            _put(body, "reason", _text(data, "reason"))
        case "roaming":
            body["kind"] = "change_roaming"
            _put(body, "roaming_barring", _text(data, "roaming_barring"))
        case "international":
            body["kind"] = "change_long_distance"
            _put(body, "outgoing_barring", _text(data, "outgoing_barring"))
        case "forwarding":
            body["kind"] = "change_supplementary"
            body["forwarding"] = [
                {"kind": _text(data, "forwarding_kind"), "forward_to": _text(data, "forward_to")}
            ]
        case "data":
            body["kind"] = "change_value_added"
            body["data"] = _choice(data, "data", ("on", "off"), t) == "on"
        case "change_number":
            body["kind"] = "change_number"
            _put(body, "new_msisdn", _text(data, "new_msisdn"))
        case "cancel":
            body["kind"] = _choice(data, "action", ("pre_cancel", "cancel"), t)
            if _text(data, "owner_present") != "yes":
                raise FormProblem("owner_present", t("form.owner_present"))
        case "ota_update":
            body["kind"] = "ota_update"
            _put(body, "spn", _text(data, "spn"))
            _put(body, "sms_centre", _text(data, "sms_centre"))
            roaming = _text(data, "roaming_networks")
            if roaming is not None:
                try:
                    body["roaming_networks"] = roaming_list(roaming)
                except ValueError:
                    raise FormProblem("roaming_networks", t("form.roaming_networks")) from None
        case "stk_activate":
            body["kind"] = "stk_activate"
        case "query":
            body["kind"] = "query"
        case _:
            raise FormProblem("form", t("form.unknown"))
    return body
