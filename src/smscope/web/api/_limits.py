"""A ceiling on request bodies: the API reads JSON whole, so a body larger than
``MAX_BODY`` is refused with 413 before it fills the memory — by its
``Content-Length``, or while it streams in when it has none."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smscope.web.api._json import ApiJSON

__all__ = ["MAX_BODY", "BodyLimit"]

#: 100,000 numbers of a campaign and their JSON fit well within this
MAX_BODY = 8 * 1024 * 1024


class _TooLarge(Exception):
    pass


def _refusal() -> ApiJSON:
    return ApiJSON({"error": {"code": "too_large",
                              "message": f"the request body is over {MAX_BODY // 2**20} MiB; "
                                         "send less at a time"}}, 413)


class BodyLimit:
    """``uploads``: routes (paths ending so) that stream their body to a file and
    check a larger ceiling of their own (a CSV import)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY,
                 uploads: tuple[str, ...] = ("/imports",)) -> None:
        self.app, self.limit, self.uploads = app, limit, uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
                scope.get("method") == "POST"
                and str(scope.get("path", "")).rstrip("/").endswith(self.uploads)):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _refusal()(scope, receive, send)
            return
        seen = 0
        over = False
        refused = False

        async def counting() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise _TooLarge
            return message

        async def refuse() -> None:
            nonlocal refused
            if not refused:
                refused = True
                await _refusal()(scope, receive, send)

        async def watch(message: Message) -> None:
            # whatever the app makes of a body cut short (FastAPI: a 400), the client
            # is told the truth
            if over:
                await refuse()
                return
            await send(message)

        try:
            await self.app(scope, counting, watch)
        except _TooLarge:
            await refuse()
