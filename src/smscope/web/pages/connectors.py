"""``/connectors``: the operator connections — every connector the registry knows,
whatever its type, with its settings (secrets masked), whether it is enabled and
whether it comes from the configuration file (read-only here) or the database. Admins
add SMPP and simulator connectors with the checks of ``smscope connector add``, enable
or disable them and change their rate and window."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from smscope.connectors import options, registry
from smscope.errors import NotFoundError, SmscopeError, UsageError
from smscope.inputs import refuse_nul
from smscope.web.auth import Login, signed_in, smscope_of
from smscope.web.pages._forms import admin_only, nul_error, nul_errors
from smscope.web.pages._render import redirect, render

__all__ = ["router"]

router = APIRouter()

EMPTY_FORM = {"name": "", "kind": "simulator", "host": "", "port": "2775", "system_id": "",
              "password": "", "profile": "", "seed": "", "rate": "", "window": "",
              "receivers": "", "split": "", "id_format": "", "mapping": ""}
#: which field an error of ``connector add`` is about, by a word of its message
_FIELDS = (("--smpp", "host"), ("system-id", "system_id"), ("--password", "password"),
           ("needs host", "host"), ("needs system_id", "system_id"),
           ("needs password", "password"), ("--split", "split"), ("--id-format", "id_format"),
           ("--map", "mapping"), ("mapping", "mapping"), ("profile", "profile"),
           ("rate", "rate"), ("window", "window"), ("receivers", "receivers"),
           ("seed", "seed"), ("connector name", "name"), ("named", "name"))


def _page(request: Request, *, form: dict[str, str] | None = None,
          errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    smscope = smscope_of(request)
    with smscope.db.transaction() as session:
        registry.sync_config_connectors(session, smscope.config)
        items = [registry.connector_to_json(c) for c in registry.list_connectors(session)]
    return render(request, "connectors.html",
                  {"connectors": items, "form": form or dict(EMPTY_FORM),
                   "errors": errors or {}, "splits": options.SPLITS,
                   "id_formats": options.ID_FORMATS}, status_code=status_code)


@router.get("/connectors", include_in_schema=False)
def connectors_page(request: Request, login: Login = Depends(signed_in)) -> Response:
    return _page(request)


def _number(value: str, field: str, kind: type) -> Any:
    if not value.strip():
        return None
    try:
        return kind(value.strip())
    except ValueError:
        raise UsageError(f"{field} must be a number, not {value!r}") from None


def _field_of(message: str) -> str:
    lowered = message.lower()
    return next((field for word, field in _FIELDS if word in lowered), "name")


@router.post("/connectors", include_in_schema=False)
def add_connector(request: Request, name: str = Form(""), kind: str = Form("simulator"),
                  host: str = Form(""), port: str = Form(""), system_id: str = Form(""),
                  password: str = Form(""), profile: str = Form(""), seed: str = Form(""),
                  rate: str = Form(""), window: str = Form(""), receivers: str = Form(""),
                  split: str = Form(""), id_format: str = Form(""), mapping: str = Form(""),
                  login: Login = Depends(admin_only)) -> Response:
    form = {"name": name, "kind": kind, "host": host, "port": port, "system_id": system_id,
            "password": "", "profile": profile, "seed": seed, "rate": rate,
            "window": window, "receivers": receivers, "split": split,
            "id_format": id_format, "mapping": mapping}
    refused = nul_errors({**form, "password": password},
                         [name for name in EMPTY_FORM if name != "kind"])
    if refused:
        return _page(request, form=form, errors=refused, status_code=422)
    smpp = kind == "smpp"
    try:
        type_, settings = options.smpp_or_simulator(
            smpp=f"{host.strip()}:{port.strip()}" if smpp else None,
            system_id=system_id.strip() or None if smpp else None,
            password=password if smpp and password else None, simulator=not smpp,
            profile=profile.strip() or None if not smpp else None,
            seed=_number(seed, "the seed", int) if not smpp else None,
            rate=_number(rate, "the rate", float), window=_number(window, "the window", int),
            receivers=_number(receivers, "receivers", int), split=split or None,
            id_format=id_format or None)
        overrides = options.parse_mapping(
            line.strip() for line in mapping.splitlines() if line.strip())
        with smscope_of(request).db.transaction() as session:
            registry.add_connector(session, name.strip(), type_, settings, overrides)
    except SmscopeError as exc:
        message = str(exc)
        return _page(request, form=form, errors={_field_of(message): message},
                     status_code=422)
    return redirect("/connectors", flash=("success", f"Connector {name.strip()} is added "
                                                     f"({type_}). Workers use it from their "
                                                     "next start."))


@router.post("/connectors/{name}/enabled", include_in_schema=False)
def set_enabled(request: Request, name: str, enabled: str = Form(""),
                login: Login = Depends(admin_only)) -> Response:
    refuse_nul(enabled, "The form's field 'enabled'")  # a hidden field: the 400 page
    try:
        with smscope_of(request).db.transaction() as session:
            connector = registry.set_enabled(session, name, enabled == "1")
            text = (f"{connector.name} is enabled." if connector.enabled else
                    f"{connector.name} is disabled: workers stop using it from their next "
                    "start.")
    except NotFoundError:
        raise
    except SmscopeError as exc:
        return redirect("/connectors", flash=("error", str(exc)))
    return redirect("/connectors", flash=("success", text))


@router.post("/connectors/{name}/limits", include_in_schema=False)
def set_limits(request: Request, name: str, rate: str = Form(""), window: str = Form(""),
               login: Login = Depends(admin_only)) -> Response:
    refused = nul_error({"rate": rate, "window": window},
                        {"rate": "The rate", "window": "The window"})
    if refused:
        return redirect("/connectors", flash=("error", f"{name}: {refused}"))
    try:
        with smscope_of(request).db.transaction() as session:
            connector = registry.update_limits(
                session, name, rate=_number(rate, "the rate", float),
                window=_number(window, "the window", int))
            text = f"{connector.name}'s rate and window are saved."
    except NotFoundError:
        raise
    except SmscopeError as exc:
        return redirect("/connectors", flash=("error", f"{name}: {exc}"))
    return redirect("/connectors", flash=("success", text))
