"""Per-client rate limits (the `limits` library, moving windows in memory), answered as JSON 429 + Retry-After.

Buckets and their settings (``N/second|minute|hour``; ``0`` turns one off):

- ``ask`` (DAFU_RATE_LIMIT_ASK): POST /api/ask, /api/ask/stream, /api/search, and the web chat's events
  (POST …/gradio_api/queue/join, …/gradio_api/call/…, …/gradio_api/run/…);
- ``feedback`` (DAFU_RATE_LIMIT_FEEDBACK): POST /api/feedback;
- ``admin`` (DAFU_RATE_LIMIT_ADMIN): POST /api/replies, DELETE /api/replies/{id}, POST /api/index/rebuild;
- ``auth_failures`` (DAFU_RATE_LIMIT_AUTH_FAILURES): wrong or missing admin tokens (service/api/auth.py);
  past it, every admin call from that client gets 429 until the window frees.

The client is the connection's address (behind a reverse proxy, uvicorn's --forwarded-allow-ips makes it
the X-Forwarded-For address). Addresses in DAFU_RATE_LIMIT_EXEMPT (default: this machine, 127.0.0.1 and ::1 —
local tools, `dafu eval`, bench/load.py) are not limited. Limits are per process.
"""
from __future__ import annotations

import ipaddress
import math
import re
import time

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.errors import error_response

_ASK = re.compile(r"^/api/(ask|ask/stream|search)$|/gradio_api/(queue/join|call/[^/]+|run/[^/]+)$")
_ADMIN_POST = re.compile(r"^/api/(replies|index/rebuild)$")
_ADMIN_DELETE = re.compile(r"^/api/replies/[^/]+$")


class RateLimits:
    def __init__(self, settings) -> None:
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.rules = {name: ([] if value == "0" else parse_many(value)) for name, value in (
            ("ask", settings.rate_limit_ask), ("feedback", settings.rate_limit_feedback),
            ("admin", settings.rate_limit_admin), ("auth_failures", settings.rate_limit_auth_failures))}
        self.refused: dict[str, int] = {name: 0 for name in self.rules}
        self.exempt = [ipaddress.ip_network(x, strict=False) for x in getattr(settings, "rate_limit_exempt", [])]

    def _exempt(self, client: str) -> bool:
        try:
            ip = ipaddress.ip_address(client)
        except ValueError:
            return False
        return any(ip in net for net in self.exempt)

    def _retry_after(self, item, bucket: str, client: str) -> int:
        stats = self.limiter.get_window_stats(item, bucket, client)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def hit(self, bucket: str, client: str) -> int | None:
        """Count one request; the seconds to wait when it is over a limit (then it is refused), else None."""
        if self._exempt(client):
            return None
        for item in self.rules.get(bucket, []):
            if not self.limiter.hit(item, bucket, client):
                self.refused[bucket] += 1
                return self._retry_after(item, bucket, client)
        return None

    def blocked(self, bucket: str, client: str) -> int | None:
        """Like hit, without counting: the seconds to wait when the client is already over a limit."""
        if self._exempt(client):
            return None
        for item in self.rules.get(bucket, []):
            if not self.limiter.test(item, bucket, client):
                self.refused[bucket] += 1
                return self._retry_after(item, bucket, client)
        return None


def bucket_of(method: str, path: str) -> str | None:
    if method == "POST":
        if path == "/api/feedback":
            return "feedback"
        if _ADMIN_POST.match(path):
            return "admin"
        if _ASK.search(path):
            return "ask"
    elif method == "DELETE" and _ADMIN_DELETE.match(path):
        return "admin"
    return None


def client_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def too_many(retry_after: int, what: str):
    return error_response(429, f"too many {what} from this client; try again in {retry_after} s",
                          headers={"Retry-After": str(retry_after)})


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            bucket = bucket_of(scope.get("method", ""), scope.get("path", ""))
            if bucket is not None:
                wait = self.limits.hit(bucket, client_of(scope))
                if wait is not None:
                    what = {"ask": "questions", "feedback": "feedback posts", "admin": "admin calls"}[bucket]
                    await too_many(wait, what)(scope, receive, send)
                    return
        await self.app(scope, receive, send)
