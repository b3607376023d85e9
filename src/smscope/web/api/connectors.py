"""``/connectors``: list (secrets masked), add an SMPP or simulator connector (the
checks of ``smscope connector add``), enable or disable one. Changing connectors is
for admins."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from smscope.connectors import options, registry
from smscope.errors import PermissionDeniedError
from smscope.web.api._common import ERRORS, app_of
from smscope.web.api._json import ApiJSON

__all__ = ["router"]

router = APIRouter(prefix="/connectors", tags=["connectors"], responses=ERRORS)


class ConnectorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    type: Literal["smpp", "simulator"]
    host: str | None = Field(default=None, max_length=255)
    port: int = Field(default=2775, ge=1, le=65535)
    system_id: str | None = Field(default=None, max_length=64)
    password: str | None = Field(default=None, max_length=64)
    profile: str | None = Field(default=None, max_length=500)
    seed: int | None = Field(default=None, ge=0, le=2**31)
    rate: float | None = Field(default=None, gt=0, le=1e6)
    window: int | None = Field(default=None, ge=1, le=100_000)
    receivers: int | None = Field(default=None, ge=1, le=16)
    split: Literal["udh8", "udh16", "sar", "payload"] | None = None
    id_format: Literal["auto", "hex", "dec", "string"] | None = None
    mapping: dict[str, str] = Field(default_factory=dict, max_length=200)


class EnabledIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


def _admin(request: Request) -> None:
    if not request.state.login.is_admin:
        raise PermissionDeniedError("only admins change connectors")


@router.get("", summary="Connectors (the configuration file's included)")
def list_connectors(request: Request) -> ApiJSON:
    smscope = app_of(request)
    with smscope.db.transaction() as session:
        registry.sync_config_connectors(session, smscope.config)
        items = [registry.connector_to_json(c) for c in registry.list_connectors(session)]
    return ApiJSON({"items": items, "next_cursor": None})


@router.post("", status_code=201, summary="Add an SMPP or simulator connector (admins)")
def add(request: Request, body: ConnectorIn) -> ApiJSON:
    _admin(request)
    smpp = body.type == "smpp"
    type_, settings = options.smpp_or_simulator(
        smpp=f"{body.host or ''}:{body.port}" if smpp else None, system_id=body.system_id,
        password=body.password, simulator=not smpp, profile=body.profile, seed=body.seed,
        rate=body.rate, window=body.window, receivers=body.receivers, split=body.split,
        id_format=body.id_format)
    with app_of(request).db.transaction() as session:
        connector = registry.add_connector(session, body.name, type_, settings,
                                           dict(body.mapping))
        data: dict[str, Any] = registry.connector_to_json(connector)
    return ApiJSON(data, 201)


@router.post("/{name}/enabled", summary="Enable or disable a connector (admins)")
def set_enabled(request: Request, name: str, body: EnabledIn) -> ApiJSON:
    _admin(request)
    with app_of(request).db.transaction() as session:
        return ApiJSON(registry.connector_to_json(
            registry.set_enabled(session, name, body.enabled)))
