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
    vectors.f16              vectors, row per chunk (memory-mapped when read): float32 as encoded, or
                             float16 in a segment above the ANN threshold (half the disk and page cache;
                             meta.json's vector_dtype says which; the name is kept either way)
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


class SegmentFileError(Exception):
    """A file of a segment could not be read or parsed (`rel` names it; the store reports it)."""

    def __init__(self, rel: str, cause: BaseException) -> None:
        self.rel, self.cause = rel, cause
        super().__init__(f"{rel}: {type(cause).__name__}: {cause}")


def _read(rel: str, fn):
    try:
        return fn()
    except SegmentFileError:
        raise
    except (FileNotFoundError, PermissionError):
        raise
    except OSError as e:
        if e.errno in (5, 13, 6):  # EIO, EACCES, ENXIO: the disk, not the file's content
            raise
        raise SegmentFileError(rel, e) from e
    except Exception as e:  # truncated / foreign content: json, numpy, faiss errors
        raise SegmentFileError(rel, e) from e


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
        v = np.asarray(vectors, dtype=np.float32).reshape(n, self.dim) if n else np.zeros((0, self.dim), np.float32)
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
            sv = np.asarray(sentence_vectors, np.float32).reshape(len(sentences), self.dim)
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
            dtype = "float16" if self.n_chunks > ann_threshold else "float32"
            if dtype == "float16":  # a large segment: half the bytes (bench/ann.py: recall unchanged)
                _narrow(t / "vectors.f16", self.n_chunks, self.dim)
                _narrow(t / "sentence_vectors.f16", len(self._s_reply), self.dim)
            vectors = _map_vectors(t / "vectors.f16", self.n_chunks, self.dim, dtype)
            t0 = time.perf_counter()
            dense = DenseIndex.build(vectors, ann_threshold=ann_threshold, kind=dense_kind, nlist=nlist, nprobe=nprobe)
            dense.save(t / "dense.faiss")
            files = {}
            for f in sorted(t.rglob("*")):
                if f.is_file():
                    with open(f, "rb") as fh:
                        os.fsync(fh.fileno())
                    files[f.relative_to(t).as_posix()] = {"sha256": file_sha256(f), "bytes": f.stat().st_size}
            meta = {"format": SEGMENT_FORMAT, "replies": len(self.reply_ids), "chunks": self.n_chunks, "dim": self.dim,
                    "vector_dtype": dtype,
                    "sentences": len(self._s_reply), "commitments": self.n_commitments,
                    "dense": dense.describe(), "dense_build_s": round(time.perf_counter() - t0, 3),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "files": files}
            del dense, vectors
            with open(t / "meta.json", "w", encoding="utf-8") as f:
                f.write(json.dumps(meta, ensure_ascii=False, indent=1))
                f.flush()
                os.fsync(f.fileno())
            for d in sorted({f.parent for f in t.rglob("*")} | {t}):
                fsync_dir(d)
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


def file_sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` durable (the entry lives in the folder, not the file)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _map_vectors(path: Path, n: int, dim: int, dtype: str = "float16") -> np.ndarray:
    if n == 0:
        return np.zeros((0, dim), dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=(n, dim))


def _narrow(path: Path, n: int, dim: int, block: int = 8192) -> None:
    """Rewrite a float32 vector file as float16, in blocks read into a buffer: a memory map would count
    every page of the source among the build's resident memory (+1.9 GB at 10^6 chunks, docs/scale.md)."""
    if not n:
        return
    tmp = path.with_suffix(".narrow")
    with open(path, "rb") as src, open(tmp, "wb") as f:
        for s in range(0, n, block):
            rows = min(block, n - s)
            v = np.fromfile(src, dtype=np.float32, count=rows * dim)
            if v.size != rows * dim:
                raise ValueError(f"{path}: {n} vectors of {dim} expected, the file ends after {s + v.size // dim}")
            f.write(v.astype(np.float16).tobytes())
    os.replace(tmp, path)


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
        self.meta = _read("meta.json", lambda: json.loads((p / "meta.json").read_text("utf-8")))
        if not isinstance(self.meta, dict) or self.meta.get("format") != SEGMENT_FORMAT:
            raise SegmentFileError("meta.json", ValueError(f"format {self.meta.get('format') if isinstance(self.meta, dict) else '?'}, "
                                                           f"expected {SEGMENT_FORMAT}"))
        try:
            self.dim = int(self.meta["dim"])
            n_chunks, n_sent = int(self.meta["chunks"]), int(self.meta.get("sentences", 0))
        except (KeyError, TypeError, ValueError) as e:
            raise SegmentFileError("meta.json", e) from e
        self.reply_ids: list[str] = _read("reply_ids.json", lambda: json.loads((p / "reply_ids.json").read_text("utf-8")))
        self.reply_meta = _read("reply_meta.json", lambda: [ReplyMeta.from_list(v) for v in
                                                            json.loads((p / "reply_meta.json").read_text("utf-8"))])
        npy = lambda rel, mmap=None: _read(rel, lambda: np.load(p / rel, mmap_mode=mmap, allow_pickle=False))  # noqa: E731
        self.reply_ptr = npy("reply_ptr.npy")
        self.chunk_reply = npy("chunk_reply.npy").astype(np.int64)
        self.chunk_part = npy("chunk_part.npy")
        self.chunk_label = npy("chunk_label.npy")
        self._replies = _read("replies.jsonl", lambda: _Lines(p / "replies.jsonl", npy("replies.off.npy")))
        self._chunks = _read("chunks.jsonl", lambda: _Lines(p / "chunks.jsonl", npy("chunks.off.npy")))
        self.vector_dtype = str(self.meta.get("vector_dtype", "float16"))  # segments before the flag: float16
        if self.vector_dtype not in ("float16", "float32"):
            raise SegmentFileError("meta.json", ValueError(f"vector_dtype {self.vector_dtype!r}"))
        self.vectors = _read("vectors.f16", lambda: _map_vectors(p / "vectors.f16", n_chunks, self.dim, self.vector_dtype))
        z = _read("sentences.npz", lambda: dict(np.load(p / "sentences.npz", allow_pickle=False)))
        try:
            self.sent_reply, self.sent_start, self.sent_end = z["reply"], z["start"], z["end"]
            self.sent_label, self.sent_chunk, self.sent_ptr = z["label"], z["chunk"], z["sent_ptr"]
        except KeyError as e:
            raise SegmentFileError("sentences.npz", e) from e
        self.sentence_vectors = _read("sentence_vectors.f16", lambda: _map_vectors(p / "sentence_vectors.f16",
                                                                                    len(self.sent_reply), self.dim, self.vector_dtype))
        self._n_sent = n_sent
        self._nprobe = nprobe
        self._dense: DenseIndex | None = None
        self._postings: Postings | None = None
        self._lock = threading.Lock()

    def problems(self, dim: int) -> list[str]:
        """What disagrees between the segment's parts (counts, dim); [] for a sound segment."""
        out = []
        n_r, n_c = len(self.reply_ids), self.n_chunks
        if self.dim != dim:
            out.append(f"vectors have dim {self.dim}, the index records {dim}")
        if n_r != int(self.meta.get("replies", -1)) or len(self.reply_meta) != n_r or len(self._replies) != n_r:
            out.append(f"replies disagree: {n_r} ids, {len(self.reply_meta)} field records, {len(self._replies)} records, "
                       f"meta.json {self.meta.get('replies')}")
        if len(self._chunks) != n_c or len(self.chunk_reply) != n_c or len(self.chunk_part) != n_c or len(self.chunk_label) != n_c:
            out.append(f"chunks disagree: {len(self._chunks)} records, {len(self.chunk_reply)} reply links, meta.json {n_c}")
        if len(self.reply_ptr) != n_r + 1 or (n_r and int(self.reply_ptr[-1]) != n_c):
            out.append("reply_ptr.npy does not cover the chunks")
        if n_c and (int(self.chunk_reply.min()) < 0 or int(self.chunk_reply.max()) >= max(n_r, 1)):
            out.append("chunk_reply.npy points at replies the segment does not have")
        for rel, lines in (("replies.jsonl", self._replies), ("chunks.jsonl", self._chunks)):
            size = (self.path / rel).stat().st_size
            if size != int(lines.off[-1]):
                out.append(f"{rel} has {size} bytes, its offsets end at {int(lines.off[-1])}")
        width = np.dtype(self.vector_dtype).itemsize
        expect = n_c * self.dim * width
        size = (self.path / "vectors.f16").stat().st_size
        if size != expect:
            out.append(f"vectors.f16 has {size} bytes, {n_c} vectors of dim {self.dim} need {expect}")
        ns = len(self.sent_reply)
        if ns != self._n_sent or not (len(self.sent_start) == len(self.sent_end) == len(self.sent_label) == len(self.sent_chunk) == ns):
            out.append(f"sentences.npz holds {ns} sentences, meta.json records {self._n_sent}")
        if len(self.sent_ptr) != n_r + 1 or (n_r and int(self.sent_ptr[-1]) != ns):
            out.append("sentences.npz's reply pointers do not cover its sentences")
        if ns and (int(self.sent_reply.max()) >= n_r or int(self.sent_chunk.max()) >= n_c
                   or min(int(self.sent_reply.min()), int(self.sent_chunk.min())) < 0):
            out.append("sentences.npz points at replies or chunks the segment does not have")
        ssize = (self.path / "sentence_vectors.f16").stat().st_size
        if ssize != ns * self.dim * width:
            out.append(f"sentence_vectors.f16 has {ssize} bytes, {ns} sentences of dim {self.dim} need {ns * self.dim * width}")
        return out

    def postings_problems(self, post: Postings) -> list[str]:
        out = []
        if post.n_docs != self.n_chunks:
            out.append(f"bm25/ covers {post.n_docs} chunks, expected {self.n_chunks}")
        if len(post.indptr) != len(post.terms) + 1 or (len(post.indptr) and int(post.indptr[-1]) != len(post.docs)) \
                or len(post.tf) != len(post.docs):
            out.append("bm25/ postings do not match their vocabulary")
        elif len(post.docs) and (int(np.max(post.docs)) >= post.n_docs or int(np.min(post.docs)) < 0):
            out.append("bm25/ postings point at chunks the segment does not have")
        return out

    @property
    def dense(self) -> DenseIndex:
        """Opened on first use (bookkeeping such as an addition's never needs it)."""
        if self._dense is None:
            with self._lock:
                if self._dense is None:
                    d = self.meta["dense"]
                    self._dense = _read("dense.faiss", lambda: DenseIndex.load(
                        self.path / "dense.faiss", d["kind"], self.vectors, nprobe=self._nprobe or d.get("nprobe")))
        return self._dense

    @property
    def dense_kind(self) -> str:
        return self.meta["dense"]["kind"]

    @property
    def postings(self) -> Postings:
        if self._postings is None:
            with self._lock:
                if self._postings is None:
                    self._postings = _read("bm25/", lambda: Postings.load(self.path / "bm25"))
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
