"""What the web chat (and other in-process clients) need from the service, as one protocol.

`service.core.ServiceCore` implements it in-process (used by the FastAPI routes and by the web chat
mounted in `dafu serve`); `ui.client.HttpBackend` implements it over HTTP for `dafu ui --api URL`.
Every method returns plain JSON-able dicts shaped exactly like the HTTP API's responses.
"""
from __future__ import annotations

from typing import Any, Iterator, Protocol


class DafuBackend(Protocol):
    def ask(self, question: str, filters: dict[str, Any] | None = None, top_k: int | None = None,
            history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Same body as POST /api/ask's response."""

    def ask_stream(self, question: str, filters: dict[str, Any] | None = None, top_k: int | None = None,
                   history: list[dict[str, Any]] | None = None) -> Iterator[dict[str, Any]]:
        """Events {"event": "point"|"citations"|"done", "data": …}; "done" carries the full answer."""

    def search(self, query: str, filters: dict[str, Any] | None = None, top_k: int | None = None) -> dict[str, Any]:
        """Same body as POST /api/search's response."""

    def get_reply(self, reply_id: str) -> dict[str, Any]:
        """Same body as GET /api/replies/{id}: all fields and `text` (offsets of citations slice it)."""

    def list_replies(self, q: str | None = None, filters: dict[str, Any] | None = None, page: int = 1,
                     page_size: int = 20) -> dict[str, Any]:
        """Same body as GET /api/replies: {"items": [...], "total": n, "page": p, "page_size": s}."""

    def departments(self) -> list[dict[str, Any]]:
        """Same body as GET /api/departments: [{"name", "aliases", "count"}]."""

    def feedback(self, answer_id: str, rating: str, comment: str | None = None) -> dict[str, Any]:
        """Same body as POST /api/feedback's response."""

    def stats(self) -> dict[str, Any]:
        """Same body as GET /api/stats."""

    def track(self, topic: str, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Same body as GET /api/track: commitments with `source`, `due`, `status`, `evidence`. `filters`: district,
        departments, year_from, year_to, status, as_of."""

    def track_districts(self) -> list[str]:
        """Same body as GET /api/track/districts."""
