"""Operations: GET /healthz (process up), /readyz (index loaded), /metrics (Prometheus text)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from service.api.models import HealthPublic

router = APIRouter(tags=["运维 ops"])


@router.get("/healthz", response_model=HealthPublic, summary="进程存活 (liveness)")
async def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@router.get("/readyz", response_model=HealthPublic, responses={503: {"model": HealthPublic}},
            summary="索引已加载 (readiness)")
async def readyz(request: Request) -> Any:
    core = request.app.state.core
    st = core._state
    if st is None:
        return JSONResponse({"status": "not ready", "detail": core.load_error or "the index is still loading"},
                            status_code=503)
    return {"status": "ready", "index_version": st.index.version}


@router.get("/metrics", response_class=Response, summary="Prometheus 指标 (metrics)",
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format"}})
async def metrics(request: Request) -> Response:
    body, ctype = request.app.state.metrics.render()
    return Response(body, media_type=ctype)
