"""Every error as JSON {"error", "detail"}: 4xx saying what was wrong and what is accepted; never a trace.

DafuError subclasses: UnknownReplyError/UnknownAnswerError → 404, ModelMismatchError → 409,
IndexNotFoundError/IndexCorruptError/IndexWriteError/FeedbackUnavailableError → 503, a question over the
limit or empty → 422, UploadRejectedError → its status (413/415), others → 400.
Request validation → 422 with one line per problem (unknown keys list the accepted ones).
Anything else → 500 with a short message (the trace goes to the log only).
Details never show the server's folders (service/api/security.py scrub_paths).
"""
from __future__ import annotations

import logging
import types
import typing
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from index.errors import (DafuError, IndexCorruptError, IndexNotFoundError, IndexWriteError, ModelLoadError,
                          ModelMismatchError, UnknownReplyError)
from service.api.security import scrub_paths, server_roots
from service.core import AdminError, UploadRejectedError
from service.feedback import UnknownAnswerError
from service.health import FeedbackUnavailableError
from service.limits import EmptyQuestionError, QuestionTooLongError

log = logging.getLogger("dafu.api")

HTTP_KIND = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
             409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "validation_error",
             429: "too_many_requests", 500: "internal_error", 503: "unavailable"}


def error_response(status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"error": HTTP_KIND.get(status, "error"), "detail": detail, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def dafu_status(e: DafuError) -> int:
    if isinstance(e, (UnknownReplyError, UnknownAnswerError)):
        return 404
    if isinstance(e, ModelMismatchError):
        return 409
    if isinstance(e, (IndexNotFoundError, IndexCorruptError, ModelLoadError, IndexWriteError, FeedbackUnavailableError)):
        return 503
    if isinstance(e, (QuestionTooLongError, EmptyQuestionError)):
        return 422
    if isinstance(e, (UploadRejectedError, AdminError)):
        return e.status
    return 400


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, typing.Annotated) or origin is not None:
        return [m for a in typing.get_args(annotation) for m in _models_in(a)]
    return []


def _accepted_keys(request: Request, loc: tuple) -> list[str]:
    """For an unknown key at `loc`, the keys the model at that place accepts."""
    route = request.scope.get("route")
    dep = getattr(route, "dependant", None)
    if dep is None:
        return []
    if loc and loc[0] == "query":
        keys: set[str] = set()
        for p in dep.query_params:
            models = _models_in(p.field_info.annotation)
            keys |= {k for m in models for k in m.model_fields} if models else {p.alias}
        return sorted(keys)
    if not loc or loc[0] != "body" or not dep.body_params:
        return []
    models = _models_in(dep.body_params[0].field_info.annotation)
    for part in loc[1:-1]:
        if isinstance(part, int):
            continue
        nxt: list[type[BaseModel]] = []
        for m in models:
            f = m.model_fields.get(str(part))
            if f is not None:
                nxt += _models_in(f.annotation)
        models = nxt
    return sorted({k for m in models for k in m.model_fields})


def _describe(request: Request, err: dict) -> str:
    loc = tuple(err.get("loc", ()))
    where = ".".join(str(p) for p in loc) or "request"
    msg = err.get("msg", "invalid")
    if err.get("type") == "extra_forbidden":
        keys = _accepted_keys(request, loc)
        return f"{where}: unknown key" + (f"; accepted: {', '.join(keys)}" if keys else "")
    if err.get("type") == "missing":
        return f"{where}: required"
    if err.get("type") == "json_invalid":
        return f"body: not valid JSON ({err.get('ctx', {}).get('error', msg)}); send a JSON object with Content-Type: application/json"
    if err.get("type") in ("model_attributes_type", "dict_type") and where == "body":
        return f"body: {msg}; send a JSON object"
    return f"{where}: {msg}"


def _jsonable_errors(errors: list[dict]) -> list[dict]:
    out = []
    for e in errors:
        d = {"loc": [p if isinstance(p, (int, str)) else str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")),
             "type": str(e.get("type", ""))}
        out.append(d)
    return out


def _allowed_methods(request: Request) -> list[str]:
    """Methods some route accepts on this path (Starlette reports only the first matching route's)."""
    allowed = []
    for method in ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"):
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = list(exc.errors())
        lines = [_describe(request, e) for e in errs[:10]]
        return error_response(422, "; ".join(lines) or "invalid request", errors=_jsonable_errors(errs[:50]))

    def public(request: Request, detail: str) -> str:
        settings = getattr(request.app.state, "settings", None)
        return scrub_paths(detail, server_roots(settings)) if settings is not None else detail

    @app.exception_handler(DafuError)
    async def _dafu(request: Request, exc: DafuError) -> JSONResponse:
        return error_response(dafu_status(exc), public(request, str(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint {request.method} {request.url.path}; see /docs"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            if allowed:
                headers["Allow"] = ", ".join(allowed)
            detail = f"method {request.method} is not allowed on {request.url.path}" + (
                f"; allowed: {', '.join(allowed)}" if allowed else "") + "; see /docs"
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            detail = "the request body could not be parsed; send a JSON object encoded as UTF-8"
        return error_response(exc.status_code, public(request, detail), headers=headers or None)

    @app.exception_handler(Exception)
    async def _any(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(exc).__name__}); the service log has the details")
