"""On-disk index versions with an atomic swap.

Layout of an index folder::

    CURRENT                 name of the live version (replaced atomically with os.replace)
    v-<time>-<rand>/        one complete version: manifest.json, replies.jsonl, chunks.jsonl,
                            vectors.npy, dense.faiss, bm25/
    .build-<rand>/          a version being written; never read

A build writes a new version beside the live one and only then points CURRENT at it, so a
crash or Ctrl-C half-way leaves the previous version serving.
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from index.bm25 import BM25Index
from index.dense import DenseIndex
from index.errors import IndexCorruptError, IndexNotFoundError, UnknownReplyError
from index.records import Chunk, Reply
from index.sentences import SentenceTable

FORMAT_VERSION = 1
KEEP_VERSIONS = 2


@dataclass
class LoadedIndex:
    """A whole index version in memory. Immutable once loaded: a swap loads a new one."""

    version: str
    manifest: dict
    replies: dict[str, Reply]
    chunks: list[Chunk]
    vectors: np.ndarray
    dense: DenseIndex
    bm25: BM25Index
    sentences: SentenceTable | None = None  # None for indexes written before sentence vectors
    chunk_reply: np.ndarray = field(init=False)  # position of each chunk's reply in reply_ids
    reply_ids: list[str] = field(init=False)
    reply_chunks: dict[str, np.ndarray] = field(init=False)  # reply id -> positions of its chunks

    def __post_init__(self) -> None:
        self.reply_ids = list(self.replies)
        pos = {rid: i for i, rid in enumerate(self.reply_ids)}
        self.chunk_reply = np.array([pos[c.reply_id] for c in self.chunks], dtype=np.int64)
        groups: dict[str, list[int]] = {rid: [] for rid in self.reply_ids}
        for i, c in enumerate(self.chunks):
            groups[c.reply_id].append(i)
        self.reply_chunks = {rid: np.array(ix, dtype=np.int64) for rid, ix in groups.items()}

    @property
    def model(self) -> str:
        return self.manifest["model"]

    def reply(self, reply_id: str) -> Reply:
        try:
            return self.replies[reply_id]
        except KeyError:
            raise UnknownReplyError(reply_id) from None

    def chunks_of(self, reply_id: str) -> list[Chunk]:
        return [self.chunks[i] for i in self.reply_chunks.get(reply_id, [])]


class IndexStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- reading -----------------------------------------------------------
    def current_version(self) -> Path | None:
        cur = self.root / "CURRENT"
        if not cur.exists():
            return None
        name = cur.read_text("utf-8").strip()
        path = self.root / name
        if not name or not path.is_dir():
            raise IndexCorruptError(f"{cur} names version {name!r}, which is missing; rebuild with `dafu index build PATH --index {self.root}`")
        return path

    def exists(self) -> bool:
        try:
            return self.current_version() is not None
        except IndexCorruptError:
            return False

    def manifest(self) -> dict:
        v = self._require()
        return json.loads((v / "manifest.json").read_text("utf-8"))

    def _require(self) -> Path:
        v = self.current_version()
        if v is None:
            raise IndexNotFoundError(
                f"no index at {self.root}; build one with `dafu index build PATH… --index {self.root}`"
            )
        return v

    def load(self) -> LoadedIndex:
        v = self._require()
        try:
            manifest = json.loads((v / "manifest.json").read_text("utf-8"))
            replies = {}
            with open(v / "replies.jsonl", encoding="utf-8") as f:
                for line in f:
                    r = Reply.from_dict(json.loads(line))
                    replies[r.id] = r
            with open(v / "chunks.jsonl", encoding="utf-8") as f:
                chunks = [Chunk.from_dict(json.loads(line)) for line in f]
            vectors = np.load(v / "vectors.npy")
            dense = DenseIndex.load(v / "dense.faiss")
            bm25 = BM25Index.load(v / "bm25")
            sentences = SentenceTable.load(v)
        except (OSError, ValueError, KeyError) as e:
            raise IndexCorruptError(f"index version {v} cannot be read ({type(e).__name__}: {e}); rebuild it with `dafu index build`") from e
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexCorruptError(f"index at {v} has format {manifest.get('format')}, this dafu reads format {FORMAT_VERSION}; rebuild it")
        return LoadedIndex(v.name, manifest, replies, chunks, vectors, dense, bm25, sentences)

    # -- writing -----------------------------------------------------------
    @contextmanager
    def write_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".write.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def write(self, manifest: dict, replies: list[Reply], chunks: list[Chunk], vectors: np.ndarray,
              dense: DenseIndex, bm25: BM25Index, sentences: SentenceTable | None = None) -> Path:
        """Write a complete new version beside the live one, then swap CURRENT to it."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".build-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            manifest = {**manifest, "format": FORMAT_VERSION}
            with open(tmp / "replies.jsonl", "w", encoding="utf-8") as f:
                for r in replies:
                    f.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
            with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
                for c in chunks:
                    f.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
            np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
            dense.save(tmp / "dense.faiss")
            bm25.save(tmp / "bm25")
            if sentences is not None:
                sentences.save(tmp)
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
            for p in tmp.rglob("*"):
                if p.is_file():
                    with open(p, "rb") as fh:
                        os.fsync(fh.fileno())
            name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
            final = self.root / name
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        cur_tmp = self.root / f".CURRENT.{secrets.token_hex(4)}"
        cur_tmp.write_text(name, "utf-8")
        with open(cur_tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(cur_tmp, self.root / "CURRENT")
        self.gc()
        return final

    def gc(self) -> None:
        """Remove abandoned builds and all but the newest KEEP_VERSIONS versions."""
        live = self.current_version()
        versions = sorted((p for p in self.root.glob("v-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
        keep = {live} | set(versions[:KEEP_VERSIONS])
        for p in versions:
            if p not in keep:
                shutil.rmtree(p, ignore_errors=True)
        for p in self.root.glob(".build-*"):
            if time.time() - p.stat().st_mtime > 3600:
                shutil.rmtree(p, ignore_errors=True)

    def size_on_disk(self) -> int:
        v = self._require()
        return sum(p.stat().st_size for p in v.rglob("*") if p.is_file())
