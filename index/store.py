"""On-disk index versions over immutable segments, with an atomic swap, checked on every load.

Layout of an index folder::

    CURRENT                 name of the live version (replaced atomically with os.replace)
    PREVIOUS                name of the version that was live before it (kept until the next swap)
    v-<time>-<rand>/        one version: manifest.json naming its segments, in order, and the replies
                            removed from them ("dead": segment → reply positions)
    segments/s-<time>-<rand>/   one segment (index/segment.py), shared by the versions that name it;
                            its meta.json records every file's size and SHA-256
    segments/.build-<rand>/     a segment being written; never read
    .build-<rand>/, .CURRENT.<rand>   a version / the next CURRENT being written; never read

Building writes one segment; adding replies writes a small new segment and a version naming the
old segments plus the new one (a replaced or removed reply is marked dead in its old segment), so
an addition costs what the new replies cost, not what the index holds. Files and folders are
fsynced before CURRENT moves, so a crash, a kill or a full disk half-way leaves the previous version
serving; the garbage collector keeps the live and the previous version and the segments they name.

Three states, told apart everywhere (:meth:`IndexStore.state`): **absent** (no CURRENT and no
version: the only state in which the bundled sample may be built), **unreadable** (CURRENT or a file
cannot be read: permissions, I/O), **corrupt** (CURRENT names nothing, or a segment fails validation:
a manifest field missing, a file's size or checksum not the recorded one, counts that disagree —
replies, chunks = vectors = postings = FAISS size, sentences, dim). A damaged index is never treated
as an empty one. File sizes and counts are checked on every load; checksums of a segment's files are
checked when the segment is at most VERIFY_BYTES (a district's index: on every load), and for any size
by `dafu index verify` (reading the 4 GB of a million-chunk index at every start would cost more than
the whole load's 10 s target; docs/scale.md).
"""
from __future__ import annotations

import errno
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
from index.errors import (DafuError, IndexCorruptError, IndexNotFoundError, IndexUnreadableError, IndexWriteError,
                          UnknownReplyError)
from index.facets import ReplyFacets
from index.records import Chunk, Reply
from index.segment import Segment, SegmentFileError, SegmentWriter, evidence_mask, file_sha256, fsync_dir

FORMAT_VERSION = 2
STALE_SECONDS = 3600  # leftovers of another process are removed only once this old (when we do not hold the lock)
MANIFEST_FIELDS: dict[str, type] = {"model": str, "dim": int, "replies": int, "chunks": int}
VERIFY_BYTES = 64 * 1024 * 1024  # a segment up to this size has every file's checksum verified on each load
OPTIONAL_FILES = {"commitments.jsonl"}  # parts a segment may lack (tracking is then unavailable, answering is not)


def _why(e: OSError) -> str:
    name = errno.errorcode.get(e.errno or 0, "")
    return f"{e.strerror or e}" + (f" ({name})" if name else "")
_EMPTY = np.zeros(0, np.int64)


class SafeSegmentWriter(SegmentWriter):
    """SegmentWriter whose disk errors (full, read-only) are IndexWriteError and leave nothing behind."""

    def __init__(self, store: "IndexStore", dim: int) -> None:
        self._store = store
        super().__init__(store.segments_dir, dim)

    def finish(self, *args, **kwargs) -> str:
        try:
            name = super().finish(*args, **kwargs)
            fsync_dir(self._store.segments_dir)
            return name
        except OSError as e:
            raise self._store._write_error(e) from e


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
        # plain ndarray views of the memory-mapped parts: slicing a np.memmap costs a Python-level
        # __getitem__/__array_finalize__ per slice, the same pages read through a view do not
        self._parts, self._off, self.dim = [np.asarray(p) for p in parts], offsets, dim
        self._maps = parts  # the np.memmap objects (file name and offset, for take_unmapped)

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

    def take_unmapped(self, ids: np.ndarray) -> np.ndarray:
        """Rows `ids` as float32, read from the files with pread rather than through the mapping: for a
        one-off scattered sample (the retriever's background), which through the mapping would leave
        ~0.5 MB of page cache mapped into the process per row (measured at 10^6 chunks)."""
        ids = np.asarray(ids, np.int64)
        out = np.empty((len(ids), self.dim), np.float32)
        which = np.searchsorted(self._off, ids, side="right") - 1
        for s in np.unique(which):
            sel = np.flatnonzero(which == s)
            m = self._maps[s]
            name = getattr(m, "filename", None)
            if name is None:  # not a file mapping: read it the ordinary way
                out[sel] = self._parts[s][ids[sel] - self._off[s]]
                continue
            row = m.dtype.itemsize * self.dim
            with open(name, "rb") as f:
                fd = f.fileno()
                for j in sel:
                    b = os.pread(fd, row, int(m.offset) + int(ids[j] - self._off[s]) * row)
                    out[j] = np.frombuffer(b, dtype=m.dtype)
        return out

    def ranges(self, bounds: list[tuple[int, int]]) -> np.ndarray:
        """Rows a..b of each (a, b), one after another, as float32: contiguous reads (no fancy indexing of
        the memory-mapped files), one conversion."""
        parts = []
        for a, b in bounds:
            while a < b:
                s = int(np.searchsorted(self._off, a, side="right") - 1)
                e = min(b, int(self._off[s + 1]))
                parts.append(self._parts[s][a - self._off[s]: e - self._off[s]])
                a = e
        if not parts:
            return np.zeros((0, self.dim), np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)


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
        self._lock_depth = 0

    # -- state -------------------------------------------------------------
    def versions(self) -> list[Path]:
        try:
            return sorted(p for p in self.root.glob("v-*") if p.is_dir())
        except OSError:
            return []

    def _rebuild_hint(self) -> str:
        return (f"rebuild with `dafu index build PATH… --index {self.root}`, or write the name of a good version "
                f"into {self.root / 'CURRENT'}")

    def current_version(self) -> Path | None:
        """The live version's folder; None when the index is absent. Raises when it is damaged."""
        cur = self.root / "CURRENT"
        try:
            name = cur.read_text("utf-8").strip()
        except FileNotFoundError:
            found = self.versions()
            if found:
                raise IndexCorruptError(
                    f"index at {self.root} has no CURRENT but holds {len(found)} version(s) "
                    f"({', '.join(p.name for p in found[-3:])}); {self._rebuild_hint()}") from None
            return None
        except (OSError, UnicodeDecodeError) as e:
            why = _why(e) if isinstance(e, OSError) else "not UTF-8 text"
            raise IndexUnreadableError(f"{cur} cannot be read: {why}; check the folder's permissions and the disk") from e
        path = self.root / name
        if not name or "/" in name or name.startswith(".") or not path.is_dir():
            raise IndexCorruptError(f"{cur} names version {name[:80]!r}, which does not exist in {self.root}; {self._rebuild_hint()}")
        return path

    def state(self) -> tuple[str, str]:
        """("absent" | "ok" | "unreadable" | "corrupt", detail) from CURRENT alone (cheap; load() checks the rest)."""
        try:
            v = self.current_version()
        except IndexUnreadableError as e:
            return "unreadable", str(e)
        except IndexCorruptError as e:
            return "corrupt", str(e)
        return ("absent", "") if v is None else ("ok", v.name)

    def is_absent(self) -> bool:
        """True only when there is nothing at all: no CURRENT and no version (a damaged index is not absent)."""
        return self.state()[0] == "absent"

    def exists(self) -> bool:
        """True when CURRENT names an existing version (False when absent or damaged)."""
        return self.state()[0] == "ok"

    def manifest(self) -> dict:
        return self._read_manifest(self._require())

    def _require(self) -> Path:
        v = self.current_version()
        if v is None:
            raise IndexNotFoundError(
                f"no index at {self.root}; build one with `dafu index build PATH… --index {self.root}`"
            )
        return v

    # -- loading and validation ----------------------------------------------
    def _damaged(self, where: str, what: str) -> IndexCorruptError:
        return IndexCorruptError(f"index version {where} in {self.root} is damaged: {what}; {self._rebuild_hint()}")

    def _guard(self, where: str, rel: str, read):
        """read() with its failures as one-line domain errors naming the file."""
        try:
            return read()
        except DafuError:
            raise
        except SegmentFileError as e:
            msg = " ".join(str(e.cause).split())[:200]
            raise self._damaged(where, f"{e.rel} cannot be parsed ({type(e.cause).__name__}: {msg})") from e
        except FileNotFoundError as e:
            missing = Path(e.filename).name if e.filename else rel
            raise self._damaged(where, f"{missing} is missing") from None
        except PermissionError as e:
            raise IndexUnreadableError(f"{self.root / rel} cannot be read: {_why(e)}; check the folder's permissions") from e
        except OSError as e:
            if e.errno in (errno.EIO, errno.EACCES, errno.ENXIO):
                raise IndexUnreadableError(f"{self.root / rel} cannot be read: {_why(e)}; check the disk") from e
            raise self._damaged(where, f"{rel} cannot be read ({type(e).__name__}: {e})") from e
        except Exception as e:  # faiss RuntimeError, json/numpy errors from a truncated or foreign file
            msg = " ".join(str(e).split())[:200]
            raise self._damaged(where, f"{rel} cannot be parsed ({type(e).__name__}: {msg})") from e

    def _read_manifest(self, v: Path) -> dict:
        m = self._guard(v.name, "manifest.json", lambda: json.loads((v / "manifest.json").read_text("utf-8")))
        if not isinstance(m, dict):
            raise self._damaged(v.name, "manifest.json is not a JSON object")
        if m.get("format") != FORMAT_VERSION:
            raise IndexCorruptError(f"index at {v} has format {m.get('format')!r}, this dafu reads format {FORMAT_VERSION}; "
                                    f"{self._rebuild_hint()} (vectors come from the embedding cache)")
        for key, typ in MANIFEST_FIELDS.items():
            val = m.get(key)
            if not isinstance(val, typ) or isinstance(val, bool) or (typ is str and not val) or (typ is int and val < 0):
                raise self._damaged(v.name, f"manifest.json has no valid {key!r} (found {val!r}; expected {typ.__name__})")
        if m["dim"] < 1:
            raise self._damaged(v.name, f"manifest.json records dim {m['dim']}")
        if not isinstance(m.get("segments"), list) or not all(isinstance(x, str) for x in m["segments"]):
            raise self._damaged(v.name, "manifest.json has no list of segments")
        return m

    def verify_segment(self, v: Path, name: str, full: bool = False) -> None:
        """Every file of segment `name` has the size (and, for a small segment or with `full`, the SHA-256)
        its meta.json records."""
        where = f"{v.name} (segment {name})"
        folder = self.segments_dir / name
        if "/" in name or name.startswith(".") or not folder.is_dir():
            raise self._damaged(v.name, f"segment {name} named by the manifest is missing")
        meta = self._guard(where, "meta.json", lambda: json.loads((folder / "meta.json").read_text("utf-8")))
        files = meta.get("files") if isinstance(meta, dict) else None
        if files is None:
            return  # written before checksums were recorded: the count checks still apply
        if not isinstance(files, dict):
            raise self._damaged(where, "meta.json 'files' is not an object")
        total = sum(int(r.get("bytes", 0)) for r in files.values() if isinstance(r, dict))
        check_sums = full or total <= VERIFY_BYTES
        for rel, rec in sorted(files.items()):
            if not isinstance(rec, dict) or ".." in Path(rel).parts:
                raise self._damaged(where, f"meta.json has a bad entry for {rel!r}")
            path = folder / rel
            if rel in OPTIONAL_FILES and not path.exists():
                continue  # an optional part taken away: the segment loads as one written before it existed
            size = self._guard(where, rel, lambda: path.stat().st_size)
            if size != rec.get("bytes"):
                raise self._damaged(where, f"{rel} has {size} bytes, the segment records {rec.get('bytes')} "
                                           f"(truncated, or copied from another segment)")
            if check_sums and self._guard(where, rel, lambda: file_sha256(path)) != rec.get("sha256"):
                raise self._damaged(where, f"{rel} does not match its checksum (changed, or copied from another segment)")

    def load(self, nprobe: int | None = None, lazy: bool = False) -> LoadedIndex:
        return self.load_version(self._require().name, nprobe, lazy)

    def load_version(self, name: str, nprobe: int | None = None, lazy: bool = False, verify: bool = False) -> LoadedIndex:
        """A given version (CURRENT's by `load`), checked: sizes and counts always, checksums of small
        segments (of all with `verify`)."""
        v = self.root / name
        manifest = self._read_manifest(v)
        dim = int(manifest["dim"])
        segments = []
        for sname in manifest["segments"]:
            self.verify_segment(v, sname, full=verify)
            where = f"{v.name} (segment {sname})"
            seg = self._guard(where, "meta.json", lambda: Segment(self.segments_dir / sname, nprobe=nprobe))
            problems = seg.problems(dim)
            if not problems and not lazy:
                d = self._guard(where, "dense.faiss", lambda: seg.dense)
                if d.size != seg.n_chunks or d.dim != dim:
                    problems.append(f"dense.faiss holds {d.size} vectors of dim {d.dim}, expected {seg.n_chunks} of dim {dim}")
                post = self._guard(where, "bm25/", lambda: seg.postings)
                problems += seg.postings_problems(post)
            if problems:
                raise self._damaged(where, "; ".join(problems))
            segments.append(seg)
        dead = {k: set(map(int, vals)) for k, vals in manifest.get("dead", {}).items()}
        idx = self._guard(v.name, "segments", lambda: LoadedIndex(v.name, manifest, segments, dead, lazy))
        problems = []
        if len(idx.replies) != manifest["replies"]:
            problems.append(f"the segments hold {len(idx.replies)} replies, the manifest records {manifest['replies']}")
        if idx.chunk_count != manifest["chunks"]:
            problems.append(f"the segments hold {idx.chunk_count} chunks, the manifest records {manifest['chunks']}")
        if problems:
            raise self._damaged(v.name, "; ".join(problems))
        return idx

    def verify(self) -> LoadedIndex:
        """The live version with every file's checksum read (`dafu index verify`)."""
        return self.load_version(self._require().name, verify=True)

    # -- writing -----------------------------------------------------------
    def _write_error(self, e: OSError) -> IndexWriteError:
        return IndexWriteError(f"cannot write the index at {self.root}: {_why(e)}; the live version is unchanged — "
                               f"free some disk space or make the folder writable, then run the command again")

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time across processes (flock); re-entrant within this IndexStore."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lock = open(self.root / ".write.lock", "a")
        except OSError as e:
            raise self._write_error(e) from e
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(lock, fcntl.LOCK_UN)

    def segment_writer(self, dim: int) -> "SafeSegmentWriter":
        """A writer for a new segment whose disk errors come out as IndexWriteError."""
        try:
            return SafeSegmentWriter(self, dim)
        except OSError as e:
            raise self._write_error(e) from e

    def write_version(self, manifest: dict) -> Path:
        """Publish a version naming existing segments (manifest["segments"], ["dead"]); swap CURRENT to it."""
        with self.write_lock():
            missing = [n for n in manifest["segments"] if not (self.segments_dir / n / "meta.json").exists()]
            if missing:
                raise IndexCorruptError(f"cannot publish a version naming missing segment(s) {', '.join(missing)}")
            tmp = self.root / f".build-{secrets.token_hex(4)}"
            try:
                tmp.mkdir(parents=True)
            except OSError as e:
                raise self._write_error(e) from e
            try:
                manifest = {**manifest, "format": FORMAT_VERSION}
                with open(tmp / "manifest.json", "w", encoding="utf-8") as f:
                    f.write(json.dumps(manifest, ensure_ascii=False, indent=1))
                    f.flush()
                    os.fsync(f.fileno())
                fsync_dir(tmp)
                name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
                final = self.root / name
                os.rename(tmp, final)
                fsync_dir(self.root)
            except BaseException as e:
                shutil.rmtree(tmp, ignore_errors=True)
                if isinstance(e, OSError):
                    raise self._write_error(e) from e
                raise
            try:
                previous = self.current_version()
            except DafuError:
                previous = None
            try:
                self._replace_pointer("CURRENT", name)
            except BaseException as e:
                shutil.rmtree(final, ignore_errors=True)
                if isinstance(e, OSError):
                    raise self._write_error(e) from e
                raise
            if previous is not None and previous.name != name:
                try:
                    self._replace_pointer("PREVIOUS", previous.name)
                except OSError:
                    pass  # only gc reads it; at worst the previous version is collected early
            self.gc()
            return final

    def _replace_pointer(self, which: str, name: str) -> None:
        tmp = self.root / f".{which}.{secrets.token_hex(4)}"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(name)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.root / which)
            fsync_dir(self.root)
        finally:
            if tmp.exists():
                tmp.unlink(missing_ok=True)

    def gc(self) -> None:
        """Keep the live version, the one live before it and the segments they name; remove other
        versions, unnamed segments and leftovers. With CURRENT damaged nothing is removed (what a repair
        needs may be there). Leftovers (.build-*, .CURRENT.*, .PREVIOUS.*, segments/.build-*) are removed at
        once while this store holds the write lock, else only once they are an hour old."""
        try:
            live = self.current_version()
        except DafuError:
            return
        keep = {live.name} if live else set()
        try:
            prev = (self.root / "PREVIOUS").read_text("utf-8").strip()
            if prev:
                keep.add(prev)
        except (OSError, UnicodeDecodeError):
            pass
        for p in self.versions():
            if p.name not in keep:
                shutil.rmtree(p, ignore_errors=True)
        now = time.time()
        for base, patterns in ((self.root, (".build-*", ".CURRENT.*", ".PREVIOUS.*")), (self.segments_dir, (".build-*",))):
            for pattern in patterns:
                for p in base.glob(pattern):
                    try:
                        old = now - p.stat().st_mtime > STALE_SECONDS
                    except OSError:
                        continue
                    if self._lock_depth or old:
                        if p.is_dir():
                            shutil.rmtree(p, ignore_errors=True)
                        else:
                            p.unlink(missing_ok=True)
        named: set[str] = set()
        for v in self.versions():
            try:
                named.update(json.loads((v / "manifest.json").read_text("utf-8")).get("segments", []))
            except (OSError, ValueError):
                return  # cannot tell what is in use: remove no segment
        for p in self.segments_dir.glob("s-*"):
            try:
                young = now - p.stat().st_mtime < 60
            except OSError:
                continue
            if p.name not in named and (self._lock_depth or not young):
                shutil.rmtree(p, ignore_errors=True)

    def size_on_disk(self) -> int:
        v = self._require()
        names = json.loads((v / "manifest.json").read_text("utf-8")).get("segments", [])
        total = sum(p.stat().st_size for p in v.rglob("*") if p.is_file())
        for n in names:
            total += sum(p.stat().st_size for p in (self.segments_dir / n).rglob("*") if p.is_file())
        return total
