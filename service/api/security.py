"""Browser-facing hardening: security headers on every response, explicit CORS, safe Markdown, no server paths.

- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (and CSP ``frame-ancestors 'none'``),
  ``Referrer-Policy: same-origin``, and a Content-Security-Policy the web chat works under (checked in a
  browser by tests/faults/test_web_browser.py): only this origin's scripts, styles, images and connections;
  Gradio needs inline scripts/styles and ``eval`` for the ``js_on_load`` handlers. The API docs pages
  (/docs, /redoc) load Swagger UI / ReDoc from their CDN, so they get a policy that allows that CDN.
- CORS: Starlette's CORSMiddleware with the allow-list DAFU_CORS_ORIGINS (empty by default: same origin
  only, no ``Access-Control-Allow-Origin`` for anyone else, never credentials). Because the parent app
  configures CORS, Gradio's own CORS middleware (which echoes localhost-looking origins) stands aside.
- :func:`safe_markdown`: ``answer_markdown`` quotes letters verbatim, so HTML in a letter (``<script>``)
  is escaped (``&`` and ``<`` as entities) and inline links/images (``](``) are broken, whatever renders the Markdown.
- :func:`scrub_paths`: error details never show the server's folders (index, home, cache, uploads).
"""
from __future__ import annotations

import re
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP_APP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
           "img-src 'self' data: blob:; font-src 'self' data:; media-src 'self' data: blob:; connect-src 'self'; "
           "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
DOCS_CDN = "https://cdn.jsdelivr.net"
CSP_DOCS = (f"default-src 'self'; script-src 'self' 'unsafe-inline' {DOCS_CDN}; style-src 'self' 'unsafe-inline' "
            f"{DOCS_CDN} https://fonts.googleapis.com; img-src 'self' data: https://fastapi.tiangolo.com {DOCS_CDN}; "
            f"font-src 'self' data: https://fonts.gstatic.com; connect-src 'self'; worker-src 'self' blob:; "
            f"object-src 'none'; base-uri 'self'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")
STATIC_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class SecurityHeadersMiddleware:
    """Security headers on every response; TRACE, CONNECT and unknown methods answer 405 everywhere (the web
    chat's mount would otherwise answer them with its own 404)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "")
        csp = CSP_DOCS if path in DOCS_PATHS else CSP_APP
        app = self.app
        if method not in ALLOWED_METHODS:
            from service.api.errors import error_response

            app = error_response(405, f"method {method} is not allowed; see /docs",
                                 headers={"Allow": "GET, HEAD, POST, DELETE, OPTIONS"})
        elif method != "OPTIONS" and (path.startswith("/api/") or path in API_OPS):
            app = _api_route_answer(scope, method, path) or self.app

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in STATIC_HEADERS.items():
                    headers[k] = v
                headers["content-security-policy"] = csp
            await send(message)

        await app(scope, receive, send_with_headers)


API_OPS = ("/healthz", "/readyz", "/metrics")


def _api_route_answer(scope: Scope, method: str, path: str):
    """For an API path, 405 (with Allow) when only other methods are routed there, 404 when nothing is; None when
    the request has a route. (The web chat is mounted at "/" and would answer both with its own 404.)"""
    from starlette.routing import Match, Mount

    from service.api.errors import error_response

    app = scope.get("app")
    routes = [r for r in getattr(app, "routes", []) if not isinstance(r, Mount)]
    if not routes:
        return None

    def routed(m: str) -> bool:
        return any(r.matches({**scope, "method": m})[0] == Match.FULL for r in routes)

    if routed(method):
        return None
    allowed = [m for m in ("DELETE", "GET", "HEAD", "POST") if routed(m)]
    if allowed:
        return error_response(405, f"method {method} is not allowed on {path}; allowed: {', '.join(allowed)}; see /docs",
                              headers={"Allow": ", ".join(allowed)})
    return error_response(404, f"no such endpoint {method} {path}; see /docs")


_LINK = re.compile(r"\]\(")


def safe_markdown(md: str) -> str:
    """Markdown in which text quoted from letters cannot become HTML or a link: & and < as entities (no tag, no
    entity trick can start; > stays, it is Markdown's quote marker), and ]( broken so no inline link or image."""
    return _LINK.sub(r"]\\(", (md or "").replace("&", "&amp;").replace("<", "&lt;"))


_API_PATH = re.compile(r"^/(api|docs|redoc|openapi\.json|gradio_api|healthz|readyz|metrics)\b")
_ABS_PATH = re.compile(r"(?<![\w:/<>])/(?:[^\s'\"/:<>]+/)+[^\s'\",;:()<>]*")


def scrub_paths(detail: str, roots: dict[str, Path | None]) -> str:
    """Replace the server's folders by labels (<index>, <home>, …) and any other absolute path by its last part."""
    out = detail
    for label, root in sorted(((k, v) for k, v in roots.items() if v), key=lambda kv: -len(str(kv[1]))):
        out = out.replace(str(root), label)

    def other(m: re.Match) -> str:
        p = m.group(0)
        return p if _API_PATH.match(p) else (Path(p).name or "<path>")

    return _ABS_PATH.sub(other, out)


def server_roots(settings) -> dict[str, Path | None]:
    idx = settings.resolved_index_dir
    return {"<index>": idx, "<uploads>": idx.parent / "uploads", "<cache>": settings.resolved_cache_dir,
            "<home>": settings.home, "<data>": idx.parent}
