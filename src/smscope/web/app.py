"""The web application factory: one FastAPI app over one :class:`~smscope.app.Smscope`.

Kept small on purpose: each area is a module or package of :mod:`smscope.web`,
included here — ``tracking`` (the ``/c/{token}`` redirect), ``pages`` (the UI behind
the login), ``api`` (the REST API, mounted at ``/api/v1``) and ``static`` (our CSS).
Route handlers reach the service context as ``request.app.state.smscope``.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from smscope import __version__
from smscope.accounts.sessions import Expiry
from smscope.app import Smscope
from smscope.web import hooks, pages, tracking
from smscope.web.api import PREFIX, create_api

__all__ = ["create_app"]


def create_app(smscope: Smscope, *, session_expiry: Expiry | None = None) -> FastAPI:
    """The web app of ``smscope``. Opens its database now, so a wrong URL or an old
    schema fails at start, not on the first request."""
    smscope.db  # noqa: B018 (opens the database and checks its schema)
    # no interactive docs: they load scripts from a CDN, and the app works offline
    app = FastAPI(title="smscope", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.smscope = smscope
    app.state.session_expiry = session_expiry or Expiry()
    api = create_api()
    api.state.smscope = smscope
    api.state.session_expiry = app.state.session_expiry
    app.mount(PREFIX, api)
    app.mount("/static", StaticFiles(directory=str(files("smscope.web") / "static")),
              name="static")
    app.include_router(tracking.router)
    app.include_router(hooks.router)
    pages.install(app)
    return app
