"""ServiceCore: the in-process service behind the HTTP API and the web chat (implements DafuBackend).

State: the live (LoadedIndex, Retriever) pair is one immutable :class:`IndexState`, held in one
attribute and replaced by a single assignment. Every request reads ``self._state`` once and uses
that pair to the end, so requests in flight during an admin update finish on the version they
started with. Admin writes (upload, delete, rebuild) are serialized by a lock; the Indexer writes a
new version atomically and the new pair is built completely before the swap. The encoder is loaded
once and shared by every Retriever and Indexer; queries are cut to its input size (service/limits.py).

Robustness: ``start`` never raises — a missing, damaged or mismatched index leaves the service up
and not ready (/readyz 503 with the reason), and a good version that appears later (a rebuild, a
repair) is picked up by itself. The bundled sample is built only when the index folder holds
nothing at all. Admin writes refuse (503) while the live version is damaged. Every question goes
through one limit (service/limits.py). Answers are returned even when they cannot be stored
(service/health.py: logged, counted in /metrics, "degraded" in /readyz).
"""
from __future__ import annotations

import copy
import dataclasses
import json
import logging
import secrets
import threading
import time
import uuid
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
from index.errors import DafuError, IndexCorruptError, IndexNotFoundError, IndexWriteError, ModelMismatchError
from index.loader import READERS
from index.settings import Settings
from index.store import LoadedIndex
from service.answer import answer_question
from service.feedback import FeedbackStore, feedback_path
from service.review import ReviewStore, export_gold
from service.filters import Filters, dept_term, index_filter_report, term_hits
from service.hints import annotate_answer
from service.followup import retrieval_query, rewrite
from service.health import FeedbackGuard, index_signature
from service.limits import BoundedQueryEncoder, check_history, check_question
from service.retrieval import Retriever
from service.uploads import UploadDir, clean_orphans, safe_name
from service.units import written_units

log = logging.getLogger("dafu.service")

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


class ModelWeightsChangedError(ModelMismatchError):
    """The index was embedded with other weights of the configured model (its fingerprint differs)."""

    def __init__(self, model: str, index_fp: str, current_fp: str) -> None:
        self.index_model, self.index_dim, self.configured = model, 0, model
        DafuError.__init__(self, f"this index was embedded with other weights of {model!r} (fingerprint {index_fp}; "
                                 f"the installed model has {current_fp}); its vectors would not match new queries — "
                                 f"rebuild it (POST /api/index/rebuild or `dafu index build`)")


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
        self.fingerprint = getattr(encoder, "fingerprint", None) or "unknown"
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


class ServiceCore:
    """Implements service.protocol.DafuBackend in-process. Answers are cached per (index version, query,
    filters, top_k): a repeated question skips retrieval and answering but gets its own answer_id."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None) -> None:
        self.settings = settings
        self._encoder: QueryCachingEncoder | None = self._wrap(encoder) if encoder is not None else None
        self._encoder_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._state: IndexState | None = None
        self._answers: OrderedDict[tuple, dict[str, Any]] = OrderedDict()  # (version, query, filters, top_k) -> answer
        self._answers_lock = threading.Lock()
        self.answer_cache_hits = self.answer_cache_misses = 0
        self._load_error: DafuError | None = None
        self.store = open_store(settings)  # files (FAISS backend) or Milvus
        self.feedback_guard = FeedbackGuard(lambda: feedback_path(self.settings))
        self._last_check = 0.0
        self._reloading = threading.Event()
        self._failed_signature: tuple | None = None  # what was on disk when a load last failed
        self.reload_error: str | None = None  # a newer version on disk that could not be loaded

    def _wrap(self, encoder: Encoder) -> QueryCachingEncoder:
        return QueryCachingEncoder(BoundedQueryEncoder(encoder, max_chars=4 * self.settings.max_question_chars))

    # -- life cycle -------------------------------------------------------------------------------
    @property
    def encoder(self) -> QueryCachingEncoder:
        if self._encoder is None:
            with self._encoder_lock:
                if self._encoder is None:
                    s = self.settings
                    self._encoder = self._wrap(load_encoder(s.embed_model, s.embed_device, s.embed_batch_size,
                                                            threads=s.query_threads))
        return self._encoder

    def start(self) -> None:
        """Load the index (building the bundled sample when no index is configured and the folder holds
        nothing). Never raises: a missing, damaged or mismatched index leaves the service up but not
        ready (/readyz 503 with the reason) until a good version appears."""
        try:
            from service.gazetteer import warm_up

            warm_up()  # the place tagger: a second now, not inside the first question
            from index.threads import limit_for_questions

            limit_for_questions(self.settings.query_threads)  # one BLAS/OpenMP thread per question
            if self.settings.retriever != "bm25":
                _ = self.encoder
            default = self.settings.uses_default_index if self.settings.backend == "faiss" else not self.settings.milvus_uri
            if default and self.store.is_absent():  # a damaged index is not an absent one
                sample = Path(str(resources.files("index").joinpath("data/sample")))
                with self._write_lock:
                    make_indexer(self.settings, encoder=self.encoder).build([sample])
            self._swap(self.store.load())
        except Exception as e:  # noqa: BLE001 - the service stays up and says why it is not ready
            self._set_load_error(e)
        try:
            clean_orphans(self.uploads_root)
        except Exception:  # noqa: BLE001 - housekeeping only
            log.exception("cleaning interrupted uploads failed")

    def _set_load_error(self, e: BaseException) -> None:
        if not isinstance(e, DafuError):
            log.error("the index could not be loaded", exc_info=e)
            e = IndexCorruptError(f"the index could not be loaded ({type(e).__name__}: {e})")
        self._load_error = e
        self._failed_signature = index_signature(self.store.root)

    @property
    def uploads_root(self) -> Path:
        return self.settings.resolved_index_dir.parent / "uploads"

    @property
    def feedback_store(self) -> FeedbackStore:
        """Answers and feedback (SQLite beside the index); opened on first use, reopened after close()."""
        return self.feedback_guard.open()

    def close(self) -> None:
        self.feedback_guard.close()

    def _swap(self, index: LoadedIndex) -> None:
        if self.settings.retriever != "bm25":
            self._check_weights(index)
        retriever = Retriever(index, self.settings, encoder=self.encoder if self.settings.retriever != "bm25" else self._encoder)
        try:
            size = self.store.size_on_disk()
        except DafuError:
            size = 0
        self._state = IndexState(index, retriever, size, time.time())  # the one assignment readers see
        self._load_error = None
        self.reload_error = None
        self._failed_signature = None

    def _check_weights(self, index: LoadedIndex) -> None:
        recorded = index.manifest.get("model_fingerprint")
        current = getattr(self.encoder, "fingerprint", None)
        if (recorded and current and "unknown" not in (recorded, current) and recorded != current
                and index.manifest.get("model") == self.encoder.name):
            raise ModelWeightsChangedError(index.manifest["model"], recorded, current)

    def state(self) -> IndexState:
        st = self._state
        if st is None:
            self._maybe_recover()
            st = self._state
        if st is None:
            raise self._load_error or IndexNotFoundError(f"no index loaded from {self.settings.resolved_index_dir}")
        self._maybe_reload(st)
        return st

    def _maybe_recover(self, every_s: float = 2.0) -> None:
        """Not serving: at most every `every_s` seconds, and only when what is on disk changed since the
        last failed load, try loading again in the background (a rebuilt or repaired index is served
        without a restart)."""
        now = time.monotonic()
        if now - self._last_check < every_s or self._reloading.is_set():
            return
        self._last_check = now
        if index_signature(self.store.root) == self._failed_signature:
            return
        self._reloading.set()

        def work() -> None:
            try:
                with self._write_lock:
                    if self._state is None:
                        self._swap(self.store.load())
                        log.info("index %s loaded; serving again", self._state.index.version)
            except Exception as e:  # noqa: BLE001 - still not ready; the reason is in /readyz
                self._set_load_error(e)
            finally:
                self._reloading.clear()

        threading.Thread(target=work, name="dafu-recover", daemon=True).start()

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
        except DafuError as e:
            self.reload_error = f"{e}; still serving {st.index.version}"
            return
        if cur is None or cur.name == st.index.version:
            self.reload_error = None
            return
        sig = index_signature(self.store.root)
        if sig == self._failed_signature:
            return
        self._reloading.set()

        def work() -> None:
            try:
                with self._write_lock:
                    live = self.store.current_version()
                    if live is not None and self._state is not None and live.name != self._state.index.version:
                        self._swap(self.store.load())
            except Exception as e:  # noqa: BLE001 - a bad new version must not take down the one being served
                self._failed_signature = sig
                self.reload_error = f"{e}; still serving {st.index.version}"
                log.warning("a newer index version could not be loaded: %s", self.reload_error)
            finally:
                self._reloading.clear()

        threading.Thread(target=work, name="dafu-reload", daemon=True).start()

    @property
    def ready(self) -> bool:
        return self._state is not None

    @property
    def load_error(self) -> str | None:
        return str(self._load_error) if self._load_error else None

    def readiness(self) -> dict[str, Any]:
        """/readyz: ready or not (with the reason), and what is degraded while ready."""
        st = self._state
        if st is None:
            self._maybe_recover()
            st = self._state
        if st is None:
            return {"status": "not ready", "detail": self.load_error or "the index is still loading"}
        self._maybe_reload(st)
        degraded = [d for d in (self.feedback_guard.degraded, self.reload_error) if d]
        out: dict[str, Any] = {"status": "ready", "index_version": st.index.version}
        if degraded:
            out["detail"] = "degraded: " + " | ".join(degraded)
            out["degraded"] = degraded
        return out

    @property
    def question_limit(self) -> int:
        return self.settings.max_question_chars

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
        question = check_question(question, self.settings)
        history = check_history(history, self.settings)
        st = self.state()
        req = self.make_filters(filters)
        rewritten, eff, query = question, req, question
        if history:
            rewritten, eff = rewrite(question, history, req, lookup_answer=self.feedback_guard.get_answer,
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
        self.feedback_guard.save_answer(d, d["filters"], st.index.version, context={  # a failure is logged, never raised
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
        query = check_question(query, self.settings, "query")
        st = self.state()
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
        lead, co = written_units(r)
        return {**r.to_dict(), "year": r.year, "chunks": len(st.index.reply_chunks.get(r.id, [])),
                "lead_unit_as_written": lead, "co_units_as_written": co, "index_version": st.index.version}

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
        metas = idx.live_metas()  # the fields kept beside the letters: no letter is decoded
        years = Counter(r.year for r in metas if r.year)
        kinds = Counter(r.kind or "未知" for r in metas)
        fb = self.feedback_guard.counts() or {"answers": 0, "up": 0, "down": 0}
        return {"replies": len(idx.replies), "chunks": idx.chunk_count, "model": idx.model,
                "dim": int(idx.manifest.get("dim", 0)), "index_version": idx.version,
                "created": idx.manifest.get("created", ""), "size_bytes": st.size_bytes,
                "years": {str(y): n for y, n in sorted(years.items())}, "kinds": dict(kinds),
                "departments": len({u for r in metas for u in r.units}),
                "retriever": self.settings.retriever, "answers": fb["answers"],
                "feedback": {"up": fb["up"], "down": fb["down"]}}

    def feedback(self, answer_id: str, rating: str, comment: str | None = None) -> dict[str, Any]:
        return self.feedback_guard.add_feedback(answer_id, rating, comment)

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
        with self.feedback_guard.storage("reading answers for review"):
            return self.reviews.recent(limit, status)

    def review_save(self, token: str | None, answer_id: str, points: list[str], verdict: str, **extra: Any) -> dict[str, Any]:
        self.check_admin(token)
        with self.feedback_guard.storage("saving a review"):
            return self.reviews.save(answer_id, points, verdict, **extra).to_dict()

    def review_export(self, token: str | None, path: str | Path | None = None) -> dict[str, Any]:
        """Write every reviewed answer as a gold case (default $DAFU_HOME/gold-reviewed.jsonl); the result has
        the file's text under `jsonl`."""
        self.check_admin(token)
        with self.feedback_guard.storage("exporting reviews"):
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

    def check_upload_batch(self, count: int, total: int) -> None:
        s = self.settings
        if count > s.max_upload_files:
            raise UploadRejectedError(f"{count} files in one upload; at most {s.max_upload_files} are accepted "
                                      f"(DAFU_MAX_UPLOAD_FILES); send them in several uploads", 413)
        if total > s.max_upload_total_bytes:
            raise UploadRejectedError(f"{total} bytes in one upload; at most {s.max_upload_total_bytes} are accepted "
                                      f"(DAFU_MAX_UPLOAD_TOTAL_BYTES); send the files in several uploads", 413)

    def check_writable(self) -> None:
        """Admin writes extend the live version: while it cannot be read they would replace the user's
        index with the upload alone, so they are refused (IndexCorruptError → 503)."""
        kind, detail = self.store.state()
        if kind in ("unreadable", "corrupt"):
            raise IndexCorruptError(f"index updates are refused while the index is damaged: {detail}")
        if kind == "ok" and self._state is None and isinstance(self._load_error, IndexCorruptError):
            raise IndexCorruptError(f"index updates are refused while the index is damaged: {self._load_error}")

    def upload(self, files: list[tuple[str, bytes]]) -> dict[str, Any]:
        """Index uploaded files (name, content) incrementally. Files are kept under <index parent>/uploads/."""
        if not files:
            raise DafuError(f"no file uploaded; send one or more files as multipart field 'files' ({', '.join(ACCEPTED_SUFFIXES)})")
        for name, data in files:
            self.check_upload(name, len(data))
        self.check_upload_batch(len(files), sum(len(d) for _, d in files))
        with self._write_lock:
            self.check_writable()
            clean_orphans(self.uploads_root)
            names: dict[str, str] = {}
            try:
                up = UploadDir(self.uploads_root)
            except OSError as e:
                raise IndexWriteError(f"cannot store the upload: {e.strerror or e}; the index is unchanged") from e
            folder = up.path
            try:
                paths = []
                for i, (name, data) in enumerate(files):
                    safe = safe_name(name, i)
                    p = folder / (safe if not (folder / safe).exists() else f"{i}-{safe}")
                    p.write_bytes(data)
                    names[str(p)] = name
                    paths.append(p)
                res = make_indexer(self.settings, encoder=self.encoder).add(paths)
            except OSError as e:
                up.discard()
                raise IndexWriteError(f"cannot store the upload: {e.strerror or e}; the index is unchanged") from e
            except DafuError as e:
                up.discard()
                raise _scrubbed(e, folder, names) from e
            except BaseException:
                up.discard()
                raise
            up.finish()
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
        out["warnings"] = [w.replace(str(folder) + "/", "") for w in res.report.warnings]
        return out

    def delete(self, reply_id: str) -> dict[str, Any]:
        with self._write_lock:
            self.check_writable()
            self.state().index.reply(reply_id)  # 404 before any work
            res = make_indexer(self.settings, encoder=self.encoder).remove([reply_id])
            self._swap(self.store.load())
        return {**self._result(res), "removed": res.removed}

    def rebuild(self) -> dict[str, Any]:
        with self._write_lock:
            self.check_writable()
            res = make_indexer(self.settings, encoder=self.encoder).rebuild()
            self._swap(self.store.load())
        return self._result(res)

    @staticmethod
    def _result(res: BuildResult) -> dict[str, Any]:
        return {"version": res.version, "replies": res.replies, "chunks": res.chunks, "embedded": res.embedded,
                "reused": res.reused, "seconds": round(res.total_seconds, 3)}


def _scrubbed(e: DafuError, folder: Path, names: dict[str, str]) -> DafuError:
    """The same error, with the server's upload paths replaced by the names the files were uploaded as."""
    msg = str(e)
    for saved, orig in sorted(names.items(), key=lambda kv: -len(kv[0])):
        msg = msg.replace(saved, orig)
    msg = msg.replace(str(folder) + "/", "").replace(str(folder), "upload")
    if msg == str(e):
        return e
    out = DafuError(msg) if type(e).__init__ is not DafuError.__init__ else type(e)(msg)
    return out
