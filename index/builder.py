"""Build, extend and shrink an index: load → chunk → embed (cached) → segment (FAISS + BM25) → atomic swap.

- `build` writes one new segment from the given files (streamed in batches: memory holds the
  replies and one batch of chunks, vectors and tokens, never the whole index's).
- `add` writes a segment holding only the new replies; a reply arriving again (same id) replaces
  the old one, which is marked dead in its segment. Small segments are merged as they accumulate
  (a segment is merged with the ones after it once they hold as many chunks as it does), so an
  addition costs about what the new replies cost; now and then it also pays for a merge.
- `remove` marks replies dead; a segment more than half dead is rewritten.
- `rebuild` re-chunks and re-embeds (from the cache) everything; `compact` merges all segments into
  one without re-embedding.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from index.chunking import chunk_reply
from index.commitments import reply_commitments
from index.embed import EmbeddingCache, Encoder, cache_path, load_encoder, model_identity
from index.errors import DafuError, UnknownReplyError
from index.ingest_limits import IngestLimits
from index.loader import LoadReport, Skipped, load_paths
from index.records import Chunk, Reply, settle_id
from index.segment import Segment, merge_into
from index.sentences import LABEL_CODES, sentence_embed_text, sentence_rows
from index.settings import Settings
from index.store import IndexStore, LoadedIndex
from index.tokenize import default_tokenizer

BATCH_REPLIES = 1000  # replies chunked, embedded and tokenized together while streaming a build
DEAD_SHARE_REWRITE = 0.5  # a segment with more dead chunks than this is rewritten


@dataclass
class BuildResult:
    version: str
    replies: int
    chunks: int
    embedded: int  # passages (chunks and sentences) sent to the encoder
    reused: int  # passages whose vectors came from the cache or an existing segment
    chars_embedded: int
    embed_seconds: float
    total_seconds: float
    report: LoadReport = field(default_factory=LoadReport)
    removed: list[str] = field(default_factory=list)
    segments: int = 1
    merged: int = 0  # segments merged by this write
    sentences: int = 0  # rows of the sentence table (each embedded like a chunk)

    @property
    def passages(self) -> int:
        """Texts embedded or reused: the chunks and the sentences."""
        return self.chunks + self.sentences

    @property
    def embed_rate(self) -> float:
        return self.chars_embedded / self.embed_seconds if self.embed_seconds > 0 else 0.0


def embed_text(chunk: Chunk, reply: Reply) -> str:
    """What the encoder and BM25 see: the chunk in its context (title and heading path)."""
    if chunk.part == "title":
        return chunk.text
    head = " > ".join(chunk.heading_path)
    ctx = reply.title or ""
    if head:
        ctx = f"{ctx}\n{head}" if ctx else head
    return f"{ctx}\n{chunk.text}" if ctx else chunk.text


@dataclass
class Prepared:
    """One reply ready to be stored: chunks with vectors and BM25 tokens, sentence rows with vectors."""

    reply: Reply
    chunks: list[Chunk]
    vectors: np.ndarray
    tokens: list[list[str]]
    sentences: np.ndarray  # (rows, 4): start, end, label code, chunk index within `chunks`
    sentence_vectors: np.ndarray
    texts: list[str]  # what was embedded for each chunk (embed_text)
    commitments: list = field(default_factory=list)  # the reply's promises (index/commitments.py)


@dataclass
class EmbedStats:
    embedded: int = 0
    chars: int = 0
    seconds: float = 0.0


class Indexer:
    def __init__(self, settings: Settings, encoder: Encoder | None = None, progress: bool = False,
                 workers: int | None = None) -> None:
        self.settings = settings
        self._encoder = encoder
        self.progress = progress
        self.workers = workers if workers is not None else settings.embed_workers
        self.store = IndexStore(settings.resolved_index_dir)

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            s = self.settings
            self._encoder = load_encoder(s.embed_model, s.embed_device, s.embed_batch_size, threads=s.embed_threads)
        return self._encoder

    # -- public operations ----------------------------------------------------
    def _options(self, options: dict | None) -> dict:
        return {**(options or {}), "limits": IngestLimits.from_settings(self.settings)}

    def build(self, paths: list[str | Path], options: dict | None = None) -> BuildResult:
        """A new index from `paths` only (replaces what the index held, even a damaged one)."""
        report = load_paths(paths, self._options(options))
        if not report.replies:
            raise DafuError(
                f"no reply could be read from {', '.join(map(str, paths))} "
                f"({len(report.skipped)} skipped); nothing was changed"
                + "".join(f"\n  {s.path}: {s.reason}" for s in report.skipped[:20])
            )
        with self.store.write_lock():
            return self._rewrite(report.replies, report)

    def add(self, paths: list[str | Path], options: dict | None = None) -> BuildResult:
        """Add or replace replies (same id → the new one wins); only the new replies are chunked and embedded.
        Refuses (IndexCorruptError) when the live version is damaged: it is never taken for an empty one."""
        report = load_paths(paths, self._options(options))
        with self.store.write_lock():
            if not report.replies:
                raise DafuError("no reply could be read from the given files; the index is unchanged"
                                + "".join(f"\n  {s.path}: {s.reason}" for s in report.skipped[:20]))
            current = self._current()
            if current is None or not self._compatible(current):
                # no index yet, or one built with another model or chunking: everything is re-done
                replies = dict(current.replies.items()) if current is not None else {}
                for r in report.replies:
                    settle_id(r, replies.get(r.id))
                    report.duplicates_merged += r.id in replies
                    replies[r.id] = r
                return self._rewrite(list(replies.values()), report)
            dead = {k: set(v) for k, v in current.dead.items()}
            for r in report.replies:
                pos = current.reply_pos.get(r.id)
                if pos is not None:  # the id is taken: by a copy of this letter, or by another place's letter
                    settle_id(r, current.facets.metas[pos])
                    pos = current.reply_pos.get(r.id)
                if pos is not None:
                    report.duplicates_merged += 1
                    self._mark_dead(current, pos, dead)
            t0 = time.perf_counter()
            name, stats = self._write_segment(sorted(report.replies, key=lambda r: (r.reply_date, r.id)), report,
                                              allow_empty=False)
            segs = [s.name for s in current.segments] + [name]
            return self._publish(segs, dead, report, stats, t0, fresh=len(report.replies))

    def remove(self, reply_ids: list[str]) -> BuildResult:
        with self.store.write_lock():
            current = self._current()
            for rid in reply_ids:
                if current is None or rid not in current.reply_pos:
                    raise UnknownReplyError(rid)
            t0 = time.perf_counter()
            dead = {k: set(v) for k, v in current.dead.items()}
            for rid in reply_ids:
                self._mark_dead(current, current.reply_pos[rid], dead)
            res = self._publish([s.name for s in current.segments], dead, LoadReport(), EmbedStats(), t0, fresh=0)
            res.removed = list(reply_ids)
            return res

    def rebuild(self) -> BuildResult:
        """Re-chunk and re-index what the index holds (e.g. after a chunking or model change)."""
        with self.store.write_lock():
            current = self._current()
            replies = list(current.replies.values()) if current is not None else []
            return self._rewrite(replies, LoadReport(), allow_empty=True)

    def compact(self) -> BuildResult:
        """Merge every segment into one, dropping removed replies (no re-embedding, no re-tokenizing)."""
        with self.store.write_lock():
            current = self._current()
            if current is None:
                raise DafuError(f"no index at {self.store.root} to compact")
            t0 = time.perf_counter()
            name = self._merge(current.segments, current.dead)
            res = self._finish_version(current, [name], {}, LoadReport(), EmbedStats(), t0)
            res.merged = len(current.segments)
            return res

    # -- internals ------------------------------------------------------------
    def _current(self) -> LoadedIndex | None:
        """The live version; None only when the index is absent (a damaged one raises)."""
        if self.store.is_absent():
            return None
        cur = self.store.load(lazy=True)
        self._open = {seg.name: seg for seg in cur.segments}  # reused while publishing
        return cur

    def _chunking(self) -> dict:
        s = self.settings
        return {"target": s.chunk_target, "max": s.chunk_max, "overlap": s.chunk_overlap}

    def _compatible(self, current: LoadedIndex) -> bool:
        m = current.manifest
        fp = getattr(self.encoder, "fingerprint", None) or "unknown"
        return (m.get("model") == self.encoder.name and int(m.get("dim", -1)) == int(self.encoder.dim)
                and m.get("model_fingerprint", fp) == fp and m.get("chunking") == self._chunking())

    @staticmethod
    def _mark_dead(current: LoadedIndex, pos: int, dead: dict[str, set[int]]) -> None:
        s = int(np.searchsorted(current.reply_offsets, pos, side="right") - 1)
        dead.setdefault(current.segments[s].name, set()).add(pos - int(current.reply_offsets[s]))

    def _rewrite(self, replies: list[Reply], report: LoadReport, allow_empty: bool = False) -> BuildResult:
        if not replies and not allow_empty:
            raise DafuError("refusing to write an empty index")
        t0 = time.perf_counter()
        name, stats = self._write_segment(sorted(replies, key=lambda r: (r.reply_date, r.id)), report, allow_empty)
        return self._finish_version(None, [name], {}, report, stats, t0)

    def _batches(self, replies: list[Reply]) -> Iterator[list[Reply]]:
        for i in range(0, len(replies), BATCH_REPLIES):
            yield replies[i: i + BATCH_REPLIES]

    def prepared(self, replies: list[Reply], stats: EmbedStats, report: LoadReport | None = None) -> Iterator[Prepared]:
        """Replies chunked, embedded (cache first) and tokenized, in batches; one Prepared per reply. A reply
        making more chunks than DAFU_MAX_CHUNKS_PER_REPLY is skipped (and reported in `report`)."""
        s = self.settings
        tok = default_tokenizer()
        bar = None
        try:
            if self.progress and len(replies) > 1:
                from tqdm import tqdm

                bar = tqdm(total=len(replies), unit="reply", desc="indexing", dynamic_ncols=True)
            for batch in self._batches(replies):
                per_reply = [chunk_reply(r, s.chunk_target, s.chunk_max, s.chunk_overlap) for r in batch]
                if any(len(cs) > s.max_chunks_per_reply for cs in per_reply):
                    keep = [len(cs) <= s.max_chunks_per_reply for cs in per_reply]
                    for r, cs, ok in zip(batch, per_reply, keep):
                        if not ok and report is not None:
                            report.skipped.append(Skipped(r.source or r.id, f"reply {r.id} makes {len(cs)} chunks, over the limit "
                                                          f"of {s.max_chunks_per_reply} per reply (DAFU_MAX_CHUNKS_PER_REPLY); not indexed"))
                            report.replies = [x for x in report.replies if x.id != r.id]
                    batch = [r for r, ok in zip(batch, keep) if ok]
                    per_reply = [cs for cs, ok in zip(per_reply, keep) if ok]
                texts = [embed_text(c, r) for r, cs in zip(batch, per_reply) for c in cs]
                rows = [sentence_rows([r], cs) for r, cs in zip(batch, per_reply)]
                sent_texts = [sentence_embed_text(row, r, cs[row.chunk]) for r, cs, rs in zip(batch, per_reply, rows) for row in rs]
                vectors = self._embed(texts + sent_texts, stats)
                sent_vectors, vectors = vectors[len(texts):], vectors[:len(texts)]
                tokens = [tok.tokens(t) for t in texts]
                k = j = 0
                for r, cs, rs in zip(batch, per_reply, rows):
                    table = np.array([(x.start, x.end, LABEL_CODES[x.label], x.chunk) for x in rs], np.int64).reshape(-1, 4)
                    yield Prepared(r, cs, vectors[k: k + len(cs)], tokens[k: k + len(cs)], table,
                                   sent_vectors[j: j + len(rs)], texts[k: k + len(cs)], reply_commitments(r, cs))
                    k += len(cs)
                    j += len(rs)
                if bar is not None:
                    bar.update(len(batch))
                    if stats.seconds > 0:
                        bar.set_postfix_str(f"{stats.chars / stats.seconds:.0f} chars/s embedded")
        finally:
            if bar is not None:
                bar.close()

    def _write_segment(self, replies: list[Reply], report: LoadReport | None = None,
                       allow_empty: bool = True) -> tuple[str, EmbedStats]:
        s = self.settings
        writer = self.store.segment_writer(int(self.encoder.dim))
        stats = EmbedStats()
        try:
            for p in self.prepared(replies, stats, report):
                writer.add(p.reply, p.chunks, p.vectors, p.tokens, p.sentences, p.sentence_vectors, p.commitments)
            if not writer.reply_ids and replies and not allow_empty:
                raise DafuError("no reply left to index; the index is unchanged"
                                + "".join(f"\n  {x.path}: {x.reason}" for x in (report.skipped if report else [])[:20]))
            name = writer.finish(s.dense_index, s.ann_threshold, nlist=s.ivf_nlist, nprobe=s.ivf_nprobe)
        except OSError as e:  # disk full, read-only: nothing is left behind, the live version is unchanged
            writer.abort()
            raise self.store._write_error(e) from e
        except BaseException:
            writer.abort()
            raise
        return name, stats

    def _embed(self, texts: list[str], stats: EmbedStats) -> np.ndarray:
        enc = self.encoder
        identity = model_identity(enc)  # name, dim and the weights' fingerprint: other weights never reuse a vector
        cache = EmbeddingCache(cache_path(self.settings.resolved_cache_dir, enc.name, identity), identity, int(enc.dim))
        try:
            keys = [cache.key(t) for t in texts]
            found = cache.get_many(keys)
            out = np.zeros((len(texts), enc.dim), dtype=np.float32)
            todo = []
            for i, k in enumerate(keys):
                v = found.get(k)
                if v is None:
                    todo.append(i)
                else:
                    out[i] = v
            if not todo:
                return out
            t0 = time.perf_counter()
            from index.parallel import encode_passages

            def store(idx: list[int], vecs: np.ndarray) -> None:
                out[idx] = vecs
                cache.put_many({keys[i]: vecs[j] for j, i in enumerate(idx)})

            encode_passages(enc, [texts[i] for i in todo], todo, store, batch_size=self.settings.embed_batch_size,
                            workers=self.workers, settings=self.settings)
            stats.embedded += len(todo)
            stats.chars += sum(len(texts[i]) for i in todo)
            stats.seconds += time.perf_counter() - t0
            return out
        finally:
            cache.close()

    def _merge(self, segments: list[Segment], dead: dict[str, set[int]]) -> str:
        s = self.settings
        writer = self.store.segment_writer(segments[0].dim if segments else int(self.encoder.dim))
        try:
            postings = merge_into(writer, segments, dead)
            return writer.finish(s.dense_index, s.ann_threshold, postings=postings, nlist=s.ivf_nlist, nprobe=s.ivf_nprobe)
        except OSError as e:
            writer.abort()
            raise self.store._write_error(e) from e
        except BaseException:
            writer.abort()
            raise

    def _publish(self, names: list[str], dead: dict[str, set[int]], report: LoadReport, stats: EmbedStats,
                 t0: float, fresh: int) -> BuildResult:
        """Merge policy, then the new version. `names`: segments in order (the new one last)."""
        segs = {seg.name: seg for seg in self.store_segments(names)}
        live = {n: segs[n].n_chunks - sum(int(segs[n].reply_ptr[r + 1] - segs[n].reply_ptr[r]) for r in dead.get(n, ()))
                for n in names}
        merged = 0
        # 1. a segment mostly dead is rewritten (alone)
        for i, n in enumerate(list(names)):
            if dead.get(n) and segs[n].n_chunks and 1 - live[n] / segs[n].n_chunks > DEAD_SHARE_REWRITE:
                if live[n] == 0:
                    names.remove(n)
                else:
                    new = self._merge([segs[n]], dead)
                    seg = self.store_segments([new])[0]
                    segs[new], live[new] = seg, seg.n_chunks
                    names[names.index(n)] = new
                dead.pop(n, None)
                merged += 1
        # 2. the tail: a segment no bigger than all the segments after it is merged with them
        i = 0
        while i < len(names) - 1:
            if live[names[i]] <= sum(live[n] for n in names[i + 1:]):
                group = names[i:]
                new = self._merge([segs[n] for n in group], dead)
                seg = self.store_segments([new])[0]
                segs[new], live[new] = seg, seg.n_chunks
                for n in group:
                    dead.pop(n, None)
                names = names[:i] + [new]
                merged += len(group)
                break
            i += 1
        res = self._finish_version(None, names, dead, report, stats, t0, segs=[segs[n] for n in names])
        res.merged = merged
        return res

    def store_segments(self, names: list[str]) -> list[Segment]:
        opened = getattr(self, "_open", {})
        return [opened.get(n) or Segment(self.store.segments_dir / n) for n in names]

    def _finish_version(self, current: LoadedIndex | None, names: list[str], dead: dict[str, set[int]],
                        report: LoadReport, stats: EmbedStats, t0: float, segs: list[Segment] | None = None) -> BuildResult:
        segs = segs if segs is not None else self.store_segments(names)
        dead = {n: sorted(v) for n, v in dead.items() if v and n in names}
        n_replies = sum(sg.n_replies - len(dead.get(sg.name, ())) for sg in segs)
        n_chunks = sum(sg.n_chunks - sum(int(sg.reply_ptr[r + 1] - sg.reply_ptr[r]) for r in dead.get(sg.name, ()))
                       for sg in segs)
        n_sent = sum(len(sg.sent_reply) - sum(int(sg.sent_ptr[r + 1] - sg.sent_ptr[r]) for r in dead.get(sg.name, ()))
                     for sg in segs)
        n_comm = sum(int(sg.meta.get("commitments", 0)) for sg in segs)  # removed replies' counted until merged
        kinds = sorted({sg.dense_kind for sg in segs if sg.n_chunks}) or ["flat"]
        big = max(segs, key=lambda sg: sg.n_chunks).dense_kind if segs else "flat"
        manifest = {
            "model": self.encoder.name,
            "dim": int(self.encoder.dim),
            "model_fingerprint": getattr(self.encoder, "fingerprint", None) or "unknown",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "replies": n_replies,
            "chunks": n_chunks,
            "sentences": n_sent,
            "commitments": n_comm,
            "dense_kind": big if len(kinds) == 1 else "+".join(sorted(kinds, key=lambda k: k != big)),
            "chunking": self._chunking(),
            "segments": names,
            "dead": dead,
        }
        version = self.store.write_version(manifest)
        return BuildResult(version.name, n_replies, n_chunks, stats.embedded, n_chunks + n_sent - stats.embedded, stats.chars,
                           stats.seconds, time.perf_counter() - t0, report, segments=len(names), sentences=n_sent)


def open_index(settings: Settings, build_default: bool = True, progress: bool = False) -> LoadedIndex:
    """Load the configured index; with no index configured, build the bundled sample on first use."""
    from index.backends import make_indexer, open_store

    store = open_store(settings)
    default = settings.uses_default_index if settings.backend == "faiss" else not settings.milvus_uri
    if default and build_default and store.is_absent():  # a damaged index is never built over
        from importlib import resources

        sample = Path(str(resources.files("index").joinpath("data/sample")))
        make_indexer(settings, progress=progress).build([sample])
    return store.load(nprobe=settings.ivf_nprobe)
