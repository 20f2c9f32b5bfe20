"""Build, extend and shrink an index: load → chunk → embed (cached) → FAISS + BM25 → atomic write."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.bm25 import BM25Index
from index.chunking import chunk_reply
from index.commitments import extract_commitments
from index.dense import DenseIndex
from index.embed import EmbeddingCache, Encoder, cache_path, load_encoder, model_identity
from index.errors import DafuError, UnknownReplyError
from index.ingest_limits import IngestLimits
from index.loader import LoadReport, Skipped, load_paths
from index.records import Chunk, Reply
from index.sentences import build_table, sentence_embed_text, sentence_rows
from index.settings import Settings
from index.store import IndexStore, LoadedIndex
from index.tokenize import default_tokenizer


@dataclass
class BuildResult:
    version: str
    replies: int
    chunks: int
    embedded: int  # passages (chunks and sentences) sent to the encoder
    reused: int  # passages whose vectors came from the cache
    chars_embedded: int
    embed_seconds: float
    total_seconds: float
    report: LoadReport = field(default_factory=LoadReport)
    removed: list[str] = field(default_factory=list)
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


class Indexer:
    def __init__(self, settings: Settings, encoder: Encoder | None = None, progress: bool = False) -> None:
        self.settings = settings
        self._encoder = encoder
        self.progress = progress
        self.store = IndexStore(settings.resolved_index_dir)

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = load_encoder(self.settings.embed_model, self.settings.embed_device, self.settings.embed_batch_size)
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
            return self._write(report.replies, report)

    def add(self, paths: list[str | Path], options: dict | None = None) -> BuildResult:
        """Add or replace replies (same id → the new one wins); unchanged chunks reuse their vectors.
        Refuses (IndexCorruptError) when the live version is damaged: it is never taken for an empty one."""
        report = load_paths(paths, self._options(options))
        with self.store.write_lock():
            current = self._current_replies()
            for r in report.replies:
                if r.id in current:
                    report.duplicates_merged += 1
                current[r.id] = r
            if not report.replies:
                raise DafuError("no reply could be read from the given files; the index is unchanged"
                                + "".join(f"\n  {s.path}: {s.reason}" for s in report.skipped[:20]))
            return self._write(list(current.values()), report)

    def remove(self, reply_ids: list[str]) -> BuildResult:
        with self.store.write_lock():
            current = self._current_replies()
            for rid in reply_ids:
                if rid not in current:
                    raise UnknownReplyError(rid)
            for rid in reply_ids:
                del current[rid]
            res = self._write(list(current.values()), LoadReport(), allow_empty=True)
            res.removed = list(reply_ids)
            return res

    def rebuild(self) -> BuildResult:
        """Re-chunk and re-index what the index holds (e.g. after a chunking change)."""
        with self.store.write_lock():
            return self._write(list(self._current_replies().values()), LoadReport())

    # -- internals ------------------------------------------------------------
    def _current_replies(self) -> dict[str, Reply]:
        """The live version's replies; {} only when the index is absent (a damaged one raises)."""
        if self.store.is_absent():
            return {}
        return dict(self.store.load().replies)

    def _write(self, replies: list[Reply], report: LoadReport, allow_empty: bool = False) -> BuildResult:
        t0 = time.perf_counter()
        s = self.settings
        replies = sorted(replies, key=lambda r: (r.reply_date, r.id))
        chunks: list[Chunk] = []
        kept: list[Reply] = []
        for r in replies:
            rc = chunk_reply(r, s.chunk_target, s.chunk_max, s.chunk_overlap)
            if len(rc) > s.max_chunks_per_reply:
                report.skipped.append(Skipped(r.source or r.id, f"reply {r.id} makes {len(rc)} chunks, over the limit of "
                                              f"{s.max_chunks_per_reply} per reply (DAFU_MAX_CHUNKS_PER_REPLY); not indexed"))
                report.replies = [x for x in report.replies if x.id != r.id]
                continue
            kept.append(r)
            chunks.extend(rc)
        replies = kept
        if not replies and not allow_empty:
            raise DafuError("no reply left to index; the index is unchanged"
                            + "".join(f"\n  {x.path}: {x.reason}" for x in report.skipped[:20]))
        by_id = {r.id: r for r in replies}
        texts = [embed_text(c, by_id[c.reply_id]) for c in chunks]
        rows = sentence_rows(replies, chunks)
        sent_texts = [sentence_embed_text(r, by_id[r.reply_id], chunks[r.chunk]) for r in rows]
        all_vectors, embedded, chars, secs = self._embed(texts + sent_texts)
        vectors, sent_vectors = all_vectors[:len(texts)], all_vectors[len(texts):]
        sentences = build_table(rows, {r.id: i for i, r in enumerate(replies)}, sent_vectors)
        tok = default_tokenizer()
        tokens = [tok.tokens(t) for t in texts]
        dense = DenseIndex.build(vectors if len(vectors) else np.zeros((0, self.encoder.dim), np.float32), s.ann_threshold)
        bm25 = BM25Index.build(tokens)
        commitments = extract_commitments(replies, chunks)  # the replies' promises, for `dafu track`
        manifest = {
            "model": self.encoder.name,
            "dim": int(self.encoder.dim),
            "model_fingerprint": getattr(self.encoder, "fingerprint", None) or "unknown",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "replies": len(replies),
            "chunks": len(chunks),
            "sentences": len(rows),
            "dense_kind": dense.kind,
            "chunking": {"target": s.chunk_target, "max": s.chunk_max, "overlap": s.chunk_overlap},
            "commitments": len(commitments),
        }
        version = self.store.write(manifest, replies, chunks, vectors, dense, bm25, sentences, commitments=commitments)
        return BuildResult(version.name, len(replies), len(chunks), embedded, len(texts) + len(sent_texts) - embedded, chars, secs,
                           time.perf_counter() - t0, report, sentences=len(rows))

    def _embed(self, texts: list[str]) -> tuple[np.ndarray, int, int, float]:
        enc = self.encoder
        identity = model_identity(enc)
        cache = EmbeddingCache(cache_path(self.settings.resolved_cache_dir, enc.name, identity), identity, int(enc.dim))
        try:
            keys = [cache.key(t) for t in texts]
            found = cache.get_many(keys)
            todo = [i for i, k in enumerate(keys) if k not in found]
            out = np.zeros((len(texts), enc.dim), dtype=np.float32)
            for i, k in enumerate(keys):
                if k in found:
                    out[i] = found[k]
            chars = sum(len(texts[i]) for i in todo)
            t0 = time.perf_counter()
            bs = self.settings.embed_batch_size
            bar = None
            if self.progress and todo:
                from tqdm import tqdm

                bar = tqdm(total=len(todo), unit="chunk", desc="embedding", dynamic_ncols=True)
            done_chars = 0
            for b in range(0, len(todo), bs):
                idx = todo[b: b + bs]
                vecs = enc.encode_passages([texts[i] for i in idx])
                out[idx] = vecs
                cache.put_many({keys[i]: vecs[j] for j, i in enumerate(idx)})
                if bar is not None:
                    done_chars += sum(len(texts[i]) for i in idx)
                    bar.update(len(idx))
                    bar.set_postfix_str(f"{done_chars / max(time.perf_counter() - t0, 1e-9):.0f} chars/s")
            if bar is not None:
                bar.close()
            return out, len(todo), chars, time.perf_counter() - t0
        finally:
            cache.close()


def open_index(settings: Settings, build_default: bool = True, progress: bool = False) -> LoadedIndex:
    """Load the configured index; with no index configured, build the bundled sample on first use —
    only when the folder holds no index at all (a damaged one raises, it is never built over)."""
    store = IndexStore(settings.resolved_index_dir)
    if settings.uses_default_index and build_default and store.is_absent():
        from importlib import resources

        sample = Path(str(resources.files("index").joinpath("data/sample")))
        Indexer(settings, progress=progress).build([sample])
    return store.load()
