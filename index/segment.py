"""One immutable segment of an index: the replies, chunks, vectors, dense index and BM25 postings of
a set of replies. An index version lists its segments (index/store.py); adding replies writes a
small new segment instead of rewriting the index, and segments are merged now and then
(index/builder.py, ``merge_segments``).

Files of a segment folder::

    meta.json                counts, dim, the dense index's kind and parameters
    replies.jsonl            one reply per line (Reply.to_dict); replies.off.npy: byte offsets (n+1)
    chunks.jsonl             one chunk per line, grouped by reply in reply order; chunks.off.npy
    reply_ids.json           reply ids by position; reply_meta.json: the fields filters read (ReplyMeta)
    reply_ptr.npy            chunks of reply i are positions reply_ptr[i]:reply_ptr[i+1]
    chunk_reply.npy          reply position of each chunk; chunk_part.npy, chunk_label.npy: codes
    vectors.f16              float16 vectors, row per chunk (memory-mapped when read)
    sentences.npz            the sentence table (index/sentences.py): reply, start, end, label, chunk of each
                             row (rows grouped by reply; sent_ptr: rows of reply i) — sentence_vectors.f16
    dense.faiss              the approximate index (absent for exact search: rebuilt from vectors)
    bm25/                    postings (index/bm25.py)
    commitments.jsonl        the replies' promises (index/commitments.py), for `dafu track`

Records are decoded only when asked for (`reply(i)`, `chunk(i)`): opening a segment of a million
chunks reads the small arrays and maps the rest.
"""
from __future__ import annotations

import json
import mmap
import os
import secrets
import shutil
import threading
import time
from array import array
from pathlib import Path

import numpy as np

try:  # a faster JSON decoder where installed (gradio depends on it); the standard one otherwise
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    _loads = json.loads

from index.bm25 import Postings, PostingsBuilder
from index.dense import DenseIndex
from index.facets import ReplyMeta
from index.records import Chunk, Reply

SEGMENT_FORMAT = 1
PARTS = ("title", "proposal", "reply")
LABELS = ("done", "plan", "courtesy", "heading", "proposal", "title")


def _code(values: tuple[str, ...], v: str) -> int:
    try:
        return values.index(v)
    except ValueError:
        return 255


def evidence_mask(parts: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Chunks that can support an answer: everything except the courtesy text of the reply part."""
    return (parts != PARTS.index("reply")) | (labels != LABELS.index("courtesy"))


class SegmentWriter:
    """Streams replies into a new segment folder; `finish` builds the dense index and publishes it."""

    def __init__(self, segments_dir: Path, dim: int) -> None:
        self.segments_dir = Path(segments_dir)
        self.segments_dir.mkdir(parents=True, exist_ok=True)
        self.tmp = self.segments_dir / f".build-{secrets.token_hex(4)}"
        self.tmp.mkdir()
        self.dim = dim
        self._replies = open(self.tmp / "replies.jsonl", "wb")
        self._chunks = open(self.tmp / "chunks.jsonl", "wb")
        self._vectors = open(self.tmp / "vectors.f16", "wb")
        self._roff, self._coff = array("q", [0]), array("q", [0])
        self.reply_ids: list[str] = []
        self._meta: list[list] = []
        self._ptr = array("q", [0])
        self._chunk_reply = array("i")
        self._part, self._label = array("B"), array("B")
        self._postings = PostingsBuilder()
        self.n_chunks = 0
        self._sentences = open(self.tmp / "sentence_vectors.f16", "wb")
        self._commitments = open(self.tmp / "commitments.jsonl", "wb")
        self.n_commitments = 0
        self._s_reply, self._s_start, self._s_end = array("i"), array("i"), array("i")
        self._s_label, self._s_chunk = array("b"), array("i")
        self._s_ptr = array("q", [0])

    def _write_vectors(self, vectors: np.ndarray, n: int) -> None:
        v = np.asarray(vectors, dtype=np.float16).reshape(n, self.dim) if n else np.zeros((0, self.dim), np.float16)
        self._vectors.write(np.ascontiguousarray(v).tobytes())

    def add(self, reply: Reply, chunks: list[Chunk], vectors: np.ndarray, tokens: list[list[str]],
            sentences: np.ndarray | None = None, sentence_vectors: np.ndarray | None = None,
            commitments: list | None = None) -> None:
        """One reply with its chunks (in order), their vectors and BM25 tokens, its sentence rows
        (start, end, label code, chunk index within `chunks`) with their vectors, and its commitments."""
        if len(chunks) != len(tokens) or len(chunks) != len(vectors):
            raise ValueError(f"reply {reply.id}: {len(chunks)} chunks, {len(vectors)} vectors, {len(tokens)} token lists")
        line = (json.dumps(reply.to_dict(), ensure_ascii=False) + "\n").encode("utf-8")
        clines = [(json.dumps(c.to_dict(), ensure_ascii=False) + "\n").encode("utf-8") for c in chunks]
        self.add_raw(reply.id, ReplyMeta.of(reply), line, clines, [c.part for c in chunks], [c.label for c in chunks], vectors,
                     sentences, sentence_vectors)
        for toks in tokens:
            self._postings.add(toks)
        self.add_commitment_lines([(json.dumps(c.to_dict(), ensure_ascii=False) + "\n").encode("utf-8")
                                   for c in (commitments or [])])

    def add_commitment_lines(self, lines: list[bytes]) -> None:
        for line in lines:
            self._commitments.write(line)
        self.n_commitments += len(lines)

    def add_raw(self, reply_id: str, meta: ReplyMeta, reply_line: bytes, chunk_lines: list[bytes], parts: list,
                labels: list, vectors: np.ndarray, sentences: np.ndarray | None = None,
                sentence_vectors: np.ndarray | None = None) -> None:
        """A reply as stored lines (merging copies them without decoding); postings come separately.
        `sentences`: int array (rows, 4) of start, end, label code, chunk index within this reply's chunks."""
        r = len(self.reply_ids)
        base = self.n_chunks
        if sentences is not None and len(sentences):
            sentences = np.asarray(sentences, np.int64).reshape(-1, 4)
            sv = np.asarray(sentence_vectors, np.float16).reshape(len(sentences), self.dim)
            self._s_reply.extend([r] * len(sentences))
            self._s_start.extend(sentences[:, 0].tolist())
            self._s_end.extend(sentences[:, 1].tolist())
            self._s_label.extend(sentences[:, 2].tolist())
            self._s_chunk.extend((sentences[:, 3] + base).tolist())
            self._sentences.write(np.ascontiguousarray(sv).tobytes())
        self._s_ptr.append(len(self._s_reply))
        self.reply_ids.append(reply_id)
        self._meta.append(meta.to_list())
        self._replies.write(reply_line)
        self._roff.append(self._roff[-1] + len(reply_line))
        for cl, p, lab in zip(chunk_lines, parts, labels):
            self._chunks.write(cl)
            self._coff.append(self._coff[-1] + len(cl))
            self._chunk_reply.append(r)
            self._part.append(p if isinstance(p, int) else _code(PARTS, p))
            self._label.append(lab if isinstance(lab, int) else _code(LABELS, lab))
        self.n_chunks += len(chunk_lines)
        self._ptr.append(self.n_chunks)
        self._write_vectors(vectors, len(chunk_lines))

    def finish(self, dense_kind: str = "auto", ann_threshold: int = 150_000, postings: Postings | None = None,
               nlist: int | None = None, nprobe: int | None = None) -> str:
        """Write the arrays, build the dense index, fsync, and move the folder into place; returns its name."""
        try:
            for f in (self._replies, self._chunks, self._vectors, self._sentences, self._commitments):
                f.close()
            t = self.tmp
            arr = lambda a, dt: np.frombuffer(a, dt) if len(a) else np.zeros(0, dt)  # noqa: E731
            np.savez(t / "sentences.npz", reply=arr(self._s_reply, np.int32), start=arr(self._s_start, np.int32),
                     end=arr(self._s_end, np.int32), label=arr(self._s_label, np.int8), chunk=arr(self._s_chunk, np.int32),
                     sent_ptr=np.frombuffer(self._s_ptr, np.int64))
            np.save(t / "replies.off.npy", np.frombuffer(self._roff, np.int64))
            np.save(t / "chunks.off.npy", np.frombuffer(self._coff, np.int64))
            np.save(t / "reply_ptr.npy", np.frombuffer(self._ptr, np.int64))
            np.save(t / "chunk_reply.npy", np.frombuffer(self._chunk_reply, np.int32) if self.n_chunks else np.zeros(0, np.int32))
            np.save(t / "chunk_part.npy", np.frombuffer(self._part, np.uint8) if self.n_chunks else np.zeros(0, np.uint8))
            np.save(t / "chunk_label.npy", np.frombuffer(self._label, np.uint8) if self.n_chunks else np.zeros(0, np.uint8))
            (t / "reply_ids.json").write_text(json.dumps(self.reply_ids, ensure_ascii=False), "utf-8")
            (t / "reply_meta.json").write_text(json.dumps(self._meta, ensure_ascii=False), "utf-8")
            (postings if postings is not None else self._postings.finish()).save(t / "bm25")
            vectors = _map_vectors(t / "vectors.f16", self.n_chunks, self.dim)
            t0 = time.perf_counter()
            dense = DenseIndex.build(vectors, ann_threshold=ann_threshold, kind=dense_kind, nlist=nlist, nprobe=nprobe)
            dense.save(t / "dense.faiss")
            meta = {"format": SEGMENT_FORMAT, "replies": len(self.reply_ids), "chunks": self.n_chunks, "dim": self.dim,
                    "sentences": len(self._s_reply), "commitments": self.n_commitments,
                    "dense": dense.describe(), "dense_build_s": round(time.perf_counter() - t0, 3),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
            del dense, vectors
            (t / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
            _fsync_tree(t)
            name = f"s-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
            os.rename(t, self.segments_dir / name)
            return name
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        for f in (self._replies, self._chunks, self._vectors, self._sentences, self._commitments):
            try:
                f.close()
            except Exception:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())


def _map_vectors(path: Path, n: int, dim: int) -> np.ndarray:
    if n == 0:
        return np.zeros((0, dim), np.float16)
    return np.memmap(path, dtype=np.float16, mode="r", shape=(n, dim))


class _Lines:
    """Line i of a jsonl file, by byte offsets, through a read-only memory map."""

    def __init__(self, path: Path, offsets: np.ndarray) -> None:
        self.off = offsets
        self._f = open(path, "rb")
        self._m = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ) if os.path.getsize(path) else b""

    def __getitem__(self, i: int) -> bytes:
        return self._m[int(self.off[i]): int(self.off[i + 1])]

    def __len__(self) -> int:
        return len(self.off) - 1


class Segment:
    """A segment opened for reading."""

    def __init__(self, path: Path, nprobe: int | None = None) -> None:
        self.path = Path(path)
        self.name = self.path.name
        p = self.path
        self.meta = json.loads((p / "meta.json").read_text("utf-8"))
        if self.meta.get("format") != SEGMENT_FORMAT:
            raise ValueError(f"segment {p} has format {self.meta.get('format')}, expected {SEGMENT_FORMAT}")
        self.dim = int(self.meta["dim"])
        self.reply_ids: list[str] = json.loads((p / "reply_ids.json").read_text("utf-8"))
        self.reply_meta = [ReplyMeta.from_list(v) for v in json.loads((p / "reply_meta.json").read_text("utf-8"))]
        self.reply_ptr = np.load(p / "reply_ptr.npy")
        self.chunk_reply = np.load(p / "chunk_reply.npy").astype(np.int64)
        self.chunk_part = np.load(p / "chunk_part.npy")
        self.chunk_label = np.load(p / "chunk_label.npy")
        self._replies = _Lines(p / "replies.jsonl", np.load(p / "replies.off.npy"))
        self._chunks = _Lines(p / "chunks.jsonl", np.load(p / "chunks.off.npy"))
        self.vectors = _map_vectors(p / "vectors.f16", self.n_chunks, self.dim)
        z = np.load(p / "sentences.npz")
        self.sent_reply, self.sent_start, self.sent_end = z["reply"], z["start"], z["end"]
        self.sent_label, self.sent_chunk, self.sent_ptr = z["label"], z["chunk"], z["sent_ptr"]
        self.sentence_vectors = _map_vectors(p / "sentence_vectors.f16", len(self.sent_reply), self.dim)
        self._nprobe = nprobe
        self._dense: DenseIndex | None = None
        self._postings: Postings | None = None
        self._lock = threading.Lock()

    @property
    def dense(self) -> DenseIndex:
        """Opened on first use (bookkeeping such as an addition's never needs it)."""
        if self._dense is None:
            with self._lock:
                if self._dense is None:
                    d = self.meta["dense"]
                    self._dense = DenseIndex.load(self.path / "dense.faiss", d["kind"], self.vectors,
                                                  nprobe=self._nprobe or d.get("nprobe"))
        return self._dense

    @property
    def dense_kind(self) -> str:
        return self.meta["dense"]["kind"]

    @property
    def postings(self) -> Postings:
        if self._postings is None:
            with self._lock:
                if self._postings is None:
                    self._postings = Postings.load(self.path / "bm25")
        return self._postings

    @property
    def n_replies(self) -> int:
        return len(self.reply_ids)

    @property
    def n_chunks(self) -> int:
        return int(self.meta["chunks"])

    def reply(self, i: int) -> Reply:
        return Reply.from_dict(_loads(self._replies[i]))

    def chunk(self, i: int) -> Chunk:
        return Chunk.from_dict(_loads(self._chunks[i]))

    def sentences_of(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Reply i's sentence rows as (rows × [start, end, label, chunk within the reply]) and their vectors."""
        a, b = int(self.sent_ptr[i]), int(self.sent_ptr[i + 1])
        rows = np.stack([self.sent_start[a:b], self.sent_end[a:b], self.sent_label[a:b],
                         self.sent_chunk[a:b] - self.reply_ptr[i]], axis=1) if b > a else np.zeros((0, 4), np.int64)
        return rows, np.asarray(self.sentence_vectors[a:b])

    def reply_line(self, i: int) -> bytes:
        return self._replies[i]

    def chunk_line(self, i: int) -> bytes:
        return self._chunks[i]

    def commitment_lines(self) -> list[bytes]:
        """The stored commitments, one JSON line each ([] for a segment written before they existed)."""
        p = self.path / "commitments.jsonl"
        return [ln for ln in p.read_bytes().splitlines(keepends=True) if ln.strip()] if p.exists() else []

    def size_on_disk(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())


def merge_into(writer: SegmentWriter, segments: list[Segment], dead: dict[str, set[int]]) -> Postings:
    """Copy the live replies of `segments` (in order) into `writer`; returns their merged postings."""
    parts = []
    for seg in segments:
        gone = dead.get(seg.name, set())
        keep = np.ones(seg.n_chunks, bool)
        for r in range(seg.n_replies):
            a, b = int(seg.reply_ptr[r]), int(seg.reply_ptr[r + 1])
            if r in gone:
                keep[a:b] = False
                continue
            writer.add_raw(seg.reply_ids[r], seg.reply_meta[r], seg.reply_line(r), [seg.chunk_line(i) for i in range(a, b)],
                           [int(x) for x in seg.chunk_part[a:b]], [int(x) for x in seg.chunk_label[a:b]],
                           np.asarray(seg.vectors[a:b]), *seg.sentences_of(r))
        parts.append((seg.postings, keep))
        gone_ids = {seg.reply_ids[r] for r in gone}
        writer.add_commitment_lines([ln for ln in seg.commitment_lines() if _loads(ln)["reply_id"] not in gone_ids])
    return Postings.merge(parts)
