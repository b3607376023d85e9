"""``/settings``: sending windows per country, suspension thresholds, STOP keywords,
the price table, SMTP, validity, retry back-off and the anti-duplicate window — each
value shown with where it comes from (smscope's default, the configuration file, this
page, or an ``SMSCOPE_*`` variable, which wins over everything). Admins change them
here: :mod:`smscope.settings` checks them like the configuration file's and stores
them over it; the app reads them at once, workers when they start."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from smscope import settings as layered
from smscope.config import BUILTIN_WINDOWS, WEEKDAYS, Config
from smscope.errors import ConfigError, SmscopeError
from smscope.output import credits_text
from smscope.pricing import load_price_table, remove_price, set_price
from smscope.web.auth import Login, signed_in, smscope_of
from smscope.web.pages._forms import admin_only, form_of, nul_error, nul_errors
from smscope.web.pages._render import redirect, render

__all__ = ["router"]

router = APIRouter()

#: what each editable key is called on the page, and a hint
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "smtp": {"host": ("Server", "empty: reports cannot be shared by e-mail"),
             "port": ("Port", "empty: 25, 587 with STARTTLS, 465 with TLS"),
             "user": ("User", "empty: no login"),
             "password": ("Password", "never shown; empty keeps it"),
             "tls": ("Encryption", "none, starttls or tls"),
             "from": ("Sender address", "")},
    "suspension": {"soft_bounce": ("Soft-bounce rate", "0.10 = 10 %"),
                   "hard_bounce": ("Hard-bounce rate", "0.05 = 5 %"),
                   "unsubscribe": ("Unsubscribe rate", "0.02 = 2 %"),
                   "min_sample": ("Minimum sample", "messages with an outcome before "
                                                   "any check")},
    "stop": {"keywords": ("STOP keywords", "comma-separated; case and accents ignored")},
    "validity": {"default": ("Validity", "e.g. 72h, 3d; messages expire after it")},
    "retry": {"backoff": ("Retry back-off", "one delay per further attempt, e.g. 2h, "
                                            "12h, 36h")},
    "duplicates": {"window": ("Anti-duplicate window", "the same text to the same "
                                                        "number within it is blocked")},
}
#: the order of the page's sections (the price table comes before the STOP keywords)
ORDER = ("suspension", "stop", "smtp", "validity", "retry", "duplicates")
TITLES = {"smtp": "E-mail (SMTP)", "suspension": "Auto-suspension thresholds",
          "stop": "STOP keywords", "validity": "Validity period",
          "retry": "Retries of temporary errors", "duplicates": "Anti-duplicate filter"}


def duration_text(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def shown(config: Config, section: str, key: str) -> str:
    """A value as the form shows it (and reads it back)."""
    if section == "smtp":
        value: Any = getattr(config.smtp, "from_" if key == "from" else key)
        if key == "password":
            return ""
        if key == "port":
            return str(value) if value else ""
        return value or ""
    value = getattr(getattr(config, section), key)
    if isinstance(value, timedelta):
        return duration_text(value)
    if isinstance(value, list):
        return ", ".join(duration_text(v) if isinstance(v, timedelta) else str(v)
                         for v in value)
    return str(value)


def _env_name(section: str, key: str) -> str:
    return f"SMSCOPE_{section.upper()}_{key.upper()}"


def _context(request: Request, errors: dict[str, str], values: dict[str, str]
             ) -> dict[str, Any]:
    smscope = smscope_of(request)
    config = smscope.config
    with smscope.db.session() as session:
        edited = layered.edited_settings(session)
        prices = load_price_table(session, smscope.base_config.prices,
                                  over=smscope.layers.env.get("prices"))
        stored = {p.upper() for p in _stored_prices(session)}
    layers = smscope.layers
    sections = []
    for section in ORDER:
        keys = layered.EDITABLE[section]
        rows = []
        for key in keys:
            origin = layered.origin(layers, edited, section, key)
            rows.append({"key": key, "label": LABELS[section][key][0],
                         "hint": LABELS[section][key][1], "origin": origin,
                         "value": values.get(f"{section}.{key}", shown(config, section, key)),
                         "env": _env_name(section, key) if origin == "environment" else "",
                         "error": errors.get(f"{section}.{key}", ""),
                         "set": key == "password" and bool(config.smtp.password)})
        sections.append({"id": section, "title": TITLES[section], "rows": rows,
                         "edited": bool(edited.get(section)),
                         "error": errors.get(section, "")})
    countries = sorted({*BUILTIN_WINDOWS, *config.windows})
    windows = [{"country": cc, "window": config.window_for(cc),
                "origin": layered.window_origin(layers, edited, cc)} for cc in countries]
    env_prices = {k.upper() for k in (layers.env.get("prices") or {})}
    file_prices = {k.upper() for k in (layers.file.get("prices") or {})}

    def price_origin(code: str) -> str:
        key = code.upper()
        return ("environment" if key in env_prices else "smscope" if key in stored
                else "file" if key in file_prices else "default")

    price_rows = [{"country": "default", "price": prices.default,
                   "origin": price_origin("default")}]
    price_rows += [{"country": cc, "price": p, "origin": price_origin(cc)}
                   for cc, p in sorted(prices.by_country.items())]
    return {"sections": sections, "windows": windows, "weekdays": WEEKDAYS,
            "prices": price_rows, "errors": errors, "values": values,
            "source": smscope.layers.path}


def _stored_prices(session: Any) -> list[str]:
    from sqlalchemy import select

    from smscope.db.tables import Price

    return list(session.scalars(select(Price.country)))


def _page(request: Request, *, errors: dict[str, str] | None = None,
          values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "settings.html", _context(request, errors or {}, values or {}),
                  status_code=status_code)


@router.get("/settings", include_in_schema=False)
def settings_page(request: Request, login: Login = Depends(signed_in)) -> Response:
    return _page(request)


def _saved(request: Request, text: str, anchor: str) -> Response:
    smscope_of(request).reload_settings()
    return redirect(f"/settings#{anchor}", flash=("success", text))


@router.post("/settings/section/{section}", include_in_schema=False)
async def save_section(request: Request, section: str,
                       login: Login = Depends(admin_only)) -> Response:
    if section not in layered.EDITABLE:
        from smscope.errors import NotFoundError

        raise NotFoundError(f"there is no settings section {section!r}")
    form = await form_of(request)
    smscope = smscope_of(request)
    refused = nul_errors({k: v for k, v in form.items() if k != "csrf_token"},
                         [f"{section}.{key}" for key in layered.EDITABLE[section]])
    if refused:
        values = {k: v for k, v in form.items() if k.startswith(section + ".")}
        return _page(request, errors=refused, values=values, status_code=422)
    current = smscope.config
    changes: dict[str, Any] = {}
    for key in layered.EDITABLE[section]:
        name = f"{section}.{key}"
        if key == "password" and form.get("smtp.password_clear"):
            changes[key] = None
            continue
        if name not in form:
            continue  # set by the environment: not in the form
        value = form[name].strip()
        if key == "password":
            if value:
                changes[key] = form[name]  # as typed: spaces may belong to it
            continue
        if value == shown(current, section, key):
            continue  # unchanged: left where it comes from
        changes[key] = value or None
    try:
        with smscope.db.transaction() as session:
            layered.save_section(session, smscope.layers, section, changes,
                                 actor=login.email)
    except ConfigError as exc:
        key = exc.loc[-1] if exc.loc else ""
        place = f"{section}.{key}" if key in layered.EDITABLE[section] else section
        values = {k: v for k, v in form.items() if k.startswith(section + ".")}
        return _page(request, errors={place: str(exc)}, values=values, status_code=422)
    return _saved(request, f"{TITLES[section]}: saved.", section)


@router.post("/settings/section/{section}/reset", include_in_schema=False)
def reset_section(request: Request, section: str,
                  login: Login = Depends(admin_only)) -> Response:
    if section not in layered.EDITABLE:
        from smscope.errors import NotFoundError

        raise NotFoundError(f"there is no settings section {section!r}")
    smscope = smscope_of(request)
    with smscope.db.transaction() as session:
        keys = layered.edited_settings(session).get(section, {})
        layered.save_section(session, smscope.layers, section, dict.fromkeys(keys),
                             actor=login.email)
    return _saved(request, f"{TITLES[section]}: back to the configuration file's values.",
                  section)


@router.post("/settings/windows", include_in_schema=False)
async def save_window(request: Request, login: Login = Depends(admin_only)) -> Response:
    form = await form_of(request)
    smscope = smscope_of(request)
    refused = nul_errors({k: v for k, v in form.items() if k != "csrf_token"},
                         ["country", "start", "end"])
    if refused:
        return _page(request, errors={f"window.{k}": v for k, v in refused.items()},
                     values={f"window.{k}": v for k, v in form.items()}, status_code=422)
    country = form.get("country", "").strip().upper()
    days = [d for d in WEEKDAYS if form.get(f"day_{d}")]
    values = {"days": days, "start": form.get("start", "").strip() or "00:00",
              "end": form.get("end", "").strip() or "23:59:59",
              "holidays": bool(form.get("holidays"))}
    try:
        if not days:
            raise ConfigError("tick at least one day (a window that never opens would hold "
                              "every marketing message)", loc=("windows", "days"))
        with smscope.db.transaction() as session:
            layered.save_window(session, smscope.layers, country, values, actor=login.email)
    except ConfigError as exc:
        key = exc.loc[-1] if exc.loc else "country"
        field = key if key in ("country", "days", "start", "end") else "country"
        shown_values = {f"window.{k}": v for k, v in form.items()}
        return _page(request, errors={f"window.{field}": str(exc)}, values=shown_values,
                     status_code=422)
    return _saved(request, f"The sending window of {country} is saved.", "windows-title")


@router.post("/settings/windows/{country}/remove", include_in_schema=False)
def remove_window(request: Request, country: str,
                  login: Login = Depends(admin_only)) -> Response:
    smscope = smscope_of(request)
    try:
        with smscope.db.transaction() as session:
            layered.save_window(session, smscope.layers, country, None, actor=login.email)
    except ConfigError as exc:
        return redirect("/settings#windows-title", flash=("error", str(exc)))
    return _saved(request, f"The sending window of {country.upper()} set here is removed.",
                  "windows-title")


@router.post("/settings/prices", include_in_schema=False)
def save_price(request: Request, country: str = Form(""), price: str = Form(""),
               login: Login = Depends(admin_only)) -> Response:
    smscope = smscope_of(request)
    refused = nul_errors({"country": country, "price": price}, ["country", "price"])
    if refused:
        return _page(request, errors={f"price.{k}": v for k, v in refused.items()},
                     values={"price.country": country, "price.price": price},
                     status_code=422)
    try:
        with smscope.db.transaction() as session:
            amount: Decimal = set_price(session, country or "?", price.strip() or "?")
    except SmscopeError as exc:
        field = "price" if "country" not in str(exc) else "country"
        return _page(request, errors={f"price.{field}": str(exc)},
                     values={"price.country": country, "price.price": price},
                     status_code=422)
    code = "default" if country.strip().lower() == "default" else country.strip().upper()
    return _saved(request, f"{code}: {credits_text(amount)} credits per segment.",
                  "prices-title")


@router.post("/settings/prices/{country}/remove", include_in_schema=False)
def delete_price(request: Request, country: str,
                 login: Login = Depends(admin_only)) -> Response:
    smscope = smscope_of(request)
    try:
        with smscope.db.transaction() as session:
            remove_price(session, country)
    except SmscopeError as exc:
        return redirect("/settings#prices-title", flash=("error", str(exc)))
    return _saved(request, f"The price of {country.upper()} set here is removed.",
                  "prices-title")


@router.post("/settings/smtp/test", include_in_schema=False)
def test_email(request: Request, to: str = Form(""),
               login: Login = Depends(admin_only)) -> Response:
    from smscope.reports.share import send_test_email

    refused = nul_error({"to": to}, {"to": "The test e-mail's address"})
    if refused:
        return redirect("/settings#smtp", flash=("error", f"The test e-mail was not sent: "
                                                          f"{refused}"))
    try:
        address = send_test_email(smscope_of(request).config, to or login.email)
    except SmscopeError as exc:
        return redirect("/settings#smtp", flash=("error", f"The test e-mail was not sent: "
                                                          f"{exc}"))
    return redirect("/settings#smtp", flash=("success", f"A test e-mail went to {address}."))
