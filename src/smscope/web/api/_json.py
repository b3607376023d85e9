"""The API's JSON: the same encoding as the CLI's ``--json`` (CONTRACTS §2: dates ISO
8601 UTC with ``Z``, credits as numbers), so both print the same document."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from smscope.output import dumps

__all__ = ["ApiJSON"]


class ApiJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")
