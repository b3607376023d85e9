"""The web application factory: one FastAPI app over one :class:`~smscope.app.Smscope`.

Kept small on purpose: each area of the application is a router in its own module of
:mod:`smscope.web`, included here. Route handlers reach the service context as
``request.app.state.smscope``.
"""

from __future__ import annotations

from fastapi import FastAPI

from smscope import __version__
from smscope.app import Smscope
from smscope.web import hooks, tracking

__all__ = ["create_app"]


def create_app(smscope: Smscope) -> FastAPI:
    """The web app of ``smscope``. Opens its database now, so a wrong URL or an old
    schema fails at start, not on the first request."""
    smscope.db  # noqa: B018 (opens the database and checks its schema)
    # no interactive docs: they load scripts from a CDN, and the app works offline
    app = FastAPI(title="smscope", version=__version__, docs_url=None, redoc_url=None)
    app.state.smscope = smscope
    app.include_router(tracking.router)
    app.include_router(hooks.router)
    return app
