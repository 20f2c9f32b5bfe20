"""The FastAPI app: factory, lifespan (the index is loaded once, off the event loop), routers, web chat.

``create_app(settings, encoder=None)`` builds one independent app (its own ServiceCore, metrics
registry and feedback store), so tests can create several. ``dafu serve`` runs it with uvicorn.
"""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool
from starlette.middleware.cors import CORSMiddleware

from index.embed import Encoder
from index.settings import Settings
from service.api import errors
from service.api.limits import BodyLimitMiddleware
from service.api.metrics import Metrics, MetricsMiddleware
from service.api.ratelimit import RateLimitMiddleware, RateLimits
from service.api.routes_admin import router as admin_router
from service.api.routes_ask import router as ask_router
from service.api.routes_ops import router as ops_router
from service.api.routes_replies import router as replies_router
from service.api.security import SecurityHeadersMiddleware
from service.api.routes_review import router as review_router
from service.api.routes_track import router as track_router
from service.core import ServiceCore

log = logging.getLogger("dafu.api")

DESCRIPTION = """\
答复通 (dafu): cited answers over government replies to CPPCC proposals (政协提案) and deputies' suggestions (人大建议).

- `POST /api/ask` — 问题 → 要点，每一点都是被引用段落中的原句，并附出处；`history` 支持追问（"那人社局呢？"、"2021年的呢？"、"第二条具体怎么做的？"）
- `POST /api/ask/stream` — the same answer as server-sent events
- `GET /api/replies/{id}` — the full text; a citation's `start`/`end` slice its passage out of `text`
- Admin endpoints need `Authorization: Bearer <DAFU_ADMIN_TOKEN>`; without that setting they are disabled (403).

Errors are JSON `{"error": kind, "detail": message}`. Questions are limited to DAFU_MAX_QUESTION_CHARS characters
(422 beyond); per-client rate limits answer 429 with `Retry-After`; `/readyz` says why the service is not ready.
"""

DOCS_ASSETS = "/docs-assets"
TAGS = [{"name": "问答 ask", "description": "questions, search and answers"},
        {"name": "跟踪 track", "description": "commitments of the replies and what later replies reported"},
        {"name": "答复 replies", "description": "the replies in the index"},
        {"name": "反馈 feedback", "description": "ratings of answers"},
        {"name": "管理 admin", "description": "index updates (bearer token)"},
        {"name": "运维 ops", "description": "health, readiness, metrics"}]


def mount_web_chat(app: FastAPI, core: ServiceCore) -> bool:
    """Mount the web chat (ui.app.mount_ui) when it is installed; the API works without it."""
    try:
        from ui import app as ui_app  # type: ignore[attr-defined]
    except ImportError as e:
        log.info("web chat not mounted (ui.app not importable: %s)", e)
        return False
    except Exception:
        log.exception("web chat not mounted (importing ui.app failed); serving the API only")
        return False
    mount = getattr(ui_app, "mount_ui", None)
    if not callable(mount):
        log.info("web chat not mounted (ui.app has no mount_ui)")
        return False
    try:
        mount(app, core)
    except Exception:  # a broken UI must not take the API down
        log.exception("web chat could not be mounted; serving the API only")
        return False
    return True


def create_app(settings: Settings | None = None, encoder: Encoder | None = None, *, with_ui: bool = True) -> FastAPI:
    settings = settings or Settings()
    core = ServiceCore(settings, encoder)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(core.start)
        if core.load_error:
            log.warning("serving without an index (readyz 503): %s", core.load_error)
        else:
            st = core.state()
            log.info("index %s loaded: %d replies, %d chunks, model %s", st.index.version, len(st.index.replies),
                     st.index.chunk_count, st.index.model)
        try:
            yield
        finally:
            core.close()

    # /docs (Swagger UI) and /redoc load their scripts from the files fastapi-offline installs, served under
    # DOCS_ASSETS: the pages work with no internet access
    app = FastAPIOffline(title="答复通 dafu API", version="0.1.0", description=DESCRIPTION, openapi_tags=TAGS,
                         lifespan=lifespan, static_url=DOCS_ASSETS)
    app.state.settings = settings
    app.state.core = core
    app.state.rate_limits = RateLimits(settings)
    app.state.metrics = Metrics(core, app.state.rate_limits)
    errors.install(app)
    # innermost first: body limits, rate limits, metrics (counts 429/413 too), CORS, security headers (on everything)
    app.add_middleware(BodyLimitMiddleware, upload_limit=settings.max_upload_total_bytes + (1 << 20))
    app.add_middleware(RateLimitMiddleware, limits=app.state.rate_limits)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=False,
                       allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "Content-Type"],
                       max_age=600)
    app.add_middleware(SecurityHeadersMiddleware)
    for r in (ask_router, replies_router, track_router, admin_router, review_router, ops_router):
        app.include_router(r)
    _document_question_limit(app, settings.max_question_chars)
    app.state.ui_mounted = with_ui and mount_web_chat(app, core)
    if not app.state.ui_mounted:
        @app.get("/", include_in_schema=False)
        async def root() -> dict[str, str]:
            return {"service": "dafu", "docs": "/docs", "openapi": "/openapi.json"}
    return app


def _document_question_limit(app: FastAPI, limit: int) -> None:
    """Write the configured question limit (and "not only spaces") into the OpenAPI schema."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        spec = generate()
        schemas = spec.get("components", {}).get("schemas", {})
        for model, fld in (("AskRequest", "question"), ("HistoryTurn", "question"), ("SearchRequest", "query")):
            prop = schemas.get(model, {}).get("properties", {}).get(fld)
            if prop is not None:
                prop["maxLength"] = limit
                if model != "HistoryTurn":  # an earlier turn may be blank when its answer_id carries it
                    prop["pattern"] = r"\S"
                desc = prop.get("description", "").replace("DAFU_MAX_QUESTION_CHARS（默认 500）", str(limit))
                prop["description"] = desc.replace("1–DAFU_MAX_QUESTION_CHARS", f"1–{limit}") + \
                    ("" if str(limit) in desc else f" (1–{limit} characters)")
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
