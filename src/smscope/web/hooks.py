"""Receivers of HTTP providers' status callbacks: ``/hooks/{connector}/receipts``
(generic), ``/hooks/{connector}/twilio``, ``/hooks/{connector}/vonage``.

Each request is checked in this order, and answered as CONTRACTS §12 says:

1. the connector exists, is an HTTP connector, and this path is its provider's —
   otherwise 404 (a provider's callback sent to another's path is not guessed at);
2. the signature (:mod:`smscope.receipts.http`, one module per provider) — missing:
   401, wrong or too old: 403, and nothing is stored;
3. the body is a usable report — otherwise 422 with what is wrong (never a 5xx; a NUL
   character, which PostgreSQL cannot store, makes a report unusable on every backend);
4. the reports are stored and applied (:meth:`smscope.receipts.ingest.Ingest.callbacks`,
   the pipeline of SMPP receipts) and **only then** answered 2xx. A database that fails
   gives 503: the provider sends it again later, nothing is lost.

Concurrent callbacks of one connector are committed together: while one transaction
runs, the requests that arrive wait, and the next transaction stores all of them, then
answers each (a group commit: a provider posting hundreds of callbacks a second costs a
few transactions a second, not hundreds).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import astuple, dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from smscope.app import Smscope
from smscope.connectors.registry import settings_of
from smscope.db.tables import Connector
from smscope.errors import CallbackError, SignatureError
from smscope.inputs import has_nul, nul_message
from smscope.receipts.http import Callback, HookRequest, provider, route_of
from smscope.receipts.ingest import Ingest
from smscope.receipts.mapping import StatusMapping

__all__ = ["MAX_BODY", "router"]

log = logging.getLogger(__name__)

router = APIRouter()

#: the largest callback body read, in bytes (a generic batch of 1,000 receipts fits)
MAX_BODY = 1_000_000


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status,
                        headers=headers or None)


@dataclass(frozen=True)
class _Hook:
    """What a receiver needs of a connector (read for each request: an edited
    connector takes effect at once)."""

    id: int
    name: str
    provider: str
    settings: dict[str, Any]
    mapping: dict[str, Any]


def _find(smscope: Smscope, name: str) -> _Hook | None:
    with smscope.db.session() as session:
        row = session.scalar(select(Connector).where(Connector.name == name,
                                                     Connector.type == "http"))
        if row is None:
            return None
        settings = settings_of(row)
        return _Hook(row.id, row.name, str(settings.get("provider")), settings,
                     dict(row.mapping or {}))


@dataclass
class _Committer:
    """Stores the reports of one connector's concurrent callbacks in shared
    transactions (see the module's documentation)."""

    ingest: Ingest
    pending: list[tuple[list[Callback], asyncio.Future[None]]] = field(default_factory=list)
    running: bool = False

    async def store(self, callbacks: list[Callback]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((callbacks, future))
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._drain())
        # shielded: a client that hangs up does not cancel the others' transaction
        await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending, []
                reports = [callback for callbacks, _ in batch for callback in callbacks]
                try:
                    await run_in_threadpool(self.ingest.callbacks, reports)
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for _, future in batch:
                        if not future.done():
                            future.set_result(None)
        finally:
            self.running = False


def _committer(request: Request, smscope: Smscope, hook: _Hook) -> _Committer:
    state = request.app.state
    if not hasattr(state, "hook_committers"):
        state.hook_committers = {}
    key = (hook.id, json.dumps(hook.mapping, sort_keys=True),
           str(hook.settings.get("id_format")))
    committer: _Committer | None = state.hook_committers.get(key)
    if committer is None:
        prices = smscope.price_table()
        ingest = Ingest(smscope.db, connector_id=hook.id, config=smscope.config,
                        mapping=StatusMapping.from_overrides(hook.mapping),
                        id_format=str(hook.settings.get("id_format") or "string"),
                        prices=prices)
        committer = state.hook_committers[key] = _Committer(ingest)
    return committer


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is larger than :data:`MAX_BODY`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.api_route("/hooks/{connector}/{route}", methods=["GET", "POST"],
                  include_in_schema=False)
async def receive(connector: str, route: str, request: Request) -> Response:
    """A provider's status callback: verified, stored, then acknowledged."""
    smscope: Smscope = request.app.state.smscope
    try:
        # no connector's name holds a NUL (and PostgreSQL cannot compare with one)
        hook = None if has_nul(connector) else await run_in_threadpool(_find, smscope,
                                                                        connector)
    except Exception:
        log.exception("hooks: cannot read connector %r", connector)
        return _error(503, "unavailable", "the database is unavailable; send it again later",
                      **{"Retry-After": "5"})
    if hook is None or hook.provider not in ("generic", "twilio", "vonage",
                                             "vonage-messages"):
        return _error(404, "not_found", f"no HTTP connector named {connector!r}")
    if route_of(hook.provider) != route:
        return _error(404, "not_found", f"connector {connector} receives "
                      f"{hook.provider} callbacks at /hooks/{connector}/"
                      f"{route_of(hook.provider)}")
    if hook.provider == "generic" and request.method != "POST":
        return _error(405, "method_not_allowed", "generic receipts are POSTed as JSON",
                      Allow="POST")
    body = await _read_body(request)
    if body is None:
        return _error(413, "too_large", f"the body is larger than {MAX_BODY:,} bytes")
    public = smscope.config.public_url.rstrip("/")
    query = request.url.query
    hook_request = HookRequest(
        method=request.method, url=public + request.url.path + (f"?{query}" if query else ""),
        query=list(request.query_params.multi_items()),
        headers={k.lower(): v for k, v in request.headers.items()}, body=body)
    module = provider(hook.provider)
    try:
        module.verify(hook_request, hook.settings)
    except SignatureError as exc:
        return _error(401 if exc.missing else 403,
                      "unauthenticated" if exc.missing else "bad_signature", str(exc))
    try:
        callbacks: list[Callback] = module.parse(hook_request)
        if any(has_nul(astuple(callback)) for callback in callbacks):
            raise CallbackError(nul_message("a report"))
    except CallbackError as exc:
        return _error(422, "unusable_callback", str(exc))
    try:
        # made on a thread: the first one of a connector reads the price table
        committer = await run_in_threadpool(_committer, request, smscope, hook)
        await committer.store(callbacks)
    except Exception:
        log.exception("hooks: storing %d report(s) of %s failed", len(callbacks), connector)
        return _error(503, "unavailable", "the report could not be stored; send it again "
                      "later", **{"Retry-After": "5"})
    return JSONResponse({"stored": len(callbacks)}, 200)
