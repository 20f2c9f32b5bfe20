"""Admin (bearer token DAFU_ADMIN_TOKEN): upload replies, delete one, rebuild the index.

Each call builds a new index version (written atomically by the Indexer) and swaps it in; requests in
flight finish on the version they started with. Writes are serialized by ServiceCore.
The upload body is parsed only after the token is checked, so unauthenticated uploads are not read.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from service.api.auth import require_admin
from service.api.models import DeletePublic, ErrorPublic, IndexWritePublic, UploadPublic
from service.api.routes_ask import core_of
from service.api.routes_replies import ReplyId
from service.core import ACCEPTED_SUFFIXES

router = APIRouter(tags=["管理 admin"], dependencies=[Depends(require_admin)],
                   responses={422: {"model": ErrorPublic, "description": "invalid request"}})

MAX_FILES = 50  # default of DAFU_MAX_UPLOAD_FILES (the setting is what counts)
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "missing or wrong bearer token"},
    403: {"model": ErrorPublic, "description": "admin endpoints are disabled: set DAFU_ADMIN_TOKEN"},
    429: {"model": ErrorPublic, "description": "too many admin calls or wrong tokens from this client (Retry-After)"},
    503: {"model": ErrorPublic, "description": "the index is damaged (writes are refused) or cannot be written (disk)"},
}
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["files"],
    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"},
                             "description": f"one or more reply files ({', '.join(ACCEPTED_SUFFIXES)}), "
                                            f"at most {MAX_FILES}; each at most DAFU_MAX_UPLOAD_BYTES"}}}}}}}


@router.post("/api/replies", response_model=UploadPublic, status_code=201, openapi_extra=UPLOAD_BODY,
             responses={**AUTH_ERRORS, 400: {"model": ErrorPublic, "description": "no reply could be read"},
                        413: {"model": ErrorPublic, "description": "a file is too large"},
                        415: {"model": ErrorPublic, "description": "not multipart, or a file type not accepted"}},
             summary="上传答复文件并增量索引 (upload and index)")
async def upload(request: Request) -> dict[str, Any]:
    """Multipart field `files` (repeatable). Files keep their names, so the reader is chosen by suffix; files
    that cannot be read are listed under `skipped` (if none can be read: 400 and the index is unchanged)."""
    core = core_of(request)
    limit = core.settings.max_upload_bytes
    core.check_writable()  # 503 before the body is read
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise HTTPException(415, "send multipart/form-data with the files in the field 'files' "
                                 f"(accepted types: {', '.join(ACCEPTED_SUFFIXES)})")
    form = await request.form(max_files=core.settings.max_upload_files + 1, max_fields=20)
    try:
        uploads = [v for k, v in form.multi_items() if isinstance(v, UploadFile)]
        if not uploads:
            raise HTTPException(400, f"no file in the upload; send one or more files in the multipart field 'files' "
                                     f"(accepted types: {', '.join(ACCEPTED_SUFFIXES)})")
        sizes = []
        for f in uploads:
            size = f.size if f.size is not None else len(await f.read())
            core.check_upload(f.filename or "", size)
            sizes.append(size)
        core.check_upload_batch(len(uploads), sum(sizes))
        files = []
        for f in uploads:
            await f.seek(0)
            files.append((f.filename or "", await f.read(limit + 1)))
            core.check_upload(f.filename or "", len(files[-1][1]))
    finally:
        await form.close()
    out = await run_in_threadpool(core.upload, files)
    request.app.state.metrics.index_writes.labels("upload").inc()
    return out


@router.delete("/api/replies/{reply_id}", response_model=DeletePublic,
               responses={**AUTH_ERRORS, 404: {"model": ErrorPublic, "description": "unknown reply id"}},
               summary="删除一件答复 (remove a reply)")
async def delete(request: Request, reply_id: ReplyId) -> dict[str, Any]:
    out = await run_in_threadpool(core_of(request).delete, reply_id)
    request.app.state.metrics.index_writes.labels("delete").inc()
    return out


@router.post("/api/index/rebuild", response_model=IndexWritePublic,
             responses={**AUTH_ERRORS, 400: {"model": ErrorPublic, "description": "the index holds no reply to rebuild"}},
             summary="重建索引 (re-chunk and re-index what the index holds)")
async def rebuild(request: Request) -> dict[str, Any]:
    out = await run_in_threadpool(core_of(request).rebuild)
    request.app.state.metrics.index_writes.labels("rebuild").inc()
    return out
