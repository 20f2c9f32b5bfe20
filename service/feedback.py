"""Answers and their feedback, kept durably in one SQLite file beside the index.

Every answer is stored at ask time (question, rewritten question, effective filters, the answer
with its points and citations), so that feedback can name it by ``answer_id`` and a follow-up such
as "第二条具体怎么做的？" can look up the points of the previous turn. A small in-memory LRU in
front of the table serves those look-ups without a query.

File: ``$DAFU_HOME/feedback.sqlite`` (default ``~/.local/share/dafu/feedback.sqlite``), whichever index is
served, so `dafu feedback export` and `dafu feedback review` find it without options. Each answer records the
index version it was made with. Versions before this one kept the file beside the index folder
(:func:`legacy_feedback_path`); the commands read that file when the new one does not exist yet.
The same file holds the staff's reviews of answers (:mod:`service.review`).
"""
from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator

from index.errors import DafuError
from index.settings import Settings

RATINGS = ("up", "down")
EXPORT_FORMATS = ("csv", "jsonl")
EXPORT_COLUMNS = ("feedback_id", "created", "answer_id", "rating", "comment", "question", "rewritten_question",
                  "filters", "no_answer", "answer_markdown", "citations", "index_version", "answered")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    answer_id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    question TEXT NOT NULL,
    rewritten_question TEXT NOT NULL,
    filters TEXT NOT NULL,
    index_version TEXT NOT NULL,
    answer TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    feedback_id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    answer_id TEXT NOT NULL REFERENCES answers(answer_id),
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS feedback_answer ON feedback(answer_id);
CREATE TABLE IF NOT EXISTS reviews (
    answer_id TEXT PRIMARY KEY REFERENCES answers(answer_id),
    created TEXT NOT NULL,
    reviewer TEXT NOT NULL DEFAULT '',
    review TEXT NOT NULL
);
"""


class UnknownAnswerError(DafuError):
    def __init__(self, answer_id: str):
        self.answer_id = answer_id
        super().__init__(f"no answer with id {answer_id!r}; answer_id must come from a POST /api/ask response of this service")


def feedback_path(settings: Settings) -> Path:
    return Path(settings.home) / "feedback.sqlite"


def legacy_feedback_path(settings: Settings) -> Path | None:
    """Where earlier versions kept feedback (beside the index folder), when that file exists and differs."""
    old = settings.resolved_index_dir.parent / "feedback.sqlite"
    return old if old.exists() and old.resolve() != feedback_path(settings).resolve() else None


def existing_feedback_path(settings: Settings) -> Path:
    """The feedback file to read: $DAFU_HOME's, or the one beside the index when only that one exists."""
    path = feedback_path(settings)
    if not path.exists() and (old := legacy_feedback_path(settings)) is not None:
        return old
    return path


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


class FeedbackStore:
    """Thread-safe (one connection, one lock); WAL so readers (export) do not block the service."""

    def __init__(self, path: Path, lru_size: int = 512, keep_answers: int = 20_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.commit()
        self._lock = threading.Lock()
        self._lru: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lru_size = lru_size
        self._keep = keep_answers
        self._inserts = 0

    # -- answers ----------------------------------------------------------------
    def save_answer(self, answer: dict[str, Any], filters: dict[str, Any], index_version: str,
                    context: dict[str, Any] | None = None) -> None:
        """`context`: how it was asked ({"history": [earlier questions], "request_filters": {…}}), kept with the
        answer so that a reviewed answer becomes a gold case asked the same way."""
        if context is not None:
            answer = {**answer, "context": context}
        rec = {**answer, "filters": filters, "index_version": index_version}
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                (answer["answer_id"], _now(), answer.get("question", ""), answer.get("rewritten_question", ""),
                 json.dumps(filters, ensure_ascii=False), index_version, json.dumps(answer, ensure_ascii=False)))
            self._db.commit()
            self._remember(rec)
            self._inserts += 1
            if self._inserts % 1000 == 0:
                self._prune()

    def get_answer(self, answer_id: str) -> dict[str, Any] | None:
        """The stored answer (POST /api/ask's body plus `filters` and `index_version`), or None."""
        with self._lock:
            if answer_id in self._lru:
                self._lru.move_to_end(answer_id)
                return self._lru[answer_id]
            row = self._db.execute("SELECT answer, filters, index_version FROM answers WHERE answer_id = ?",
                                   (answer_id,)).fetchone()
            if row is None:
                return None
            rec = {**json.loads(row[0]), "filters": json.loads(row[1]), "index_version": row[2]}
            self._remember(rec)
            return rec

    def _remember(self, rec: dict[str, Any]) -> None:
        self._lru[rec["answer_id"]] = rec
        self._lru.move_to_end(rec["answer_id"])
        while len(self._lru) > self._lru_size:
            self._lru.popitem(last=False)

    def _prune(self) -> None:
        """Drop the oldest answers beyond `keep_answers`, never one that has feedback or a review."""
        self._db.execute(
            "DELETE FROM answers WHERE answer_id IN (SELECT answer_id FROM answers "
            "WHERE answer_id NOT IN (SELECT answer_id FROM feedback) AND answer_id NOT IN (SELECT answer_id FROM reviews) "
            "ORDER BY rowid DESC LIMIT -1 OFFSET ?)",
            (self._keep,))
        self._db.commit()

    # -- feedback ---------------------------------------------------------------
    def add_feedback(self, answer_id: str, rating: str, comment: str | None = None) -> dict[str, Any]:
        if rating not in RATINGS:
            raise DafuError(f"rating {rating!r} is not accepted; use one of: {', '.join(RATINGS)}")
        if self.get_answer(answer_id) is None:
            raise UnknownAnswerError(answer_id)
        created = _now()
        with self._lock:
            cur = self._db.execute("INSERT INTO feedback (created, answer_id, rating, comment) VALUES (?, ?, ?, ?)",
                                   (created, answer_id, rating, comment or ""))
            self._db.commit()
            fid = int(cur.lastrowid)
        return {"feedback_id": fid, "answer_id": answer_id, "rating": rating, "comment": comment or "", "created": created}

    def counts(self) -> dict[str, int]:
        with self._lock:
            answers = self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            rows = dict(self._db.execute("SELECT rating, COUNT(*) FROM feedback GROUP BY rating").fetchall())
        return {"answers": int(answers), "up": int(rows.get("up", 0)), "down": int(rows.get("down", 0))}

    def iter_feedback(self) -> Iterator[dict[str, Any]]:
        """Every feedback row joined with its answer, oldest first (for export)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT f.feedback_id, f.created, f.answer_id, f.rating, f.comment, a.question, a.rewritten_question, "
                "a.filters, a.index_version, a.answer, a.created FROM feedback f JOIN answers a USING (answer_id) "
                "ORDER BY f.feedback_id").fetchall()
        for fid, created, aid, rating, comment, q, rq, flt, ver, ans, answered in rows:
            a = json.loads(ans)
            yield {"feedback_id": fid, "created": created, "answer_id": aid, "rating": rating, "comment": comment,
                   "question": q, "rewritten_question": rq, "filters": json.loads(flt),
                   "no_answer": bool(a.get("no_answer")), "answer_markdown": a.get("answer_markdown", ""),
                   "points": a.get("points", []), "citations": a.get("citations", []),
                   "index_version": ver, "answered": answered}

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read rows (used by service.review, which keeps its table in this file)."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def write(self, sql: str, params: tuple = (), script: bool = False) -> None:
        with self._lock:
            if script:
                self._db.executescript(sql)
            else:
                self._db.execute(sql, params)
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()


def export_feedback(store: FeedbackStore, fmt: str, out: io.TextIOBase) -> int:
    """Write every feedback row as CSV (nested fields as JSON text) or JSONL; returns the row count."""
    if fmt not in EXPORT_FORMATS:
        raise DafuError(f"export format {fmt!r} is not supported; use one of: {', '.join(EXPORT_FORMATS)}")
    n = 0
    writer = None
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
    for row in store.iter_feedback():
        n += 1
        if writer is None:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            flat = dict(row)
            for k in ("filters", "citations"):
                flat[k] = json.dumps(row[k], ensure_ascii=False)
            writer.writerow(flat)
    return n
