"""What keeps answering independent of feedback storage, and how a damaged index is noticed to be fixed.

:class:`FeedbackGuard` wraps the FeedbackStore: a failure to open, write or read it (read-only folder,
full disk, locked database) is logged, counted (``dafu_feedback_write_failures_total`` in /metrics)
and reported as "degraded" in /readyz, and the caller goes on: an answer is returned even when it
cannot be stored. A later successful write clears the degraded state.

:func:`index_signature` is a cheap fingerprint of what is on disk (CURRENT and the stat of the live
version's files): a load that failed is retried only when it changes, so a bad index is not reloaded
over and over, and a good version that appears (a rebuild, a repair) is picked up.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from index.errors import DafuError
from service.feedback import FeedbackStore

log = logging.getLogger("dafu.service")
STORAGE_ERRORS = (sqlite3.Error, OSError)


class FeedbackUnavailableError(DafuError):
    """Feedback cannot be stored right now (HTTP 503); answering is not affected."""


class FeedbackGuard:
    def __init__(self, path_fn: Callable[[], Path]) -> None:
        self._path_fn = path_fn
        self._store: FeedbackStore | None = None
        self._lock = threading.Lock()
        self.failures = 0
        self.last_error: str | None = None
        self.last_error_at: float | None = None

    @property
    def degraded(self) -> str | None:
        return self.last_error

    def _failed(self, what: str, e: BaseException) -> None:
        self.failures += 1
        self.last_error = f"feedback storage: {what} failed ({type(e).__name__}: {e})"
        self.last_error_at = time.time()
        if self.failures == 1 or self.failures % 100 == 0:
            log.warning("%s [%d failure(s) so far]; answers are still returned", self.last_error, self.failures)

    def _ok(self) -> None:
        if self.last_error is not None:
            log.info("feedback storage works again (after %d failure(s))", self.failures)
        self.last_error = None

    def open(self) -> FeedbackStore:
        """The store, opened on first use (raises what opening raises)."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = FeedbackStore(self._path_fn())
        return self._store

    def save_answer(self, answer: dict[str, Any], filters: dict[str, Any], index_version: str, **kw: Any) -> bool:
        try:
            self.open().save_answer(answer, filters, index_version, **kw)
        except STORAGE_ERRORS as e:
            self._failed("saving an answer", e)
            return False
        self._ok()
        return True

    def get_answer(self, answer_id: str) -> dict[str, Any] | None:
        try:
            return self.open().get_answer(answer_id)
        except STORAGE_ERRORS as e:
            self._failed("reading an earlier answer", e)
            return None

    def add_feedback(self, answer_id: str, rating: str, comment: str | None) -> dict[str, Any]:
        try:
            store = self.open()
            known = store.get_answer(answer_id) is not None
            if not known and self.last_error:
                raise FeedbackUnavailableError(f"feedback cannot be stored right now ({self.last_error}); "
                                               f"try again later")
            out = store.add_feedback(answer_id, rating, comment)
        except STORAGE_ERRORS as e:
            self._failed("saving feedback", e)
            raise FeedbackUnavailableError(f"feedback cannot be stored right now ({type(e).__name__}: {e}); "
                                           f"the rating was not saved, try again later") from e
        self._ok()
        return out

    def counts(self) -> dict[str, int] | None:
        try:
            return self.open().counts()
        except STORAGE_ERRORS as e:
            self._failed("counting answers", e)
            return None

    @contextmanager
    def storage(self, what: str) -> Iterator[None]:
        """Other work on the store (staff review): a storage failure is counted and becomes a 503."""
        try:
            yield
        except STORAGE_ERRORS as e:
            self._failed(what, e)
            raise FeedbackUnavailableError(f"the answer store cannot be used right now ({type(e).__name__}: {e}); "
                                           f"try again later") from e

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                try:
                    self._store.close()
                except STORAGE_ERRORS:
                    pass
                self._store = None


def index_signature(root: Path) -> tuple:
    """CURRENT's text and the (name, size, mtime) of the live version's files; errors become part of it."""
    sig: list[Any] = []
    try:
        cur = (root / "CURRENT").read_text("utf-8").strip()
        sig.append(cur)
        v = root / cur
        if cur and v.is_dir():
            for p in sorted(v.rglob("*")):
                st = p.stat()
                sig.append((p.name, st.st_size, st.st_mtime_ns))
            try:  # the segments the version names (index/store.py), where its data lives
                import json

                names = json.loads((v / "manifest.json").read_text("utf-8")).get("segments", [])
            except (OSError, ValueError, AttributeError):
                names = []
            for n in names if isinstance(names, list) else []:
                for p in sorted((root / "segments" / str(n)).rglob("*")):
                    st = p.stat()
                    sig.append((n, p.name, st.st_size, st.st_mtime_ns))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        sig.append(type(e).__name__)
    return tuple(sig)
