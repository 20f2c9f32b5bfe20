"""Request body limits, answered as JSON 413 like every other error.

JSON endpoints take at most ``json_limit`` bytes (a question of ≤500 characters with 20 history turns
is far below it); the upload endpoint takes ``upload_limit``. A declared Content-Length over the limit
is refused before anything is read; a chunked body is counted as it arrives.
"""
from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import error_response

JSON_LIMIT = 1 << 20


class BodyTooLarge(HTTPException):
    """An HTTPException, so that FastAPI's body parsing re-raises it instead of answering 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes, the limit for this endpoint")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, upload_limit: int, json_limit: int = JSON_LIMIT,
                 upload_paths: tuple[str, ...] = ("/api/replies",)) -> None:
        self.app = app
        self.upload_limit, self.json_limit, self.upload_paths = upload_limit, json_limit, upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        upload = scope.get("method") == "POST" and scope.get("path") in self.upload_paths
        limit = self.upload_limit if upload else self.json_limit
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await error_response(413, BodyTooLarge(limit).detail)(scope, receive, send)
            return
        total = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal total
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as e:
            if started:
                raise
            await error_response(413, e.detail)(scope, receive, send)
