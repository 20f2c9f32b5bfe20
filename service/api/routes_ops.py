"""Operations: GET /healthz (process up), /readyz (index loaded), /metrics (Prometheus text)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from service.api.models import HealthPublic, ReadyPublic

router = APIRouter(tags=["运维 ops"])


@router.get("/healthz", response_model=HealthPublic, summary="进程存活 (liveness)")
async def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadyPublic, response_model_exclude_none=True, responses={503: {"model": ReadyPublic}},
            summary="索引已加载 (readiness)")
async def readyz(request: Request) -> Any:
    """200 while an index is served (`detail`/`degraded` name what is not working, e.g. feedback storage);
    503 with the reason while none is (missing, damaged, other model) — it turns 200 by itself once a good
    version appears on disk."""
    from service.api.security import scrub_paths, server_roots

    out = request.app.state.core.readiness()
    roots = server_roots(request.app.state.settings)
    if out.get("detail"):
        out["detail"] = scrub_paths(out["detail"], roots)
    if out.get("degraded"):
        out["degraded"] = [scrub_paths(d, roots) for d in out["degraded"]]
    if out["status"] != "ready":
        return JSONResponse(out, status_code=503)
    return out


@router.get("/metrics", response_class=Response, summary="Prometheus 指标 (metrics)",
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format"}})
async def metrics(request: Request) -> Response:
    body, ctype = request.app.state.metrics.render()
    return Response(body, media_type=ctype)
