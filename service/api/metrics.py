"""Prometheus metrics on a per-app CollectorRegistry (several apps in one process do not collide).

- dafu_http_requests_total{method,route,status}, dafu_http_request_duration_seconds{method,route}
  (route is the route template, e.g. /api/replies/{reply_id}; unmatched paths share one label)
- dafu_http_requests_in_flight
- dafu_answer_stage_seconds{stage=embed|retrieve|answer|total}, dafu_answers_total{outcome}
- dafu_feedback_total{rating}, dafu_index_writes_total{op}
- read at scrape time: dafu_index_ready, dafu_index_replies, dafu_index_chunks, dafu_index_size_bytes,
  dafu_model_info{model,index_version,retriever}, dafu_{answer,query}_cache_{hits,misses}_total,
  dafu_feedback_write_failures_total (answers/feedback that could not be stored), dafu_feedback_degraded,
  dafu_rate_limited_total{bucket} (requests answered 429), dafu_query_cuts_total (queries cut to the encoder's input)
"""
from __future__ import annotations

import time
from typing import Any, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core import ServiceCore

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _IndexCollector(Collector):
    def __init__(self, core: ServiceCore, limits=None) -> None:
        self.core = core
        self.limits = limits

    def collect(self) -> Iterable[Any]:
        st = self.core._state  # one read, like a request
        ready = GaugeMetricFamily("dafu_index_ready", "1 when an index is loaded and serving")
        ready.add_metric([], 1.0 if st is not None else 0.0)
        yield ready
        if st is not None:
            for name, doc, value in (("dafu_index_replies", "replies in the live index", len(st.index.replies)),
                                     ("dafu_index_chunks", "chunks in the live index", st.index.chunk_count),
                                     ("dafu_index_size_bytes", "size of the live index version on disk", st.size_bytes)):
                g = GaugeMetricFamily(name, doc)
                g.add_metric([], float(value))
                yield g
            info = InfoMetricFamily("dafu_model", "embedding model and index version being served")
            info.add_metric([], {"model": st.index.model, "index_version": st.index.version,
                                 "retriever": self.core.settings.retriever})
            yield info
        enc = self.core._encoder
        counts = [("dafu_answer_cache_hits", "answers served from the answer cache", self.core.answer_cache_hits),
                  ("dafu_answer_cache_misses", "answers computed", self.core.answer_cache_misses)]
        if enc is not None:
            counts += [("dafu_query_cache_hits", "query embeddings served from the LRU", enc.hits),
                       ("dafu_query_cache_misses", "query embeddings computed", enc.misses)]
        guard = self.core.feedback_guard
        counts.append(("dafu_feedback_write_failures", "answers or feedback that could not be stored", guard.failures))
        inner = getattr(enc, "inner", None)
        if inner is not None and hasattr(inner, "cuts"):
            counts.append(("dafu_query_cuts", "queries cut to the encoder's maximum input", inner.cuts))
        for name, doc, value in counts:
            c = CounterMetricFamily(name, doc)
            c.add_metric([], float(value))
            yield c
        deg = GaugeMetricFamily("dafu_feedback_degraded", "1 while the last attempt to store an answer or feedback failed")
        deg.add_metric([], 1.0 if guard.degraded else 0.0)
        yield deg
        limits = self.limits
        if limits is not None:
            c = CounterMetricFamily("dafu_rate_limited", "requests refused with 429, by bucket", labels=["bucket"])
            for bucket, n in sorted(limits.refused.items()):
                c.add_metric([bucket], float(n))
            yield c


class Metrics:
    def __init__(self, core: ServiceCore, limits=None) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("dafu_http_requests", "HTTP requests", ["method", "route", "status"], registry=r)
        self.latency = Histogram("dafu_http_request_duration_seconds", "HTTP request latency (to the last byte)",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge("dafu_http_requests_in_flight", "HTTP requests being served", registry=r)
        self.stage = Histogram("dafu_answer_stage_seconds", "time per answering stage", ["stage"],
                               buckets=LATENCY_BUCKETS, registry=r)
        self.answers = Counter("dafu_answers", "answers given", ["outcome"], registry=r)
        self.feedback = Counter("dafu_feedback", "feedback received", ["rating"], registry=r)
        self.index_writes = Counter("dafu_index_writes", "admin index updates (each swaps in a new version)", ["op"],
                                    registry=r)
        r.register(_IndexCollector(core, limits))

    def observe_answer(self, answer: dict[str, Any]) -> None:
        t = answer.get("timings") or {}
        for stage in ("embed", "retrieve", "answer", "total"):
            if f"{stage}_ms" in t:
                self.stage.labels(stage).observe(t[f"{stage}_ms"] / 1000)
        self.answers.labels("no_answer" if answer.get("no_answer") else "answered").inc()

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """Pure ASGI (streams pass through untouched): counts and times every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        t0 = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        m = self.metrics
        m.in_flight.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            m.in_flight.dec()
            route = scope.get("route")
            label = getattr(route, "path", None)
            if label is None:
                label = "unmatched"
            elif label == "":
                label = "/"
            method = scope.get("method", "")
            method = method if method in METHODS else "OTHER"
            m.requests.labels(method, label, str(status)).inc()
            m.latency.labels(method, label).observe(time.perf_counter() - t0)
