"""ServiceCore: the in-process service behind the HTTP API and the web chat (implements DafuBackend).

State: the live (LoadedIndex, Retriever) pair is one immutable :class:`IndexState`, held in one
attribute and replaced by a single assignment. Every request reads ``self._state`` once and uses
that pair to the end, so requests in flight during an admin update finish on the version they
started with. Admin writes (upload, delete, rebuild) are serialized by a lock; the Indexer writes a
new version atomically and the new pair is built completely before the swap. The encoder is loaded
once and shared by every Retriever and Indexer.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import re
import uuid
import secrets
import shutil
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from index.backends import make_indexer, open_store
from index.builder import BuildResult
from index.departments import department_table
from index.embed import Encoder, load_encoder
from index.errors import DafuError, IndexNotFoundError
from index.loader import READERS
from index.settings import Settings
from index.store import LoadedIndex
from service.answer import answer_question
from service.feedback import FeedbackStore, feedback_path
from service.review import ReviewStore, export_gold
from service.filters import Filters, dept_term, index_filter_report, term_hits
from service.hints import annotate_answer
from service.followup import retrieval_query, rewrite
from service.retrieval import Retriever

FILTER_KEYS = tuple(f.name for f in dataclasses.fields(Filters))
ACCEPTED_SUFFIXES = tuple(sorted(s for s in READERS if s))
ANSWER_CACHE_SIZE = 1024


class AdminError(DafuError):
    """The admin token is missing or wrong, or admin functions are off; `status` is the HTTP status."""

    def __init__(self, message: str, status: int = 401):
        self.status = status
        super().__init__(message)


class UploadRejectedError(DafuError):
    """An uploaded file is refused before indexing (type or size); `status` is the HTTP status."""

    def __init__(self, message: str, status: int = 415):
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class IndexState:
    index: LoadedIndex
    retriever: Retriever
    size_bytes: int
    loaded_at: float


class QueryCachingEncoder:
    """Wraps an encoder: single query vectors are kept in an LRU (repeated questions skip the model)."""

    def __init__(self, encoder: Encoder, size: int = 4096) -> None:
        self.inner = encoder
        self.name, self.dim = encoder.name, encoder.dim
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != 1:
            return self.inner.encode_queries(texts)
        key = texts[0]
        with self._lock:
            v = self._cache.get(key)
            if v is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return v[None, :].copy()
        out = self.inner.encode_queries(texts)
        with self._lock:
            self.misses += 1
            self._cache[key] = np.array(out[0], copy=True)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return out

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_passages(texts)


def _safe_name(name: str, n: int) -> str:
    base = Path((name or "").replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f/]", "", base).strip().lstrip(".") or f"upload-{n}"
    return base[-120:]


class ServiceCore:
    """Implements service.protocol.DafuBackend in-process. Answers are cached per (index version, query,
    filters, top_k): a repeated question skips retrieval and answering but gets its own answer_id."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None) -> None:
        self.settings = settings
        self._encoder: QueryCachingEncoder | None = QueryCachingEncoder(encoder) if encoder is not None else None
        self._encoder_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._state: IndexState | None = None
        self._answers: OrderedDict[tuple, dict[str, Any]] = OrderedDict()  # (version, query, filters, top_k) -> answer
        self._answers_lock = threading.Lock()
        self.answer_cache_hits = self.answer_cache_misses = 0
        self._load_error: DafuError | None = None
        self.store = open_store(settings)  # files (FAISS backend) or Milvus
        self._feedback: FeedbackStore | None = None
        self._feedback_lock = threading.Lock()
        self._last_check = 0.0
        self._reloading = threading.Event()

    # -- life cycle -------------------------------------------------------------------------------
    @property
    def encoder(self) -> QueryCachingEncoder:
        if self._encoder is None:
            with self._encoder_lock:
                if self._encoder is None:
                    s = self.settings
                    self._encoder = QueryCachingEncoder(load_encoder(s.embed_model, s.embed_device, s.embed_batch_size,
                                                                         threads=s.query_threads))
        return self._encoder

    def start(self) -> None:
        """Load the index (building the bundled sample when no index is configured). Never raises a
        DafuError: a missing or mismatched index leaves the service up but not ready (/readyz 503)."""
        try:
            from service.gazetteer import warm_up

            warm_up()  # the place tagger: a second now, not inside the first question
            from index.threads import limit_for_questions

            limit_for_questions(self.settings.query_threads)  # one BLAS/OpenMP thread per question
            if self.settings.retriever != "bm25":
                _ = self.encoder
            default = self.settings.uses_default_index if self.settings.backend == "faiss" else not self.settings.milvus_uri
            if not self.store.exists() and default:
                sample = Path(str(resources.files("index").joinpath("data/sample")))
                with self._write_lock:
                    make_indexer(self.settings, encoder=self.encoder).build([sample])
            self._swap(self.store.load())
        except DafuError as e:
            self._load_error = e

    @property
    def feedback_store(self) -> FeedbackStore:
        """Answers and feedback (SQLite beside the index); opened on first use, reopened after close()."""
        if self._feedback is None:
            with self._feedback_lock:
                if self._feedback is None:
                    self._feedback = FeedbackStore(feedback_path(self.settings))
        return self._feedback

    def close(self) -> None:
        with self._feedback_lock:
            if self._feedback is not None:
                self._feedback.close()
                self._feedback = None

    def _swap(self, index: LoadedIndex) -> None:
        retriever = Retriever(index, self.settings, encoder=self.encoder if self.settings.retriever != "bm25" else self._encoder)
        try:
            size = self.store.size_on_disk()
        except DafuError:
            size = 0
        self._state = IndexState(index, retriever, size, time.time())  # the one assignment readers see
        self._load_error = None

    def state(self) -> IndexState:
        st = self._state
        if st is None:
            raise self._load_error or IndexNotFoundError(f"no index loaded from {self.settings.resolved_index_dir}")
        self._maybe_reload(st)
        return st

    def _maybe_reload(self, st: IndexState, every_s: float = 2.0) -> None:
        """Pick up a version written by another process (`dafu index add` while serving): at most every
        `every_s` seconds look at CURRENT; a newer version is loaded in the background and swapped in,
        requests meanwhile keep using the one they hold."""
        now = time.monotonic()
        if now - self._last_check < every_s or self._reloading.is_set():
            return
        self._last_check = now
        try:
            cur = self.store.current_version()
        except DafuError:
            return
        if cur is None or cur.name == st.index.version:
            return
        self._reloading.set()

        def work() -> None:
            try:
                with self._write_lock:
                    live = self.store.current_version()
                    if live is not None and self._state is not None and live.name != self._state.index.version:
                        self._swap(self.store.load())
            except Exception:  # a bad new version must not take down the one being served
                pass
            finally:
                self._reloading.clear()

        threading.Thread(target=work, name="dafu-reload", daemon=True).start()

    @property
    def ready(self) -> bool:
        return self._state is not None

    @property
    def load_error(self) -> str | None:
        return str(self._load_error) if self._load_error else None

    # -- questions --------------------------------------------------------------------------------
    @staticmethod
    def make_filters(filters: dict[str, Any] | Filters | None) -> Filters | None:
        if filters is None or isinstance(filters, Filters):
            return filters if filters is None or not filters.is_empty() else None
        unknown = sorted(set(filters) - set(FILTER_KEYS))
        if unknown:
            raise DafuError(f"unknown filter key(s) {', '.join(unknown)}; accepted: {', '.join(FILTER_KEYS)}")
        f = Filters(**{k: v for k, v in filters.items() if v not in (None, "", [])})
        return None if f.is_empty() else f

    def ask(self, question: str, filters: dict[str, Any] | None = None, top_k: int | None = None,
            history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        t0 = time.perf_counter()
        st = self.state()
        question = (question or "").strip()
        if not question:
            raise DafuError("question is empty; send 1–500 characters")
        req = self.make_filters(filters)
        rewritten, eff, query = question, req, question
        if history:
            rewritten, eff = rewrite(question, [dict(h) for h in history], req, lookup_answer=self.feedback_store.get_answer,
                                    gazetteer=st.retriever.gazetteer)
            if rewritten != question:
                query = retrieval_query(rewritten, eff)
        key = (st.index.version, query, json.dumps(eff.to_dict() if eff else {}, sort_keys=True, ensure_ascii=False),
               top_k or self.settings.top_k)
        with self._answers_lock:
            cached = self._answers.get(key)
            if cached is not None:
                self._answers.move_to_end(key)
                self.answer_cache_hits += 1
        if cached is not None:  # answers are deterministic per index version: reuse, with a new answer_id
            d = copy.deepcopy(cached)
            d["answer_id"] = uuid.uuid4().hex
            timings = {"retrieve_ms": 0.0, "answer_ms": 0.0, "cached": 1.0}
        else:
            a = answer_question(st.retriever, query, eff, top_k=top_k)
            d = a.to_dict()
            d["filters"] = eff.to_dict() if eff else {}
            d["index_version"] = st.index.version
            annotate_answer(d, question, index_filter_report(eff, st.index))
            timings = dict(a.timings)
            with self._answers_lock:
                self.answer_cache_misses += 1
                self._answers[key] = copy.deepcopy(d)
                while len(self._answers) > ANSWER_CACHE_SIZE:
                    self._answers.popitem(last=False)
        d["question"], d["rewritten_question"] = question, rewritten
        d["timings"] = {k: round(v, 2) for k, v in {**timings, "total_ms": (time.perf_counter() - t0) * 1000}.items()}
        self.feedback_store.save_answer(d, d["filters"], st.index.version, context={
            "history": [str(h.get("question") or "") for h in history or []], "request_filters": req.to_dict() if req else {}})
        return d

    @staticmethod
    def stream_events(answer: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """An answer as events: each point, then the citations, then "done" with the whole answer."""
        for i, p in enumerate(answer["points"]):
            yield {"event": "point", "data": {**p, "index": i}}
        yield {"event": "citations", "data": answer["citations"]}
        yield {"event": "done", "data": answer}

    def ask_stream(self, question: str, filters: dict[str, Any] | None = None, top_k: int | None = None,
                   history: list[dict[str, Any]] | None = None) -> Iterator[dict[str, Any]]:
        yield from self.stream_events(self.ask(question, filters, top_k, history))

    def search(self, query: str, filters: dict[str, Any] | None = None, top_k: int | None = None) -> dict[str, Any]:
        st = self.state()
        query = (query or "").strip()
        if not query:
            raise DafuError("query is empty; send 1–500 characters")
        res = st.retriever.search(query, filters=self.make_filters(filters), top_k=top_k)
        return {**res.to_dict(), "index_version": st.index.version}

    def track(self, topic: str, filters: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Commitments on `topic` with their evidence and status (service.track_query; same as GET /api/track).
        `filters`: district, departments, year_from, year_to, status, as_of."""
        from service.track_query import track_dicts

        f = {k: v for k, v in (filters or {}).items() if v not in (None, "", [])}
        return track_dicts(self.state().retriever, topic or "", **f)

    def track_districts(self) -> list[str]:
        from service.track_query import known_districts, tracker_of

        return known_districts(tracker_of(self.state().retriever))

    # -- replies ----------------------------------------------------------------------------------
    def get_reply(self, reply_id: str) -> dict[str, Any]:
        st = self.state()
        r = st.index.reply(reply_id)
        return {**r.to_dict(), "year": r.year, "chunks": len(st.index.reply_chunks.get(r.id, [])),
                "index_version": st.index.version}

    def list_replies(self, q: str | None = None, filters: dict[str, Any] | None = None, page: int = 1,
                     page_size: int = 20) -> dict[str, Any]:
        st = self.state()
        f = self.make_filters(filters)
        if page < 1 or not 1 <= page_size <= 200:
            raise DafuError(f"page must be ≥ 1 and page_size 1–200 (got page={page}, page_size={page_size})")
        needle = (q or "").strip().casefold()
        term = dept_term(q.strip()) if needle else None
        items = []
        for r in st.index.replies.values():
            if f is not None and not f.matches(r):
                continue
            if needle:
                hay = [r.id, r.number, r.title, r.lead_unit, r.signer, *r.co_units]
                if not any(needle in (h or "").casefold() for h in hay) and not term_hits(term, r):
                    continue
            items.append(r)
        items.sort(key=lambda r: (r.reply_date or r.signed_date, r.id), reverse=True)
        start = (page - 1) * page_size
        return {"items": [{**r.summary(), "year": r.year} for r in items[start:start + page_size]],
                "total": len(items), "page": page, "page_size": page_size,
                "filter_report": index_filter_report(f, st.index)}

    def departments(self) -> list[dict[str, Any]]:
        st = self.state()
        table = department_table()
        count: Counter[str] = Counter()
        lead: Counter[str] = Counter()
        for r in st.index.live_metas():  # the fields kept beside the letters: no letter is decoded
            units = {table.canonical(u) for u in r.units if u}
            count.update(units)
            if r.lead_unit:
                lead[table.canonical(r.lead_unit)] += 1
        return [{"name": n, "aliases": list(table.aliases.get(n, [])), "count": c, "lead_count": lead[n]}
                for n, c in sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))]

    def stats(self) -> dict[str, Any]:
        st = self.state()
        idx = st.index
        metas = idx.live_metas()
        years = Counter(r.year for r in metas if r.year)
        kinds = Counter(r.kind or "未知" for r in metas)
        fb = self.feedback_store.counts()
        return {"replies": len(idx.replies), "chunks": idx.chunk_count, "model": idx.model,
                "dim": int(idx.manifest.get("dim", 0)), "index_version": idx.version,
                "created": idx.manifest.get("created", ""), "size_bytes": st.size_bytes,
                "years": {str(y): n for y, n in sorted(years.items())}, "kinds": dict(kinds),
                "departments": len({u for r in metas for u in r.units}),
                "retriever": self.settings.retriever, "answers": fb["answers"],
                "feedback": {"up": fb["up"], "down": fb["down"]}}

    def feedback(self, answer_id: str, rating: str, comment: str | None = None) -> dict[str, Any]:
        return self.feedback_store.add_feedback(answer_id, rating, comment)

    # -- staff review (admin token) -----------------------------------------------------------------
    @property
    def reviews(self) -> ReviewStore:
        return ReviewStore(self.feedback_store)

    def check_admin(self, token: str | None) -> None:
        """The web chat's review tab: the same DAFU_ADMIN_TOKEN the admin endpoints take."""
        want = self.settings.admin_token.get_secret_value() if self.settings.admin_token else ""
        if not want:
            raise AdminError("staff review is disabled: set DAFU_ADMIN_TOKEN and restart the service", 403)
        if not token or not secrets.compare_digest(token.encode("utf-8"), want.encode("utf-8")):
            raise AdminError("admin token is wrong: enter the value of DAFU_ADMIN_TOKEN", 401)

    def review_list(self, token: str | None, limit: int = 20, status: str = "unreviewed") -> list[dict[str, Any]]:
        self.check_admin(token)
        return self.reviews.recent(limit, status)

    def review_save(self, token: str | None, answer_id: str, points: list[str], verdict: str, **extra: Any) -> dict[str, Any]:
        self.check_admin(token)
        return self.reviews.save(answer_id, points, verdict, **extra).to_dict()

    def review_export(self, token: str | None, path: str | Path | None = None) -> dict[str, Any]:
        """Write every reviewed answer as a gold case (default $DAFU_HOME/gold-reviewed.jsonl); the result has
        the file's text under `jsonl`."""
        self.check_admin(token)
        out = export_gold(self.reviews, Path(path) if path else self.settings.home / "gold-reviewed.jsonl")
        return {**out, "jsonl": Path(out["path"]).read_text("utf-8")}

    # -- admin ------------------------------------------------------------------------------------
    def check_upload(self, name: str, size: int) -> None:
        suffix = Path(name or "").suffix.lower()
        if suffix not in READERS:
            raise UploadRejectedError(f"{name or '(no name)'}: file type {suffix or '(none)'} is not accepted; "
                                      f"accepted: {', '.join(ACCEPTED_SUFFIXES)}", 415)
        if size > self.settings.max_upload_bytes:
            raise UploadRejectedError(f"{name}: {size} bytes is over the limit of {self.settings.max_upload_bytes} "
                                      f"bytes per file (DAFU_MAX_UPLOAD_BYTES)", 413)

    def upload(self, files: list[tuple[str, bytes]]) -> dict[str, Any]:
        """Index uploaded files (name, content) incrementally. Files are kept under <index parent>/uploads/."""
        if not files:
            raise DafuError(f"no file uploaded; send one or more files as multipart field 'files' ({', '.join(ACCEPTED_SUFFIXES)})")
        for name, data in files:
            self.check_upload(name, len(data))
        with self._write_lock:
            folder = self.settings.resolved_index_dir.parent / "uploads" / f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
            folder.mkdir(parents=True)
            names: dict[str, str] = {}
            paths = []
            for i, (name, data) in enumerate(files):
                safe = _safe_name(name, i)
                p = folder / (safe if not (folder / safe).exists() else f"{i}-{safe}")
                p.write_bytes(data)
                names[str(p)] = name
                paths.append(p)
            try:
                res = make_indexer(self.settings, encoder=self.encoder).add(paths)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            self._swap(self.store.load())
        def shown(src: str) -> str:  # saved path (maybe with "#row3") -> the uploaded file name
            for saved, orig in names.items():
                if src.startswith(saved):
                    return orig + src[len(saved):]
            return Path(src).name

        out = self._result(res)
        out["added"] = [{"id": r.id, "number": r.number, "title": r.title, "file": shown(r.source)} for r in res.report.replies]
        out["skipped"] = [{"file": shown(s.path), "reason": s.reason.replace(str(folder) + "/", "")}
                          for s in res.report.skipped]
        out["duplicates_merged"] = res.report.duplicates_merged
        out["warnings"] = list(res.report.warnings)
        return out

    def delete(self, reply_id: str) -> dict[str, Any]:
        with self._write_lock:
            self.state().index.reply(reply_id)  # 404 before any work
            res = make_indexer(self.settings, encoder=self.encoder).remove([reply_id])
            self._swap(self.store.load())
        return {**self._result(res), "removed": res.removed}

    def rebuild(self) -> dict[str, Any]:
        with self._write_lock:
            res = make_indexer(self.settings, encoder=self.encoder).rebuild()
            self._swap(self.store.load())
        return self._result(res)

    @staticmethod
    def _result(res: BuildResult) -> dict[str, Any]:
        return {"version": res.version, "replies": res.replies, "chunks": res.chunks, "embedded": res.embedded,
                "reused": res.reused, "seconds": round(res.total_seconds, 3)}
