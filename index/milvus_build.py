"""Writing an index into Milvus: build, add, remove, rebuild (index/milvus.py has the layout).

The same pipeline as the FAISS backend (index/builder.py: chunking, embedding cache, sentence table,
dafu's tokens), stored as Milvus rows instead of segment files:

- `build` writes a new generation of collections and then switches the meta row to it, so a build
  that fails or is interrupted leaves the previous index serving; the generation before the
  previous one is dropped.
- `add` inserts the new replies' sentence and chunk rows, then their reply rows; a reply that was
  already there (same id) is deleted first (its reply row, then its rows). Word document
  frequencies (terms collection) follow. `remove` deletes.
"""
from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np

from index.builder import BuildResult, EmbedStats, Indexer, Prepared
from index.errors import DafuError, UnknownReplyError
from index.facets import ReplyMeta
from index.loader import LoadReport, load_paths
from index.milvus import MilvusStore, _date_int, involved, pack_record, term_key
from index.records import Reply, settle_id

INSERT_BATCH = 500


class MilvusIndexer(Indexer):
    """Indexer with Milvus as the store (DAFU_BACKEND=milvus)."""

    def __init__(self, settings, encoder=None, progress: bool = False, workers: int | None = None) -> None:
        super().__init__(settings, encoder, progress, workers)
        self.store = MilvusStore(settings)  # type: ignore[assignment]

    # -- operations -------------------------------------------------------------------------------------
    def build(self, paths: list[str | Path], options: dict | None = None) -> BuildResult:
        report = load_paths(paths, options)
        if not report.replies:
            raise DafuError(f"no reply could be read from {', '.join(map(str, paths))} ({len(report.skipped)} skipped); "
                            f"nothing was changed" + "".join(f"\n  {s.path}: {s.reason}" for s in report.skipped[:20]))
        with self.store.write_lock():
            return self._rewrite(report.replies, report)

    def rebuild(self) -> BuildResult:
        with self.store.write_lock():
            st = self.store.read_state()
            replies = list(self.store.load().replies.values()) if st and st.get("generation") else []
            return self._rewrite(replies, LoadReport(), allow_empty=True)

    def compact(self) -> BuildResult:
        """Ask Milvus to compact the live collections (a server merges its segments; milvus-lite too)."""
        with self.store.write_lock():
            t0 = time.perf_counter()
            st = self._state_or_fail()
            c = self.store.client
            for n in self.store.names(st["generation"]).values():
                if hasattr(c, "compact"):
                    try:
                        c.compact(n)
                    except Exception:  # not every deployment compacts on request
                        pass
            return self._result(st, LoadReport(), EmbedStats(), t0)

    def add(self, paths: list[str | Path], options: dict | None = None) -> BuildResult:
        report = load_paths(paths, options)
        with self.store.write_lock():
            if not report.replies:
                raise DafuError("no reply could be read from the given files; the index is unchanged"
                                + "".join(f"\n  {s.path}: {s.reason}" for s in report.skipped[:20]))
            st = self.store.read_state()
            if not st or not st.get("generation") or not self._compatible_state(st):
                current = {}
                if st and st.get("generation"):
                    current = dict(self.store.load().replies.items())
                for r in report.replies:
                    report.duplicates_merged += r.id in current
                    current[r.id] = r
                return self._rewrite(list(current.values()), report)
            t0 = time.perf_counter()
            names = self.store.names(st["generation"])
            taken = self._metas_of([r.id for r in report.replies], names)
            for r in report.replies:  # an id taken by another place's letter (same number, same day): not a copy
                settle_id(r, taken.get(r.id))
            existing = self._positions_of([r.id for r in report.replies], names)
            report.duplicates_merged += len(existing)
            self._delete(list(existing.values()), names, st)
            stats = EmbedStats()
            self._insert(sorted(report.replies, key=lambda r: (r.reply_date, r.id)), names, st, stats)
            st["writes"] = st.get("writes", 0) + 1
            self.store.set_state(st)
            return self._result(st, report, stats, t0)

    def remove(self, reply_ids: list[str]) -> BuildResult:
        with self.store.write_lock():
            st = self._state_or_fail()
            names = self.store.names(st["generation"])
            found = self._positions_of(reply_ids, names)
            for rid in reply_ids:
                if rid not in found:
                    raise UnknownReplyError(rid)
            t0 = time.perf_counter()
            self._delete(list(found.values()), names, st)
            st["writes"] = st.get("writes", 0) + 1
            self.store.set_state(st)
            res = self._result(st, LoadReport(), EmbedStats(), t0)
            res.removed = list(reply_ids)
            return res

    def import_faiss(self, index_dir: Path) -> BuildResult:
        """Move an index from the FAISS backend: its replies, with the vectors it stored (written to the
        embedding cache first, so nothing is encoded again), become a new Milvus generation."""
        from index.embed import EmbeddingCache, cache_path, model_identity
        from index.sentences import LABEL_NAMES, SentenceRow, sentence_embed_text
        from index.store import IndexStore

        src = IndexStore(Path(index_dir))
        if not src.exists():
            raise DafuError(f"no FAISS index at {index_dir}; pass the folder given to --index (or DAFU_INDEX_DIR)")
        idx = src.load(lazy=True)
        if idx.manifest.get("model") != self.encoder.name:
            raise DafuError(f"the index at {index_dir} was built with {idx.manifest.get('model')!r}, DAFU_EMBED_MODEL is "
                            f"{self.encoder.name!r}; set DAFU_EMBED_MODEL={idx.manifest.get('model')} to move it as it is")
        from index.builder import embed_text

        identity = model_identity(self.encoder)
        cache = EmbeddingCache(cache_path(self.settings.resolved_cache_dir, self.encoder.name, identity), identity,
                               int(self.encoder.dim))
        replies = []
        try:
            st = idx.sentences
            for pos in idx.reply_pos.values():
                r = idx.reply_at(pos)
                replies.append(r)
                cpos = idx.chunks_of_pos(pos)
                chunks = [idx.chunks[int(i)] for i in cpos]
                items = {cache.key(embed_text(c, r)): v for c, v in zip(chunks, idx.vectors[cpos])}
                sl = st.rows_of(pos)
                vecs = st.vectors[sl]
                for k, row in enumerate(range(sl.start, sl.stop)):
                    ci = int(st.chunk[row]) - int(cpos[0]) if len(cpos) else 0
                    srow = SentenceRow(r.id, int(st.start[row]), int(st.end[row]), LABEL_NAMES[int(st.label[row])], ci)
                    items[cache.key(sentence_embed_text(srow, r, chunks[ci]))] = vecs[k]
                cache.put_many(items)
        finally:
            cache.close()
        if idx.manifest.get("chunking"):
            ch = idx.manifest["chunking"]
            self.settings = self.settings.model_copy(update={"chunk_target": ch["target"], "chunk_max": ch["max"],
                                                             "chunk_overlap": ch["overlap"]})
        with self.store.write_lock():
            return self._rewrite(replies, LoadReport())

    # -- internals ---------------------------------------------------------------------------------------
    def _state_or_fail(self) -> dict:
        st = self.store.read_state()
        if not st or not st.get("generation"):
            raise DafuError(f"no index in Milvus at {self.store.uri}; build one with `dafu index build PATH…`")
        return st

    def _compatible_state(self, st: dict) -> bool:
        return (st.get("model") == self.encoder.name and int(st.get("dim", -1)) == int(self.encoder.dim)
                and st.get("chunking") == self._chunking())

    def _rewrite(self, replies: list[Reply], report: LoadReport, allow_empty: bool = False) -> BuildResult:
        if not replies and not allow_empty:
            raise DafuError("refusing to write an empty index")
        t0 = time.perf_counter()
        old = self.store.read_state() or {}
        gen = int(old.get("generation") or 0) + 1
        names = self.store.create_generation(gen, int(self.encoder.dim))
        st = {"generation": gen, "writes": int(old.get("writes", 0)) + 1, "model": self.encoder.name,
              "dim": int(self.encoder.dim), "chunking": self._chunking(), "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "replies": 0, "chunks": 0, "sentences": 0, "next_reply": 0, "next_chunk": 0, "next_sentence": 0,
              "dense_kind": f"milvus:{self.settings.milvus_index_type}"}
        stats = EmbedStats()
        try:
            self._insert(sorted(replies, key=lambda r: (r.reply_date, r.id)), names, st, stats)
        except BaseException:
            self.store.drop_generation(gen)
            raise
        self.store.set_state(st)  # readers switch here
        if old.get("generation"):
            self.store.drop_generation(int(old["generation"]) - 1)  # keep the one readers may still hold
        return self._result(st, report, stats, t0)

    def _rows_of(self, reply_ids: list[str], names: dict[str, str], fields: list[str]):
        """The reply rows of these ids (in requests of 200), with `fields`."""
        for i in range(0, len(reply_ids), 200):
            part = reply_ids[i: i + 200]
            expr = "reply_id in [" + ", ".join(json.dumps(x, ensure_ascii=False) for x in part) + "]"
            yield from self.store.client.query(names["replies"], filter=expr, output_fields=["reply_id", *fields])

    def _metas_of(self, reply_ids: list[str], names: dict[str, str]) -> dict[str, ReplyMeta]:
        return {row["reply_id"]: ReplyMeta.from_list(json.loads(row["meta"])) for row in self._rows_of(reply_ids, names, ["meta"])}

    def _positions_of(self, reply_ids: list[str], names: dict[str, str]) -> dict[str, int]:
        return {row["reply_id"]: int(row["pk"]) for row in self._rows_of(reply_ids, names, ["pk"])}

    def _delete(self, positions: list[int], names: dict[str, str], st: dict) -> None:
        """Reply rows first (readers stop seeing them), then their chunks and sentences; counts and word
        frequencies follow."""
        if not positions:
            return
        c = self.store.client
        rows = c.get(names["replies"], ids=positions, output_fields=["pk", "chunk_lo", "chunk_hi", "sent_lo", "sent_hi"])
        c.delete(names["replies"], ids=positions)
        chunk_ids = [p for r in rows for p in range(int(r["chunk_lo"]), int(r["chunk_hi"]))]
        sent_ids = [p for r in rows for p in range(int(r["sent_lo"]), int(r["sent_hi"]))]
        gone: Counter[str] = Counter()
        for i in range(0, len(chunk_ids), 1000):
            for row in c.get(names["chunks"], ids=chunk_ids[i: i + 1000], output_fields=["tokens"]):
                gone.update(set((row.get("tokens") or "").split(" ")) - {""})
            c.delete(names["chunks"], ids=chunk_ids[i: i + 1000])
        for i in range(0, len(sent_ids), 1000):
            c.delete(names["sentences"], ids=sent_ids[i: i + 1000])
        self._update_df(names, {t: -n for t, n in gone.items()})
        st["replies"] -= len(rows)
        st["chunks"] -= len(chunk_ids)
        st["sentences"] -= len(sent_ids)

    def _update_df(self, names: dict[str, str], delta: dict[str, int]) -> None:
        if not delta:
            return
        c = self.store.client
        terms = list(delta)
        current: dict[str, int] = {}
        for i in range(0, len(terms), 1000):
            part = terms[i: i + 1000]
            for row in c.get(names["terms"], ids=[term_key(t) for t in part], output_fields=["term", "df"]):
                current[row["term"]] = int(row["df"])
        rows = [{"pk": term_key(t), "term": t[:1000], "df": max(0, current.get(t, 0) + d), "dummy": [0.0, 0.0]}
                for t, d in delta.items()]
        for i in range(0, len(rows), 2000):
            c.upsert(names["terms"], rows[i: i + 2000])

    def _insert(self, replies: list[Reply], names: dict[str, str], st: dict, stats: EmbedStats) -> None:
        c = self.store.client
        df: Counter[str] = Counter()
        chunk_rows: list[dict] = []
        sent_rows: list[dict] = []
        reply_rows: list[dict] = []

        def flush(final: bool = False) -> None:
            if chunk_rows and (final or len(chunk_rows) >= INSERT_BATCH):
                c.insert(names["sentences"], sent_rows) if sent_rows else None
                c.insert(names["chunks"], chunk_rows)
                c.insert(names["replies"], reply_rows)  # last: a reply is visible once its rows are in
                chunk_rows.clear(), sent_rows.clear(), reply_rows.clear()

        for p in self.prepared(replies, stats):
            self._rows(p, st, chunk_rows, sent_rows, reply_rows, df)
            flush()
        flush(final=True)
        self._update_df(names, dict(df))
        for n in (names["chunks"], names["replies"], names["sentences"], names["terms"]):
            if hasattr(c, "flush"):
                try:
                    c.flush(n)
                except Exception:
                    pass

    def _rows(self, p: Prepared, st: dict, chunk_rows: list, sent_rows: list, reply_rows: list, df: Counter) -> None:
        r = p.reply
        meta = ReplyMeta.of(r)
        depts = involved(meta)
        digits = sorted({g.lstrip("0") for g in re.findall(r"\d+", r.number or "")})[:16]
        date = _date_int(meta.date)
        pos = st["next_reply"]
        c0 = st["next_chunk"]
        s0 = st["next_sentence"]
        for i, (ch, vec, toks, text) in enumerate(zip(p.chunks, p.vectors, p.tokens, p.texts)):
            words = sorted(set(toks))
            df.update(words)
            chunk_rows.append({
                "pk": c0 + i, "reply_pos": pos, "text": text[:20000], "vec": np.asarray(vec, np.float32).tolist(),
                "record": json.dumps(ch.to_dict(), ensure_ascii=False), "tokens": " ".join(words)[:60000],
                "evidence": bool(ch.part != "reply" or ch.label != "courtesy"), "year": int(meta.year or 0), "date": date,
                "departments": depts[:64], "proposer": (r.proposer or "")[:1000], "number": (r.number or "")[:250],
                "digits": digits, "place": meta.place[:120],
            })
        for j, (row, vec) in enumerate(zip(p.sentences, p.sentence_vectors)):
            sent_rows.append({"pk": s0 + j, "reply_pos": pos, "start": int(row[0]), "end": int(row[1]), "label": int(row[2]),
                              "chunk": c0 + int(row[3]), "vec": np.asarray(vec, np.float32).tolist()})
        rec = pack_record(r.to_dict())
        reply_rows.append({"pk": pos, "reply_id": r.id, **{f"record{i}": part for i, part in enumerate(rec)},
                           "meta": json.dumps(meta.to_list(), ensure_ascii=False), "proposer": (r.proposer or "")[:1000],
                           "last_number": (re.findall(r"\d+", r.number or "") or [""])[-1].lstrip("0")[:60],
                           "chunk_lo": c0, "chunk_hi": c0 + len(p.chunks),
                           "sent_lo": s0, "sent_hi": s0 + len(p.sentences), "year": int(meta.year or 0), "date": date,
                           "dummy": [0.0, 0.0]})
        if meta.place and meta.place not in st.setdefault("places", []):
            st["places"].append(meta.place)
        known = st.setdefault("departments", [])
        known.extend(d for d in depts if d not in known)
        st["next_reply"] += 1
        st["next_chunk"] += len(p.chunks)
        st["next_sentence"] += len(p.sentences)
        st["replies"] += 1
        st["chunks"] += len(p.chunks)
        st["sentences"] += len(p.sentences)

    def _result(self, st: dict, report: LoadReport, stats: EmbedStats, t0: float) -> BuildResult:
        return BuildResult(f"milvus-g{st['generation']}-w{st.get('writes', 0)}", int(st["replies"]), int(st["chunks"]),
                           stats.embedded, int(st["chunks"]) + int(st["sentences"]) - stats.embedded, stats.chars,
                           stats.seconds, time.perf_counter() - t0, report, segments=1, sentences=int(st["sentences"]))
