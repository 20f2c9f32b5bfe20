"""`HttpBackend`: the DafuBackend protocol over the HTTP API (for `dafu ui --api URL`)."""
from __future__ import annotations

import json
from typing import Any, Iterator
from urllib.parse import quote

import httpx

from index.errors import DafuError


class BackendError(DafuError):
    """The service answered with an error (its message is shown to the user)."""


def _raise_for(resp: httpx.Response) -> None:
    if resp.status_code < 400:
        return
    try:
        body = resp.json()
        detail = body.get("detail") if isinstance(body, dict) else body
        if isinstance(detail, dict):
            detail = detail.get("message") or detail.get("error") or json.dumps(detail, ensure_ascii=False)
        elif isinstance(detail, list):
            detail = "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    except ValueError:
        detail = resp.text[:300]
    raise BackendError(f"HTTP {resp.status_code}: {detail or resp.reason_phrase}")


def parse_sse(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Server-sent events -> {"event", "data"} dicts (data parsed as JSON when it is JSON).

    A data payload that itself has an "event" key (``data: {"event": "point", "data": …}``) is taken as is.
    """
    event, data = None, []
    for raw in lines:
        line = raw.rstrip("\r")
        if line == "":
            if data:
                yield _event(event, "\n".join(data))
            event, data = None, []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
    if data:
        yield _event(event, "\n".join(data))


def _event(event: str | None, payload: str) -> dict[str, Any]:
    try:
        data = json.loads(payload)
    except ValueError:
        data = payload
    if event is None and isinstance(data, dict) and "event" in data:
        return {"event": data["event"], "data": data.get("data")}
    return {"event": event or "message", "data": data}


def _params(filters: dict[str, Any] | None) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in (filters or {}).items():
        if v in (None, "", []):
            continue
        if isinstance(v, (list, tuple)):
            out += [(k, x) for x in v]
        else:
            out.append((k, v))
    return out


class HttpBackend:
    """Talks to a running `dafu serve` at `base_url` (e.g. http://127.0.0.1:8000)."""

    def __init__(self, base_url: str, timeout: float = 60.0, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client or httpx.Client(base_url=self.base_url, timeout=timeout, trust_env=False)

    def _get(self, path: str, params: Any = None) -> Any:
        r = self.client.get(path, params=params)
        _raise_for(r)
        return r.json()

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        r = self.client.post(path, json={k: v for k, v in body.items() if v is not None})
        _raise_for(r)
        return r.json()

    def ask(self, question: str, filters: dict[str, Any] | None = None, top_k: int | None = None,
            history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return self._post("/api/ask", {"question": question, "filters": filters, "top_k": top_k, "history": history})

    def ask_stream(self, question: str, filters: dict[str, Any] | None = None, top_k: int | None = None,
                   history: list[dict[str, Any]] | None = None) -> Iterator[dict[str, Any]]:
        body = {k: v for k, v in {"question": question, "filters": filters, "top_k": top_k, "history": history}.items()
                if v is not None}
        with self.client.stream("POST", "/api/ask/stream", json=body, headers={"Accept": "text/event-stream"}) as r:
            if r.status_code >= 400:
                r.read()
                _raise_for(r)
            yield from parse_sse(r.iter_lines())

    def search(self, query: str, filters: dict[str, Any] | None = None, top_k: int | None = None) -> dict[str, Any]:
        return self._post("/api/search", {"query": query, "filters": filters, "top_k": top_k})

    def get_reply(self, reply_id: str) -> dict[str, Any]:
        return self._get(f"/api/replies/{quote(str(reply_id), safe='')}")

    def list_replies(self, q: str | None = None, filters: dict[str, Any] | None = None, page: int = 1,
                     page_size: int = 20) -> dict[str, Any]:
        params = [("page", page), ("page_size", page_size)] + ([("q", q)] if q else []) + _params(filters)
        return self._get("/api/replies", params=params)

    def departments(self) -> list[dict[str, Any]]:
        return self._get("/api/departments")

    def feedback(self, answer_id: str, rating: str, comment: str | None = None) -> dict[str, Any]:
        return self._post("/api/feedback", {"answer_id": answer_id, "rating": rating, "comment": comment})

    def stats(self) -> dict[str, Any]:
        return self._get("/api/stats")

    def track(self, topic: str, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self._get("/api/track", params=[("topic", topic or "")] + _params(filters))

    def track_districts(self) -> list[str]:
        return self._get("/api/track/districts")

    # -- staff review (the admin token is sent as a bearer token) ------------------------------------
    def _admin(self, method: str, path: str, token: str | None, **kw: Any) -> Any:
        r = self.client.request(method, path, headers={"Authorization": f"Bearer {token or ''}"}, **kw)
        _raise_for(r)
        return r.json()

    def review_list(self, token: str | None, limit: int = 20, status: str = "unreviewed") -> list[dict[str, Any]]:
        return self._admin("GET", "/api/admin/answers", token, params={"limit": limit, "status": status})

    def review_save(self, token: str | None, answer_id: str, points: list[str], verdict: str, **extra: Any) -> dict[str, Any]:
        return self._admin("PUT", f"/api/admin/answers/{quote(str(answer_id), safe='')}/review", token,
                           json={"points": points, "verdict": verdict, **extra})

    def review_export(self, token: str | None) -> dict[str, Any]:
        return self._admin("POST", "/api/admin/reviews/export", token)
