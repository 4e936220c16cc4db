"""Server-side rendering: the Jinja2 environment, the filters clerks read, and the headers
every page carries.

Pages allow scripts, styles and connections from the gateway itself only (no CDN, nothing
inline), so the front end works on an outlet network with no internet and a stray value in a
template cannot become a script.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gateway.resources.channels import DEFAULT_ZONE
from gateway.resources.policy import mask_id
from gateway.web import csrf
from gateway.web.i18n import HTML_LANG, LANGUAGE_NAMES, LANGUAGES, Translator

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def money(cents: int | None) -> str:
    """¥38.00 (the outlet's currency; both languages write it so)."""
    return "—" if cents is None else f"¥{cents / 100:,.2f}"


def moment(at: float | datetime | None, zone: str = DEFAULT_ZONE) -> str:
    """A moment in the outlet's time zone, as its clerks read clocks."""
    if at is None:
        return "—"
    local = (
        at.astimezone(ZoneInfo(zone))
        if isinstance(at, datetime)
        else datetime.fromtimestamp(at, ZoneInfo(zone))
    )
    return f"{local:%Y-%m-%d %H:%M:%S}"


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.2f} s"
    return f"{value / 60:.1f} min"


def masked_document(number: str | None) -> str:
    """An ID number on a receipt or a screen others can see: 110105********002X."""
    return mask_id(number) if number else "—"


_ENV = Environment(
    loader=PackageLoader("gateway.web", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(money=money, moment=moment, seconds=seconds, masked=masked_document)


def render(name: str, t: Translator, **context: Any) -> str:
    return _ENV.get_template(name).render(
        t=t,
        lang=t.lang,
        html_lang=HTML_LANG[t.lang],
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        client_messages=json.dumps(t.client_messages(), ensure_ascii=False),  # an attribute
        csrf=csrf.current.get(),
        **context,
    )


def page(name: str, t: Translator, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A whole page, or a fragment the scripts swap into one."""
    return HTMLResponse(render(name, t, **context), status_code=status, headers=SECURITY_HEADERS)
