"""Rendering pages: one Jinja2 environment (autoescaped: names, texts and replies are
user input), the account's zone and formats as filters, flash messages, and the
headers every page carries.

A flash message is a short sentence of our own shown once on the next page (after a
redirect): it travels in a cookie the next page clears, so it needs no storage.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from fastapi import Request
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, RedirectResponse

from smscope import __version__
from smscope.output import credits_text, local_time
from smscope.reports.figures import FORMULAS
from smscope.web.auth import smscope_of

if TYPE_CHECKING:
    from smscope.reports.share import ShareResult

__all__ = ["redirect", "render"]

FLASH_COOKIE = "smscope_flash"
#: no framing (clickjacking), no sniffing, scripts and styles from this app only
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
#: a report's print page: its stylesheet and its charts are inline, and nothing else
PRINT_HEADERS = {
    **PAGE_HEADERS,
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src data:; frame-ancestors 'none'; form-action 'none'; "
                               "base-uri 'none'",
}


def addresses_of(raw: str) -> list[str]:
    """The addresses a share form names: separated by commas, semicolons or lines."""
    raw = raw[:5000]
    return [a for a in raw.replace(";", ",").replace("\n", ",").split(",") if a.strip()]


def shared_text(result: ShareResult) -> str:
    """The flash message after a share: where it went, the PDF kept, who refused it."""
    text = f"Report sent to {', '.join(result.sent_to)} (PDF saved as {result.pdf})."
    if result.refused:
        text += " Refused by the mail server: " + "; ".join(
            f"{a} ({why})" for a, why in result.refused.items())
    # the flash travels in a cookie: a long list of refusals is cut short
    return text[:1500]


def attachment(name: str) -> dict[str, str]:
    """The headers of a download named ``name``."""
    return {**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}

_env = Environment(loader=PackageLoader("smscope.web", "templates"),
                   autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True)
_env.globals.update(version=__version__, formulas=FORMULAS)
_env.filters["credits"] = lambda value: credits_text(Decimal(value))
_env.filters["percent"] = lambda value: f"{value:.1%}"
_env.filters["count"] = lambda value: f"{value:,}"


def _flashes(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        items = json.loads(unquote(raw))
        return [{"kind": str(i["kind"]), "text": str(i["text"])} for i in items][:5]
    except (ValueError, TypeError, KeyError):
        return []


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A page: ``template`` with ``context``, the signed-in user (``login``), the
    flashes waiting for this page, and the account's zone as the ``time`` filter."""
    zone = smscope_of(request).config.zone
    login = getattr(request.state, "login", None)
    flashes = _flashes(request)
    html = _env.get_template(template).render(
        request=request, login=login, flashes=flashes, zone=zone,
        time=lambda value: local_time(value, zone).replace("T", " "), **(context or {}))
    response = HTMLResponse(html, status_code, headers={**PAGE_HEADERS, **(headers or {})})
    if flashes:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, *, flash: tuple[str, str] | None = None) -> RedirectResponse:
    """A 303 (a POST answered by a GET of ``url``), with a flash message for it:
    ``("success" | "error", text)``."""
    response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
    if flash is not None:
        kind, text = flash
        response.set_cookie(FLASH_COOKIE, quote(json.dumps([{"kind": kind, "text": text}])),
                            max_age=60, httponly=True, samesite="lax", path="/")
    return response
