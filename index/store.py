"""On-disk index versions over immutable segments, with an atomic swap.

Layout of an index folder::

    CURRENT                 name of the live version (replaced atomically with os.replace)
    v-<time>-<rand>/        one version: manifest.json naming its segments, in order, and the replies
                            removed from them ("dead": segment → reply positions)
    segments/s-<time>-<rand>/   one segment (index/segment.py), shared by the versions that name it
    segments/.build-<rand>/     a segment being written; never read
    .build-<rand>/          a version being written; never read

Building writes one segment; adding replies writes a small new segment and a version naming the
old segments plus the new one (a replaced or removed reply is marked dead in its old segment), so
an addition costs what the new replies cost, not what the index holds. Segments are merged by the
builder (index/builder.py). A crash or Ctrl-C half-way leaves the previous version serving; the
garbage collector removes versions beyond the newest KEEP_VERSIONS and segments no version names.
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Iterator

import numpy as np

from index.bm25 import BM25Index
from index.errors import IndexCorruptError, IndexNotFoundError, UnknownReplyError
from index.facets import ReplyFacets
from index.records import Chunk, Reply
from index.segment import Segment, evidence_mask

FORMAT_VERSION = 2
KEEP_VERSIONS = 2
_EMPTY = np.zeros(0, np.int64)


class _LRU:
    def __init__(self, size: int) -> None:
        self.size, self._d, self._lock = size, OrderedDict(), Lock()

    def get(self, key, make):
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
                return v
        v = make(key)
        with self._lock:
            self._d[key] = v
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return v


class ReplyTable(Mapping):
    """reply id → Reply, decoded from its segment on first use (a small LRU keeps the recent ones)."""

    def __init__(self, index: "LoadedIndex") -> None:
        self._ix = index
        self._cache = _LRU(4096)

    def __getitem__(self, reply_id: str) -> Reply:
        pos = self._ix.reply_pos.get(reply_id)
        if pos is None:
            raise KeyError(reply_id)
        return self.at(pos)

    def at(self, pos: int) -> Reply:
        return self._cache.get(int(pos), self._ix._decode_reply)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ix.reply_pos)

    def __len__(self) -> int:
        return len(self._ix.reply_pos)

    def __contains__(self, reply_id: object) -> bool:
        return reply_id in self._ix.reply_pos


class ChunkTable(Sequence):
    """Chunk by position (positions run over the segments in order), decoded on first use."""

    def __init__(self, index: "LoadedIndex") -> None:
        self._ix = index
        self._cache = _LRU(16384)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._cache.get(i, self._ix._decode_chunk)

    def __len__(self) -> int:
        return self._ix.n_positions


class _Rows:
    """Stored float16 rows of several segments (one global numbering); rows come back as float32."""

    def __init__(self, parts: list[np.ndarray], offsets: np.ndarray, dim: int) -> None:
        self._parts, self._off, self.dim = parts, offsets, dim

    def __len__(self) -> int:
        return int(self._off[-1])

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), self.dim)

    def __getitem__(self, idx) -> np.ndarray:
        if isinstance(idx, slice):
            a, b, step = idx.indices(len(self))
            s = int(np.searchsorted(self._off, a, side="right") - 1) if b > a else 0
            if step == 1 and b > a and b <= self._off[s + 1]:  # within one segment: one read
                return np.asarray(self._parts[s][a - self._off[s]: b - self._off[s]], dtype=np.float32)
            idx = np.arange(a, b, step)
        if isinstance(idx, (int, np.integer)):
            return self[np.array([idx])][0]
        ids = np.asarray(idx, np.int64)
        out = np.empty((len(ids), self.dim), np.float32)
        which = np.searchsorted(self._off, ids, side="right") - 1
        for s in np.unique(which):
            sel = which == s
            out[sel] = self._parts[s][ids[sel] - self._off[s]]
        return out

    def __array__(self, dtype=None, copy=None):
        a = self[np.arange(len(self))]
        return a.astype(dtype) if dtype is not None else a


class SegmentedSentences:
    """The sentence table (index/sentences.py) over all segments: rows numbered globally, grouped by
    reply; `reply` and `chunk` are global positions; vectors read from the segments' float16 files."""

    def __init__(self, segments: list[Segment], reply_offsets: np.ndarray, chunk_offsets: np.ndarray, dim: int) -> None:
        off = np.zeros(len(segments) + 1, np.int64)
        np.cumsum([len(sg.sent_reply) for sg in segments], out=off[1:])
        cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)  # noqa: E731
        self.reply = cat([sg.sent_reply.astype(np.int64) + ro for sg, ro in zip(segments, reply_offsets)], np.int64)
        self.start = cat([sg.sent_start for sg in segments], np.int32)
        self.end = cat([sg.sent_end for sg in segments], np.int32)
        self.label = cat([sg.sent_label for sg in segments], np.int8)
        self.chunk = cat([sg.sent_chunk.astype(np.int64) + co for sg, co in zip(segments, chunk_offsets)], np.int64)
        self.ptr = np.concatenate([[0], *[sg.sent_ptr[1:] + o for sg, o in zip(segments, off)]]).astype(np.int64)
        self.vectors = _Rows([sg.sentence_vectors for sg in segments], off, dim)

    def __len__(self) -> int:
        return int(len(self.reply))

    def rows_of(self, reply_pos: int) -> slice:
        return slice(int(self.ptr[reply_pos]), int(self.ptr[reply_pos + 1]))

    def label_of(self, row: int) -> str:
        from index.sentences import LABEL_NAMES

        return LABEL_NAMES[int(self.label[row])]


class SegmentedDense:
    """Dense top-k over all segments (removed replies never returned); positions are global."""

    def __init__(self, segments: list[Segment], offsets: np.ndarray, live: np.ndarray | None) -> None:
        self._segs, self._off, self._live = segments, offsets, live
        kinds = [s.dense_kind for s in segments if s.n_chunks]
        big = max(segments, key=lambda s: s.n_chunks).dense_kind if segments else "flat"
        self.kind = big if len(set(kinds)) <= 1 else "+".join(sorted(set(kinds), key=lambda k: k != big))

    @property
    def size(self) -> int:
        return int(self._off[-1])

    @property
    def dim(self) -> int:
        return self._segs[0].dim if self._segs else 0

    def describe(self) -> list[dict]:
        return [{"segment": s.name, **s.dense.describe()} for s in self._segs]

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, positions), best first. `allowed`: bool mask over positions or positions."""
        if allowed is not None:
            allowed = np.asarray(allowed)
            if allowed.dtype != bool:
                m = np.zeros(self.size, bool)
                m[allowed.astype(np.int64)] = True
                allowed = m
        mask = allowed
        if self._live is not None:
            mask = self._live if mask is None else (mask & self._live)
        scores, ids = [], []
        for s, seg in enumerate(self._segs):
            a, b = int(self._off[s]), int(self._off[s + 1])
            if a == b:
                continue
            sub = None if mask is None else mask[a:b]
            if sub is not None and sub.all():
                sub = None
            sc, ix = seg.dense.search(query, k, sub)
            scores.append(sc)
            ids.append(ix + a)
        if not ids:
            return np.zeros(0, np.float32), _EMPTY
        sc, ix = np.concatenate(scores), np.concatenate(ids)
        order = np.lexsort((ix, -sc))[:k]
        return sc[order], ix[order]


class ReplyStub:
    """A reply's kept fields (id, signer, proposer, number, …) without its letter; anything else
    (title, text, …) decodes the letter on first use. For passes over every reply (gazetteers)."""

    __slots__ = ("id", "signer", "proposer", "number", "lead_unit", "kind", "_ix", "_pos", "_r")

    def __init__(self, index: "LoadedIndex", pos: int) -> None:
        m = index.facets.metas[pos]
        self.id, self.signer, self.proposer, self.number = index.reply_ids[pos], m.signer, m.proposer, m.number
        self.lead_unit, self.kind = m.lead_unit, m.kind
        self._ix, self._pos, self._r = index, pos, None

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if self._r is None:
            self._r = self._ix.reply_at(self._pos)
        return getattr(self._r, name)


class ReplyChunks(Mapping):
    """reply id → positions of its chunks (contiguous per reply)."""

    def __init__(self, index: "LoadedIndex") -> None:
        self._ix = index

    def __getitem__(self, reply_id: str) -> np.ndarray:
        pos = self._ix.reply_pos.get(reply_id)
        if pos is None:
            raise KeyError(reply_id)
        return self._ix.chunks_of_pos(pos)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ix.reply_pos)

    def __len__(self) -> int:
        return len(self._ix.reply_pos)


@dataclass
class LoadedIndex:
    """One index version, opened. Immutable once loaded: a swap loads a new one.

    Positions: chunks and replies are numbered across the segments in order. `replies` and `chunks`
    decode records on demand; the arrays (`chunk_reply`, `evidence`, `live_chunks`) and `facets`
    are in memory. Removed replies keep their positions but are absent from `replies`, never
    returned by `dense`/`bm25`, and excluded by `chunk_mask`.
    """

    version: str
    manifest: dict
    segments: list[Segment]
    dead: dict[str, set[int]] = field(default_factory=dict)
    lazy: bool = False  # True: search structures opened on first use (the builder's bookkeeping)

    def __post_init__(self) -> None:
        segs = self.segments
        self.chunk_offsets = np.zeros(len(segs) + 1, np.int64)
        np.cumsum([s.n_chunks for s in segs], out=self.chunk_offsets[1:])
        self.reply_offsets = np.zeros(len(segs) + 1, np.int64)
        np.cumsum([s.n_replies for s in segs], out=self.reply_offsets[1:])
        self.n_positions = int(self.chunk_offsets[-1])
        self.reply_ids: list[str] = [rid for s in segs for rid in s.reply_ids]
        cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)  # noqa: E731
        self.chunk_reply = cat([s.chunk_reply + ro for s, ro in zip(segs, self.reply_offsets)], np.int64)
        self.reply_ptr = np.concatenate([[0], *[s.reply_ptr[1:] + co for s, co in zip(segs, self.chunk_offsets)]]).astype(np.int64)
        self.chunk_part = cat([s.chunk_part for s in segs], np.uint8)
        self.chunk_label = cat([s.chunk_label for s in segs], np.uint8)
        self.evidence = evidence_mask(self.chunk_part, self.chunk_label)
        live_replies = np.ones(len(self.reply_ids), bool)
        for s, seg in enumerate(segs):
            for r in self.dead.get(seg.name, ()):
                live_replies[self.reply_offsets[s] + r] = False
        self.live_replies = live_replies
        self.live_chunks = None if live_replies.all() else live_replies[self.chunk_reply]
        self.reply_pos: dict[str, int] = {rid: i for i, rid in enumerate(self.reply_ids) if live_replies[i]}
        self._facets: ReplyFacets | None = None
        self.replies = ReplyTable(self)
        self.chunks = ChunkTable(self)
        self.reply_chunks = ReplyChunks(self)
        dim = int(self.manifest.get("dim") or (segs[0].dim if segs else 0))
        self.vectors = _Rows([sg.vectors for sg in segs], self.chunk_offsets, dim)
        self.sentences = SegmentedSentences(segs, self.reply_offsets, self.chunk_offsets, dim)
        self.dense = SegmentedDense(segs, self.chunk_offsets, self.live_chunks)
        self._bm25: BM25Index | None = None
        if not self.lazy:
            for s in segs:
                _ = s.dense
            _ = self.bm25
            _ = self.facets

    @property
    def facets(self) -> ReplyFacets:
        """Filter lookups per field value (index/facets.py), built once per loaded version."""
        if self._facets is None:
            self._facets = ReplyFacets(m for s in self.segments for m in s.reply_meta)
        return self._facets

    @property
    def bm25(self) -> BM25Index:
        if self._bm25 is None:
            self._bm25 = BM25Index([s.postings for s in self.segments], live=self.live_chunks)
        return self._bm25

    # -- records -------------------------------------------------------------------------------------
    def _locate(self, offsets: np.ndarray, pos: int) -> tuple[Segment, int]:
        s = int(np.searchsorted(offsets, pos, side="right") - 1)
        return self.segments[s], pos - int(offsets[s])

    def _decode_reply(self, pos: int) -> Reply:
        seg, i = self._locate(self.reply_offsets, pos)
        return seg.reply(i)

    def _decode_chunk(self, pos: int) -> Chunk:
        seg, i = self._locate(self.chunk_offsets, pos)
        return seg.chunk(i)

    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def chunk_count(self) -> int:
        """Chunks of the replies the index holds (positions of removed replies not counted)."""
        return self.n_positions if self.live_chunks is None else int(self.live_chunks.sum())

    def reply(self, reply_id: str) -> Reply:
        try:
            return self.replies[reply_id]
        except KeyError:
            raise UnknownReplyError(reply_id) from None

    def reply_at(self, pos: int) -> Reply:
        return self.replies.at(pos)

    def reply_stubs(self) -> list[ReplyStub]:
        """Every reply held, as its kept fields (letters decoded only if a caller reads them)."""
        return [ReplyStub(self, pos) for pos in self.reply_pos.values()]

    @property
    def commitments(self) -> list | None:
        """The replies' promises (index/commitments.py), read from the segments on first use; those of
        removed replies left out. None when a segment predates them (dafu track then extracts them)."""
        if getattr(self, "_commitments", None) is None:
            from index.commitments import Commitment
            from index.segment import _loads

            if any(not (sg.path / "commitments.jsonl").exists() for sg in self.segments):
                return None
            out = []
            for k, sg in enumerate(self.segments):
                lo, hi = int(self.reply_offsets[k]), int(self.reply_offsets[k + 1])
                for line in sg.commitment_lines():
                    d = _loads(line)
                    if lo <= self.reply_pos.get(d["reply_id"], -1) < hi:  # the live copy of that reply is this one
                        out.append(Commitment.from_dict(d))
            self._commitments = out
        return self._commitments

    def live_metas(self) -> list:
        """ReplyMeta (year, date, proposer, number, units, signer, lead unit, kind) of each reply held."""
        return [m for m, ok in zip(self.facets.metas, self.live_replies) if ok]

    def chunk_bounds(self, reply_positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and end chunk position of each reply (a reply's chunks are contiguous positions)."""
        reps = np.asarray(reply_positions, np.int64)
        return self.reply_ptr[reps], self.reply_ptr[reps + 1]

    def dense_scores_at(self, qv: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Cosine of the question with the given chunks (from the stored vectors)."""
        positions = np.asarray(positions, np.int64)
        if not len(positions):
            return np.zeros(0, np.float32)
        return self.vectors[positions] @ np.asarray(qv, np.float32)

    def chunks_of_pos(self, pos: int) -> np.ndarray:
        return np.arange(self.reply_ptr[pos], self.reply_ptr[pos + 1], dtype=np.int64)

    def chunks_of(self, reply_id: str) -> list[Chunk]:
        return [self.chunks[i] for i in self.reply_chunks.get(reply_id, _EMPTY)]

    # -- filters -------------------------------------------------------------------------------------
    def reply_mask(self, filters) -> np.ndarray:
        """Replies (bool per reply position) passing `filters` (a service.filters.Filters), live only."""
        return self.facets.mask(filters) & self.live_replies

    def chunk_mask(self, filters) -> np.ndarray | None:
        """Chunks whose reply passes `filters`; None when nothing is filtered out."""
        if filters is None or filters.is_empty():
            return self.live_chunks
        return self.reply_mask(filters)[self.chunk_reply]

    def replies_named(self, numbers, proposers, allowed: np.ndarray | None = None) -> list[int]:
        """Positions of the replies whose proposal number (its last digit group) is one of `numbers` or
        whose proposer contains one of `proposers`; live, and with a chunk in `allowed` when given."""
        f = self.facets
        out = [int(p) for n in numbers for p in f.by_last_number.get(str(n).lstrip("0"), ())]
        for name in proposers:
            if name:
                out += np.flatnonzero(f.proposer_mask(name)).tolist()
        out = [p for p in dict.fromkeys(out) if self.live_replies[p]]
        if allowed is not None and out:
            lo, hi = self.chunk_bounds(np.array(out, np.int64))
            out = [p for p, a, b in zip(out, lo, hi) if b > a and bool(np.any(allowed[a:b]))]
        return out

    def size_on_disk(self) -> int:
        return sum(s.size_on_disk() for s in self.segments)


class IndexStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.segments_dir = self.root / "segments"

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

    def load(self, nprobe: int | None = None, lazy: bool = False) -> LoadedIndex:
        return self.load_version(self._require().name, nprobe, lazy)

    def load_version(self, name: str, nprobe: int | None = None, lazy: bool = False) -> LoadedIndex:
        """A given version (CURRENT's by `load`); its segments must still be on disk."""
        v = self.root / name
        try:
            manifest = json.loads((v / "manifest.json").read_text("utf-8"))
        except (OSError, ValueError) as e:
            raise IndexCorruptError(f"index version {v} cannot be read ({type(e).__name__}: {e}); rebuild it with `dafu index build`") from e
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexCorruptError(
                f"index at {v} has format {manifest.get('format')}, this dafu reads format {FORMAT_VERSION}; "
                f"rebuild it with `dafu index build PATH… --index {self.root}` (embeddings come from the cache)")
        try:
            segments = [Segment(self.segments_dir / name, nprobe=nprobe) for name in manifest["segments"]]
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            raise IndexCorruptError(f"index version {v} cannot be read ({type(e).__name__}: {e}); rebuild it with `dafu index build`") from e
        dead = {k: set(map(int, vals)) for k, vals in manifest.get("dead", {}).items()}
        return LoadedIndex(v.name, manifest, segments, dead, lazy)

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

    def write_version(self, manifest: dict) -> Path:
        """Publish a version naming existing segments (manifest["segments"], ["dead"]); swap CURRENT to it."""
        missing = [n for n in manifest["segments"] if not (self.segments_dir / n / "meta.json").exists()]
        if missing:
            raise IndexCorruptError(f"cannot publish a version naming missing segment(s) {', '.join(missing)}")
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".build-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            manifest = {**manifest, "format": FORMAT_VERSION}
            (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
            with open(tmp / "manifest.json", "rb") as fh:
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
        """Remove abandoned builds, all but the newest KEEP_VERSIONS versions, and unreferenced segments."""
        live = self.current_version()
        versions = sorted((p for p in self.root.glob("v-*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
        keep = {live} | set(versions[:KEEP_VERSIONS])
        for p in versions:
            if p not in keep:
                shutil.rmtree(p, ignore_errors=True)
        for p in list(self.root.glob(".build-*")) + list(self.segments_dir.glob(".build-*")):
            if time.time() - p.stat().st_mtime > 3600:
                shutil.rmtree(p, ignore_errors=True)
        named: set[str] = set()
        for v in keep:
            if v is None:
                continue
            try:
                named.update(json.loads((v / "manifest.json").read_text("utf-8")).get("segments", []))
            except (OSError, ValueError):
                return  # cannot tell what is in use: remove nothing
        for p in self.segments_dir.glob("s-*"):
            if p.name not in named and time.time() - p.stat().st_mtime > 60:
                shutil.rmtree(p, ignore_errors=True)

    def size_on_disk(self) -> int:
        v = self._require()
        names = json.loads((v / "manifest.json").read_text("utf-8")).get("segments", [])
        total = sum(p.stat().st_size for p in v.rglob("*") if p.is_file())
        for n in names:
            total += sum(p.stat().st_size for p in (self.segments_dir / n).rglob("*") if p.is_file())
        return total
