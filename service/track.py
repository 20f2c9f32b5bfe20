"""Commitment tracking (办理情况跟踪): did later replies do what a reply promised?

For every commitment of the index (:mod:`index.commitments`) the tracker looks at the **later replies on the
same matter**: a later reply date, the same district, and the same department or a similar topic (title
vectors of the index, or shared title words). In each of them, in date order:

* a *done*-type sentence that reports on the measure is a **report**: scored by the IDF-weighted share of
  the commitment's words it contains (words of the two titles weigh less: every sentence of the letter
  shares them), the dense similarity of the commitment to the sentence's chunk (the index's own vectors), and
  whether it gives a figure in the commitment's unit. Years keep annual targets apart: a sentence only about
  years before the promise is never a report, and once a promise has been reported, later replies count
  only when they speak of its own period (up to its due year);
* while nothing has been reported yet, a *plan* sentence (a later commitment) that restates it is a
  **restatement**; the restated promise then inherits the reports of its restatement.

Status, as of a date (default today): ``reported`` (fulfilment ``met``/``partly`` when a reported figure in
the target's unit can be compared with the target — promised 20 个, reported 22 个 → met; 12 个 → partly —
else ``unclear``), ``in_progress`` (only restated), ``not_reported`` (its due date has passed with nothing
reported), ``pending`` (not due yet). A promise without a stated date is taken as due at the end of the year
after the reply. Every status cites its evidence: sentences with offsets into their reply's text.

The thresholds of :class:`TrackParams` were tuned on the `tune` half of eval/dev/track (docs/tracking.md).
"""
from __future__ import annotations

import datetime as _dt
import math
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from index.commitments import Commitment, Figure, department_of, district_of, extract_commitments, parse_figures, topic_of
from index.records import Reply
from index.store import LoadedIndex
from index.tokenize import default_tokenizer
from service.track_records import Evidence, Tracked, TrackParams, default_params, effective_due, end_of_year

SECOND_SENTENCE_SHARE = 0.8  # a reply's further report sentences are cited when they score this share of its best
YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")
_DIGIT_TOKEN = re.compile(r"\d")


@dataclass
class _Sent:
    reply_id: str
    start: int
    end: int
    label: str
    chunk: int  # position of the chunk it was found in
    heading_path: list[str]
    tokens: frozenset[str]
    years: list[int]
    _figures: list[Figure] | None = None

    def figures(self, text: str) -> list[Figure]:
        if self._figures is None:
            self._figures = parse_figures(text[self.start:self.end], self.start)
        return self._figures


def _date(r: Reply) -> str:
    return r.reply_date or r.signed_date or ""


def _bigrams(s: str) -> set[str]:
    s = re.sub(r"[\W\d]|年|月|计划|力争|完成|新增|累计|全区|全县|全市|其中|以上|达到", "", s)
    return {s[i:i + 2] for i in range(len(s) - 1)}


class CommitmentTracker:
    """Links and statuses of the commitments of one loaded index version.

    Links are computed on first need, per commitment, and kept (the index version is immutable). Sentence
    vectors of the later replies come from `encoder` (through the on-disk embedding cache in `cache_dir` when
    given); without an encoder the dense term is left out and only words, figures and years decide.
    """

    def __init__(self, index: LoadedIndex, encoder=None, params: TrackParams | None = None,
                 cache_dir=None) -> None:
        self.index = index
        self.params = params or default_params(index.manifest.get("model", ""))
        self.encoder = encoder
        self.cache_dir = cache_dir
        self.tok = default_tokenizer()
        if index.commitments is not None:
            self.commitments = list(index.commitments)
        else:  # a version written before commitments were stored: extract them now
            self.commitments = extract_commitments(sorted(index.replies.values(), key=lambda r: (_date(r), r.id)),
                                                   index.chunks)
        self.cvecs = self._encode([c.text for c in self.commitments])  # sentence vectors (disk cache)
        self.by_id = {c.id: i for i, c in enumerate(self.commitments)}
        self.by_reply: dict[str, list[int]] = {}
        for i, c in enumerate(self.commitments):
            self.by_reply.setdefault(c.reply_id, []).append(i)
        self.info = {rid: self._reply_info(r) for rid, r in index.replies.items()}
        self._centre_titles()
        self._sents: dict[str, list[_Sent]] = {}
        self._svecs: dict[str, np.ndarray | None] = {}
        self._idf: dict[str, float] = {}
        self._links: dict[int, list[Evidence]] = {}
        self._direct: dict[int, tuple[list[Evidence], list[int]]] = {}
        self._lock = threading.RLock()

    # -- vectors ------------------------------------------------------------------------------------------
    def _encode(self, texts: list[str]) -> np.ndarray | None:
        """Passage vectors of `texts` (cached on disk when a cache folder is set); None without an encoder."""
        enc = self.encoder
        if enc is None or not texts:
            return None
        if self.cache_dir is None:
            return np.asarray(enc.encode_passages(texts), dtype=np.float32)
        from index.embed import EmbeddingCache, cache_path

        cache = EmbeddingCache(cache_path(self.cache_dir, enc.name), enc.name)
        try:
            keys = [cache.key(t) for t in texts]
            found = cache.get_many(keys)
            todo = [i for i, k in enumerate(keys) if k not in found]
            out = np.zeros((len(texts), enc.dim), dtype=np.float32)
            for i, k in enumerate(keys):
                if k in found:
                    out[i] = found[k]
            if todo:
                vecs = enc.encode_passages([texts[i] for i in todo])
                out[todo] = vecs
                cache.put_many({keys[i]: vecs[j] for j, i in enumerate(todo)})
            return out
        finally:
            cache.close()

    def _sentence_vectors(self, reply_id: str) -> np.ndarray | None:
        if reply_id not in self._svecs:
            text = self.index.replies[reply_id].text
            self._svecs[reply_id] = self._encode([text[s.start:s.end] for s in self.sentences(reply_id)])
        return self._svecs[reply_id]

    # -- per reply ----------------------------------------------------------------------------------------
    def _reply_info(self, r: Reply) -> dict[str, Any]:
        title_vec = None
        ix = self.index.reply_chunks.get(r.id)
        if ix is not None and len(ix) and len(self.index.vectors):
            titles = [i for i in ix if self.index.chunks[i].part == "title"]
            title_vec = self.index.vectors[titles[0]] if titles else self.index.vectors[ix].mean(axis=0)
        return {"date": _date(r), "district": district_of(r), "department": department_of(r),
                "title_tokens": frozenset(self._content(r.title)), "title_vec": title_vec, "topic": topic_of(r)}

    def _centre_titles(self) -> None:
        """Title vectors minus their mean over the index: every '关于…的建议' title looks alike to the encoder
        (all raw cosines ≈ 0.95); what is left after centring is what the titles are about."""
        vecs = [inf["title_vec"] for inf in self.info.values() if inf["title_vec"] is not None]
        mean = np.mean(vecs, axis=0) if len(vecs) >= 3 else None
        for inf in self.info.values():
            v = inf["title_vec"]
            if v is None or mean is None:
                inf["title_vec"] = None
                continue
            v = v - mean
            n = float(np.linalg.norm(v))
            inf["title_vec"] = v / n if n > 0 else None

    def _content(self, text: str) -> list[str]:
        return [t for t in self.tok.tokens(text) if not _DIGIT_TOKEN.search(t) and len(t) > 1 or re.fullmatch(r"[a-z]+", t)]

    def sentences(self, reply_id: str) -> list[_Sent]:
        """The reply letter's done and plan sentences (each once), with their tokens and the years they name."""
        got = self._sents.get(reply_id)
        if got is not None:
            return got
        text = self.index.replies[reply_id].text
        seen: dict[tuple[int, int], _Sent] = {}
        for ci in self.index.reply_chunks.get(reply_id, []):
            ch = self.index.chunks[ci]
            if ch.part != "reply":
                continue
            for s in ch.sentences:
                if s.label in ("done", "plan") and (s.start, s.end) not in seen:
                    t = text[s.start:s.end]
                    seen[(s.start, s.end)] = _Sent(reply_id, s.start, s.end, s.label, int(ci), list(ch.heading_path),
                                                   frozenset(self._content(t)), [int(y) for y in YEAR_RE.findall(t)])
        out = sorted(seen.values(), key=lambda x: x.start)
        self._sents[reply_id] = out
        return out

    def idf(self, token: str) -> float:
        """IDF over the index's chunks, from its BM25 index."""
        v = self._idf.get(token)
        if v is None:
            n = max(1, len(self.index.chunks))
            df = int((self.index.bm25.scores([token]) > 0).sum()) if len(self.index.chunks) else 0
            v = math.log((n + 1) / (df + 0.5))
            self._idf[token] = v = max(v, 0.05)
        return v

    # -- candidates -----------------------------------------------------------------------------------------
    def same_matter(self, a: str, b: str) -> bool:
        """Same district, and the same department or a similar topic (title vectors or title words)."""
        ia, ib = self.info[a], self.info[b]
        if ia["district"] != ib["district"]:
            return False
        if ia["department"] and ia["department"] == ib["department"]:
            return True
        p = self.params
        if ia["title_vec"] is not None and ib["title_vec"] is not None and float(ia["title_vec"] @ ib["title_vec"]) >= p.topic_dense:
            return True
        ta, tb = ia["title_tokens"], ib["title_tokens"]
        total = sum(self.idf(t) for t in ta)
        return total > 0 and sum(self.idf(t) for t in ta & tb) / total >= p.topic_words

    def later_replies(self, c: Commitment) -> list[str]:
        d = self.info[c.reply_id]["date"]
        out = [rid for rid, inf in self.info.items()
               if rid != c.reply_id and inf["date"] > d and self.same_matter(c.reply_id, rid)]
        return sorted(out, key=lambda rid: (self.info[rid]["date"], rid))

    # -- scores -----------------------------------------------------------------------------------------------
    def _weights(self, c: Commitment, other_reply: str) -> list[dict[str, float]]:
        """Word weights (IDF; title words weigh less) of the whole sentence and of its measure clause: a report
        speaks to the measure (新增老年助餐点20个), often not to the rest (重点向老年人口集中的老旧小区倾斜)."""
        titles = self.info[c.reply_id]["title_tokens"] | self.info[other_reply]["title_tokens"]
        w = {}
        for t in set(self._content(c.text)):
            w[t] = self.idf(t) * (self.params.title_word_weight if t in titles else 1.0)
        out = [w]
        measure = set(self._content(c.measure)) & set(w)
        if len(measure) >= 2 and measure != set(w):
            out.append({t: w[t] for t in measure})
        return out

    @staticmethod
    def lexical(weights: list[dict[str, float]], tokens: frozenset[str]) -> float:
        """IDF-weighted share of the commitment's words (or of its measure's words, whichever is higher) in `tokens`."""
        best = 0.0
        for w in weights:
            total = sum(w.values())
            if total > 0:
                best = max(best, sum(v for t, v in w.items() if t in tokens) / total)
        return best

    def _dense(self, ci: int, vec: np.ndarray | None) -> float:
        p = self.params
        if self.cvecs is None or vec is None:
            return 0.0
        return p.dense_weight * max(0.0, float(self.cvecs[ci] @ vec) - p.dense_floor)

    def report_score(self, ci: int, s: _Sent, weights: list[dict[str, float]], vec: np.ndarray | None) -> float:
        c, p = self.commitments[ci], self.params
        score = self.lexical(weights, s.tokens) + self._dense(ci, vec)
        if c.targets:
            groups = {f.group for f in c.targets}
            if any(f.group in groups for f in s.figures(self.index.replies[s.reply_id].text)):
                score += p.unit_bonus
        return score

    def restate_score(self, ci: int, cj: int, weights: list[dict[str, float]]) -> float:
        score = self.lexical(weights, frozenset(self._content(self.commitments[cj].text)))
        return score + self._dense(ci, self.cvecs[cj] if self.cvecs is not None else None)

    @staticmethod
    def period(c: Commitment, years: list[int], reply_date: str, reported: bool) -> str | None:
        """Can a sentence naming `years` (in a reply dated `reply_date`) speak of `c`? "in" (its own period),
        "late" (only later years, nothing reported yet) or None (before the promise, or another year's figure)."""
        if c.year is None:
            return "in"
        due, _ = effective_due(c)
        due_year = int(due[:4]) if due else c.year + 1
        if years:
            if all(y < c.year for y in years):
                return None  # about the time before the promise
            if any(c.year <= y <= due_year for y in years):
                return "in"
            return None if reported else "late"
        if reply_date <= end_of_year(due_year + 1):
            return "in"
        return None if reported else "late"

    # -- linking --------------------------------------------------------------------------------------------
    def _evidence(self, reply_id: str, start: int, end: int, kind: str, score: float, path: list[str],
                  via: str = "") -> Evidence:
        r = self.index.replies[reply_id]
        inf = self.info[reply_id]
        return Evidence(r.id, r.number, r.year, inf["date"], r.title, inf["department"], inf["district"], kind,
                        r.text[start:end], start, end, list(path), round(score, 4), via)

    def _link_direct(self, ci: int) -> tuple[list[Evidence], list[int]]:
        """Reports and restatements found in the later replies themselves; the restating commitments."""
        got = self._direct.get(ci)
        if got is not None:
            return got
        c, p = self.commitments[ci], self.params
        out: list[Evidence] = []
        restated_by: list[int] = []
        reported = False
        for rid in self.later_replies(c):
            weights = self._weights(c, rid)
            date = self.info[rid]["date"]
            sents = self.sentences(rid)
            vecs = self._sentence_vectors(rid)
            found = []
            for k, s in enumerate(sents):
                if s.label != "done":
                    continue
                per = self.period(c, s.years, date, reported)
                if per is None:
                    continue
                sc = self.report_score(ci, s, weights, vecs[k] if vecs is not None else None)
                if sc >= p.report_min + (p.late_margin if per == "late" else 0.0):
                    found.append((sc, s))
            if found:
                found.sort(key=lambda x: -x[0])
                keep = [x for x in found[:p.per_reply] if x[0] >= SECOND_SENTENCE_SHARE * found[0][0]]
                for sc, s in sorted(keep, key=lambda x: x[1].start):
                    out.append(self._evidence(rid, s.start, s.end, "report", sc, s.heading_path))
                reported = True
                continue
            if reported:
                continue
            best = max(((self.restate_score(ci, cj, weights), cj) for cj in self.by_reply.get(rid, [])), default=None)
            if best is not None and best[0] >= p.restate_min:
                o = self.commitments[best[1]]
                out.append(self._evidence(rid, o.start, o.end, "restated", best[0], o.heading_path))
                restated_by.append(best[1])
        self._direct[ci] = (out, restated_by)
        return out, restated_by

    def evidence(self, ci: int) -> list[Evidence]:
        """All evidence of commitment `ci`: its own, plus, while it has no report of its own, the reports of the
        later commitments that restate it (which come later in time, so the recursion ends)."""
        with self._lock:
            got = self._links.get(ci)
            if got is not None:
                return got
            direct, restated = self._link_direct(ci)
            ev = list(direct)
            have = {(e.reply_id, e.start) for e in ev}
            if not any(e.kind == "report" for e in ev):
                for cj in restated:
                    for e in self.evidence(cj):
                        if e.kind == "report" and (e.reply_id, e.start) not in have:
                            ev.append(Evidence(**{**e.to_dict(), "via": self.commitments[cj].id}))
                            have.add((e.reply_id, e.start))
            ev.sort(key=lambda e: (e.reply_date, e.reply_id, e.start))
            self._links[ci] = ev
            return ev

    # -- status -----------------------------------------------------------------------------------------------
    def compare(self, c: Commitment, reports: list[Evidence]) -> tuple[str, list[dict[str, Any]]]:
        """Fulfilment from the figures: each target against the reported figure of its unit that counts the same
        thing (its clause shares the target's words; a total 累计/截至 is not an increment; the year fits)."""
        due, _ = effective_due(c)
        due_year = int(due[:4]) if due else None
        rows: list[dict[str, Any]] = []
        for t in c.targets:
            tb = _bigrams(t.context)
            best, best_score = None, -1.0
            for e in reports:
                text = self.index.replies[e.reply_id].text
                figs = [f for f in parse_figures(text[e.start:e.end], e.start) if f.group == t.group]
                has_result = any(not f.origin for f in figs)
                for f in figs:
                    if f.origin and has_result:
                        continue
                    sim = len(tb & (_bigrams(f.context) | _bigrams(text[f.end:f.end + 6]))) / max(1, len(tb))
                    if sim < self.params.figure_context_min:
                        continue
                    sc = sim
                    if f.cumulative and not t.cumulative:
                        sc -= 0.3
                    if f.year is not None and c.year is not None and due_year is not None:
                        sc += 0.2 if c.year <= f.year <= due_year else -0.2
                    if sc > best_score:
                        best, best_score = f, sc
            if best is None:
                rows.append({"target": t.text, "target_value": t.value, "reported": None, "reported_value": None,
                             "verdict": "unclear"})
                continue
            hi = t.high if t.high is not None else t.value
            ok = best.value <= hi if t.at_most else best.value >= t.value
            rows.append({"target": t.text, "target_value": t.value, "reported": best.text, "reported_value": best.value,
                         "reply_id": next((e.reply_id for e in reports if e.start <= best.start < e.end), ""),
                         "start": best.start, "end": best.end, "verdict": "met" if ok else "partly"})
        verdicts = [r["verdict"] for r in rows]
        if "partly" in verdicts:
            return "partly", rows
        if "met" in verdicts:
            return "met", rows
        return "unclear", rows

    def status(self, c: Commitment, as_of: str) -> Tracked:
        ev = [e for e in self.evidence(self.by_id[c.id]) if e.reply_date <= as_of]
        due, stated = effective_due(c)
        reports = [e for e in ev if e.kind == "report"]
        r = self.index.replies.get(c.reply_id)
        title = r.title if r else ""
        if reports:
            ful, rows = self.compare(c, reports)
            return Tracked(c, "reported", ful, due, stated, ev, rows, title, as_of)
        if ev:
            return Tracked(c, "in_progress", None, due, stated, ev, [], title, as_of)
        st = "not_reported" if due and due < as_of else "pending"
        return Tracked(c, st, None, due, stated, [], [], title, as_of)

    def all(self, as_of: str | None = None, ids: Iterable[str] | None = None) -> list[Tracked]:
        """Status of every commitment made by `as_of` (default today), or of those in `ids`."""
        as_of = as_of or _dt.date.today().isoformat()
        want = None if ids is None else set(ids)
        return [self.status(c, as_of) for c in self.commitments
                if c.reply_date <= as_of and (want is None or c.id in want)]


_TRACKER_LOCK = threading.Lock()


def tracker_for(index: LoadedIndex, encoder=None, cache_dir=None, params: TrackParams | None = None) -> CommitmentTracker:
    """The tracker of a loaded index version, built on first use and kept with that version."""
    if params is not None:
        return CommitmentTracker(index, encoder, params, cache_dir)
    with _TRACKER_LOCK:
        t = index.__dict__.get("_dafu_tracker")
        if t is None:
            t = CommitmentTracker(index, encoder, None, cache_dir)
            index.__dict__["_dafu_tracker"] = t
    return t
