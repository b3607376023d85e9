"""No NUL character in what the API is given: no stored text holds one, and PostgreSQL
refuses one in any text parameter ("text fields cannot contain NUL"), which turned a
search for ``a%00`` into a 500. Checked once for every route, in the path, the query
string and the JSON body, so each resource needs no check of its own."""

from __future__ import annotations

import json

from fastapi import Request

from smscope.inputs import NUL, has_nul
from smscope.web.api._errors import ApiError

__all__ = ["refuse_nul"]


def _refusal(where: str) -> ApiError:
    return ApiError(400, "bad_request", f"the request's {where} contains a NUL character "
                                        "(\\u0000), which smscope never stores; remove it")


async def refuse_nul(request: Request) -> None:
    """A dependency of every API route: 400 for a NUL anywhere in the request."""
    if NUL in request.url.path or has_nul(request.path_params):
        raise _refusal("path")
    if any(NUL in key or NUL in value for key, value in request.query_params.multi_items()):
        raise _refusal("query string")
    if request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()
        if b"\\u0000" in body.lower() or b"\x00" in body:
            try:
                document = json.loads(body)
            except ValueError:
                return  # malformed JSON gets its own answer
            if has_nul(document):
                raise _refusal("body")
