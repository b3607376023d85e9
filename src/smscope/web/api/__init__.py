"""The REST API, ``/api/v1``: a FastAPI application of its own, mounted by the web
app, so that everything under it — unknown routes and wrong methods included —
answers in the API's JSON error shape, and its schema is ``/api/v1/openapi.json``.

One router per resource, each thin over the services the CLI calls; every route
needs a caller (:func:`smscope.web.api._auth.api_login`).
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from smscope import __version__
from smscope.web.api import (
    _errors,
    blacklist,
    campaigns,
    connectors,
    contacts,
    credits,
    imports,
    messages,
    stats,
    texts,
    webhooks,
)
from smscope.web.api._auth import api_login
from smscope.web.api._json import ApiJSON
from smscope.web.api._text import refuse_nul

__all__ = ["create_api"]

PREFIX = "/api/v1"


def create_api() -> FastAPI:
    # no interactive docs: they load scripts from a CDN, and the app works offline
    api = FastAPI(title="smscope API", version=__version__, openapi_url="/openapi.json",
                  docs_url=None, redoc_url=None, default_response_class=ApiJSON,
                  description="Authenticate with `Authorization: Bearer TOKEN` (a token "
                              "from the API tokens page or `smscope tokens create`). "
                              "Errors are `{\"error\": {\"code\", \"message\"}}`; "
                              "collections are pages `{\"items\", \"next_cursor\"}`.")
    for module in (campaigns, messages, stats, contacts, imports, blacklist, connectors,
                   credits, texts, webhooks):
        # the caller first: a read-only token's write is a 403, whatever it sends
        api.include_router(module.router,
                           dependencies=[Depends(api_login), Depends(refuse_nul)])
    _errors.install(api)
    _declare_bearer(api)
    return api


def _declare_bearer(api: FastAPI) -> None:
    """Say in the schema that every route takes a Bearer token (the dependency reads
    the header itself, so that its errors keep the API's shape)."""
    make = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = make()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an API token"}}
            schema["security"] = [{"bearer": []}]
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
