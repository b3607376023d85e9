"""Every error under ``/api/v1`` is ``{"error": {"code", "message"}}`` with a stable
code: smscope's own errors by their class, FastAPI's (validation, malformed JSON,
unknown route, wrong method) by their kind, and anything unexpected as a 500 with no
trace (the trace goes to the server's log)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smscope.campaigns.service import CampaignStateError
from smscope.errors import (
    AuthenticationError,
    ConflictError,
    DatabaseError,
    ImportFileError,
    InsufficientCreditError,
    InvalidNumberError,
    NotFoundError,
    PermissionDeniedError,
    SmscopeError,
    TemplateError,
)
from smscope.web.api._json import ApiJSON
from smscope.web.api._limits import BodyLimit

__all__ = ["ApiError", "error_response", "install"]

log = logging.getLogger(__name__)

#: smscope's errors, most specific first: (class, HTTP status, code)
_MAPPING: list[tuple[type[SmscopeError], int, str]] = [
    (AuthenticationError, 401, "unauthorized"),
    (PermissionDeniedError, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (CampaignStateError, 409, "invalid_state"),
    (ConflictError, 409, "conflict"),
    (InsufficientCreditError, 409, "insufficient_credit"),
    (InvalidNumberError, 422, "invalid_number"),
    (TemplateError, 422, "invalid_template"),
    (ImportFileError, 422, "invalid_file"),
    (DatabaseError, 503, "unavailable"),
    (SmscopeError, 400, "bad_request"),
]

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
               413: "too_large", 415: "unsupported_media_type", 429: "throttled"}


class ApiError(Exception):
    """An API answer other than success, raised from anywhere in a handler."""

    def __init__(self, status_code: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code, self.code, self.message = status_code, code, message
        self.headers = headers or {}


def error_response(status_code: int, code: str, message: str,
                   headers: dict[str, str] | None = None) -> ApiJSON:
    return ApiJSON({"error": {"code": code, "message": message}}, status_code,
                   headers=headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.code, exc.message, exc.headers)


async def _smscope_error(request: Request, exc: Exception) -> Response:
    for kind, status_code, code in _MAPPING:
        if isinstance(exc, kind):
            return error_response(status_code, code, str(exc))
    raise AssertionError("SmscopeError is the last entry")  # pragma: no cover


def _where(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    return ".".join(loc)


async def _caller_refusal(request: Request) -> Response | None:
    """The answer for a caller who may not make this request at all (401, 403), or
    None. FastAPI parses a JSON body before the route's dependencies check the caller:
    who calls, and whether they may write, is answered first whatever the body."""
    from smscope.web.api._auth import api_login

    try:
        await run_in_threadpool(api_login, request)
    except ApiError as refused:
        return await _api_error(request, refused)
    except SmscopeError as refused:
        return await _smscope_error(request, refused)
    return None


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    refused = await _caller_refusal(request)
    if refused is not None:
        return refused
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "malformed_json",
                              "the request body is not valid JSON; send a JSON object")
    parts = []
    for error in errors[:5]:
        where = _where(error)
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where
                     else str(error.get("msg", "invalid")))
    return error_response(422, "validation_error", "; ".join(parts) or "invalid request")


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status_code = exc.status_code
    if status_code == 400:  # a body FastAPI could not parse, before any dependency ran
        refused = await _caller_refusal(request)
        if refused is not None:
            return refused
        return error_response(400, "bad_request", "the request body could not be read; "
                              "send a JSON object with Content-Type: application/json")
    code = _HTTP_CODES.get(status_code, "error")
    message = {404: f"no API route {request.url.path}; the routes are listed in "
                    "/api/v1/openapi.json",
               405: f"{request.method} is not allowed on {request.url.path}"
               }.get(status_code, str(exc.detail))
    return error_response(status_code, code, message, dict(exc.headers or {}))


class CatchAll:
    """A 500 in the API's shape for any exception no handler took, logged with its
    trace (which never reaches the client). Pure ASGI, so streamed answers pass
    through untouched; after an answer started nothing can be changed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("api: %s %s failed", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = error_response(500, "internal_error",
                                      "smscope failed to answer this request; the error is "
                                      "in the server's log")
            await response(scope, receive, send)


def install(api: FastAPI) -> None:
    api.add_exception_handler(ApiError, _api_error)
    api.add_exception_handler(SmscopeError, _smscope_error)
    api.add_exception_handler(RequestValidationError, _validation)
    api.add_exception_handler(HTTPException, _http)
    api.add_middleware(CatchAll)
    # outermost of the two: a body too large is refused before anything reads it
    api.add_middleware(BodyLimit)
