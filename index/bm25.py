"""BM25 over jieba tokens, kept as postings (word → the chunks holding it), one set per index segment.

Scores are Lucene's BM25 as bm25s computes it ("lucene": k1 = 1.5, b = 0.75,
idf = ln(1 + (N − df + ½) / (df + ½)), term part tf / (tf + k1·(1 − b + b·dl/avgdl))), but kept as
postings instead of a precomputed score matrix, so that

- a question scores only the chunks holding one of its words (`top_k` never touches the others);
- "which chunks contain this word" is a lookup (`docs_with`, `doc_freq`), not a scoring pass;
- an index made of several segments (a large base and small additions, see index/segment.py)
  scores exactly like one built at once: N, df and the average length are summed over the
  segments when they are opened. Chunks of removed replies still count in N and df until their
  segment is merged (as in Lucene); they are never returned.
"""
from __future__ import annotations

import json
import math
from array import array
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

K1, B = 1.5, 0.75
_EMPTY_I = np.zeros(0, np.int64)
_EMPTY_F = np.zeros(0, np.float32)


class PostingsBuilder:
    """Collects documents one by one (streaming: only integer arrays are kept)."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self._doc = array("i")
        self._term = array("i")
        self._tf = array("i")
        self._len = array("i")

    def add(self, tokens: Sequence[str]) -> None:
        d = len(self._len)
        self._len.append(len(tokens))
        vocab = self.vocab
        for tok, n in Counter(tokens).items():
            t = vocab.get(tok)
            if t is None:
                t = vocab[tok] = len(vocab)
            self._doc.append(d)
            self._term.append(t)
            self._tf.append(min(n, 65535))

    def finish(self) -> "Postings":
        terms = list(self.vocab)
        doc = np.frombuffer(self._doc, dtype=np.int32)
        term = np.frombuffer(self._term, dtype=np.int32)
        tf = np.frombuffer(self._tf, dtype=np.int32)
        return Postings.from_triples(terms, term, doc, tf, np.frombuffer(self._len, dtype=np.int32).copy())


class Postings:
    """One segment's postings: for term t, docs[indptr[t]:indptr[t+1]] (ascending) with their tf."""

    def __init__(self, terms: list[str], indptr: np.ndarray, docs: np.ndarray, tf: np.ndarray, doclen: np.ndarray) -> None:
        self.terms = terms
        self.vocab = {t: i for i, t in enumerate(terms)}
        self.indptr, self.docs, self.tf, self.doclen = indptr, docs, tf, doclen

    @property
    def n_docs(self) -> int:
        return int(len(self.doclen))

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]]) -> "Postings":
        b = PostingsBuilder()
        for toks in token_lists:
            b.add(toks)
        return b.finish()

    @classmethod
    def from_triples(cls, terms: list[str], term: np.ndarray, doc: np.ndarray, tf: np.ndarray, doclen: np.ndarray) -> "Postings":
        order = np.lexsort((doc, term))  # by term, then doc
        counts = np.bincount(term, minlength=len(terms)) if len(terms) else np.zeros(0, np.int64)
        indptr = np.zeros(len(terms) + 1, np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(terms, indptr, doc[order].astype(np.int32), tf[order].astype(np.uint16), doclen.astype(np.int32))

    def slice(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        t = self.vocab.get(term)
        if t is None:
            return _EMPTY_I, _EMPTY_F
        a, b = int(self.indptr[t]), int(self.indptr[t + 1])
        return self.docs[a:b], self.tf[a:b]

    def df(self, term: str) -> int:
        t = self.vocab.get(term)
        return 0 if t is None else int(self.indptr[t + 1] - self.indptr[t])

    # -- merge (segment compaction) -----------------------------------------------------------------
    @classmethod
    def merge(cls, parts: Sequence[tuple["Postings", np.ndarray]]) -> "Postings":
        """One Postings from several, keeping the docs whose `keep` mask is true, renumbered in order."""
        vocab: dict[str, int] = {}
        terms_out, docs_out, tfs_out, lens = [], [], [], []
        base = 0
        for p, keep in parts:
            newid = np.cumsum(keep, dtype=np.int64) - 1 + base
            remap = np.empty(len(p.terms), np.int32)
            for i, t in enumerate(p.terms):
                j = vocab.get(t)
                if j is None:
                    j = vocab[t] = len(vocab)
                remap[i] = j
            term_of = np.repeat(np.arange(len(p.terms), dtype=np.int32), np.diff(p.indptr).astype(np.int64))
            live = keep[p.docs] if len(p.docs) else np.zeros(0, bool)
            terms_out.append(remap[term_of[live]])
            docs_out.append(newid[p.docs[live]].astype(np.int32))
            tfs_out.append(np.asarray(p.tf[live]))
            lens.append(np.asarray(p.doclen)[keep])
            base += int(keep.sum())
        cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)  # noqa: E731
        return cls.from_triples(list(vocab), cat(terms_out, np.int32), cat(docs_out, np.int32),
                                cat(tfs_out, np.int32), cat(lens, np.int32))

    # -- files ---------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "terms.json").write_text(json.dumps(self.terms, ensure_ascii=False), "utf-8")
        np.save(path / "indptr.npy", self.indptr)
        np.save(path / "docs.npy", self.docs)
        np.save(path / "tf.npy", self.tf)
        np.save(path / "doclen.npy", self.doclen)

    @classmethod
    def load(cls, path: Path, mmap: bool = True) -> "Postings":
        mode = "r" if mmap else None
        terms = json.loads((path / "terms.json").read_text("utf-8"))
        return cls(terms, np.load(path / "indptr.npy"), np.load(path / "docs.npy", mmap_mode=mode),
                   np.load(path / "tf.npy", mmap_mode=mode), np.load(path / "doclen.npy"))


class PostingsView:
    """Ascending chunk positions of one word across segments, without copying them."""

    def __init__(self, parts: list[tuple[np.ndarray, int]]) -> None:
        self.parts = [(d, off) for d, off in parts if len(d)]
        self._n = sum(len(d) for d, _ in self.parts)

    def __len__(self) -> int:
        return self._n

    def contains(self, positions: np.ndarray) -> np.ndarray:
        """Which of `positions` hold the word (one binary search per segment)."""
        positions = np.asarray(positions, np.int64)
        out = np.zeros(len(positions), bool)
        for docs, off in self.parts:
            local = positions - off
            inside = (local >= 0) & (local <= int(docs[-1]))
            if not inside.any():
                continue
            at = np.minimum(np.searchsorted(docs, local[inside]), len(docs) - 1)
            out[np.flatnonzero(inside)[docs[at] == local[inside]]] = True
        return out

    def any_in(self, positions: np.ndarray) -> bool:
        positions = np.asarray(positions, np.int64)
        for docs, off in self.parts:
            local = positions - off
            local = local[(local >= 0) & (local <= int(docs[-1]))]
            if not len(local):
                continue
            at = np.minimum(np.searchsorted(docs, local), len(docs) - 1)
            if (docs[at] == local).any():
                return True
        return False

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = np.concatenate([d.astype(np.int64) + off for d, off in self.parts]) if self.parts else _EMPTY_I
        return out.astype(dtype) if dtype is not None else out


class BM25Index:
    """BM25 over the postings of one or more segments; chunk positions are global (segments in order)."""

    def __init__(self, parts: Sequence[Postings] = (), live: np.ndarray | None = None) -> None:
        """`live`: bool per position, False for chunks of removed replies (never returned)."""
        self.parts = list(parts)
        self.live = live
        self.offsets = np.zeros(len(self.parts) + 1, np.int64)
        np.cumsum([p.n_docs for p in self.parts], out=self.offsets[1:])
        self.size = int(self.offsets[-1])
        total = sum(int(np.asarray(p.doclen, np.int64).sum()) for p in self.parts)
        self.avgdl = total / self.size if self.size and total else 1.0
        # the length-normalised term part of every posting, with the global average length
        self._w: list[np.ndarray] = []
        for p in self.parts:
            if len(p.docs):
                tf = np.asarray(p.tf, np.float32)
                norm = (K1 * (1 - B + B * np.asarray(p.doclen, np.float32) / np.float32(self.avgdl))).astype(np.float32)
                self._w.append(tf / (tf + norm[p.docs]))
            else:
                self._w.append(_EMPTY_F)

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]]) -> "BM25Index":
        return cls([Postings.build(token_lists)])

    # -- lookups -------------------------------------------------------------------------------------
    def doc_freq(self, token: str) -> int:
        return sum(p.df(token) for p in self.parts)

    def idf(self, token: str) -> float:
        df = self.doc_freq(token)
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5)) if df else 0.0

    def docs_with(self, token: str) -> np.ndarray:
        """Positions (ascending) of the chunks that contain `token`."""
        out = []
        for p, off in zip(self.parts, self.offsets):
            docs, _ = p.slice(token)
            if len(docs):
                out.append(docs.astype(np.int64) + off)
        return np.concatenate(out) if out else _EMPTY_I

    def postings(self, token: str) -> "PostingsView":
        """The chunks holding `token`, as a view on the stored postings: its length is the document
        frequency and `any_in` a binary search — nothing is copied however common the word."""
        return PostingsView([(p.slice(token)[0], int(off)) for p, off in zip(self.parts, self.offsets)])

    @staticmethod
    def intersect(a, b) -> np.ndarray:
        """Chunks in both postings (a compound word is present where all its parts are)."""
        return np.intersect1d(np.asarray(a), np.asarray(b), assume_unique=True)

    @staticmethod
    def union(a, b) -> np.ndarray:
        """Chunks in either postings (a word, or all its parts: 消防通道 where a letter writes 消防车通道)."""
        return np.union1d(np.asarray(a), np.asarray(b))

    def scores_at(self, query_tokens: Sequence[str], positions: np.ndarray) -> np.ndarray:
        """BM25 scores of the given chunks only (binary search in each query word's postings)."""
        positions = np.asarray(positions, np.int64)
        out = np.zeros(len(positions), np.float64)
        if not len(positions):
            return out.astype(np.float32)
        seg = np.searchsorted(self.offsets, positions, side="right") - 1
        for tok in query_tokens:
            idf = self.idf(tok)
            if idf <= 0:
                continue
            for i, (p, off) in enumerate(zip(self.parts, self.offsets)):
                t = p.vocab.get(tok)
                sel = seg == i
                if t is None or not sel.any():
                    continue
                a, b = int(p.indptr[t]), int(p.indptr[t + 1])
                docs = p.docs[a:b]
                local = positions[sel] - off
                at = np.searchsorted(docs, local)
                hit = at < len(docs)
                hit[hit] = docs[at[hit]] == local[hit]
                vals = np.zeros(len(local))
                vals[hit] = self._w[i][a:b][at[hit]] * idf
                out[sel] += vals
        out = out.astype(np.float32)
        if self.live is not None:
            out[~self.live[positions]] = 0
        return out

    def _contributions(self, query_tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        docs, vals = [], []
        for tok in query_tokens:  # a repeated word counts again, as in bm25s
            idf = self.idf(tok)
            if idf <= 0:
                continue
            for i, (p, off) in enumerate(zip(self.parts, self.offsets)):
                t = p.vocab.get(tok)
                if t is None:
                    continue
                a, b = int(p.indptr[t]), int(p.indptr[t + 1])
                docs.append(p.docs[a:b].astype(np.int64) + off)
                vals.append(self._w[i][a:b] * np.float32(idf))
        if not docs:
            return _EMPTY_I, _EMPTY_F
        return np.concatenate(docs), np.concatenate(vals)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk (zeros where no query word occurs)."""
        docs, vals = self._contributions(query_tokens)
        if not len(docs):
            return np.zeros(self.size, np.float32)
        out = np.bincount(docs, weights=vals, minlength=self.size).astype(np.float32)
        if self.live is not None:
            out[~self.live] = 0
        return out

    def top_k(self, query_tokens: Sequence[str], k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(positions, scores) of the k best chunks with a score > 0, best first, ties to the lower
        position; `allowed` (bool mask over positions) restricts them. Work grows with the postings of
        the query's words, not with the index."""
        docs, vals = self._contributions(query_tokens)
        if not len(docs) or k <= 0:
            return _EMPTY_I, _EMPTY_F
        if len(docs) * 8 < self.size:
            ids, inv = np.unique(docs, return_inverse=True)
            sc = np.bincount(inv, weights=vals).astype(np.float32)
        else:
            dense = np.bincount(docs, weights=vals, minlength=self.size).astype(np.float32)
            ids = np.flatnonzero(dense)
            sc = dense[ids]
        if self.live is not None:
            allowed = self.live if allowed is None else (allowed & self.live)
        if allowed is not None:
            keep = allowed[ids]
            ids, sc = ids[keep], sc[keep]
        keep = sc > 0
        ids, sc = ids[keep], sc[keep]
        if len(ids) > k:
            part = np.argpartition(-sc, k - 1)[:k]
            # whatever ties the k-th score must be considered too, for a stable (score, position) order
            kth = sc[part].min()
            part = np.flatnonzero(sc >= kth)
            ids, sc = ids[part], sc[part]
        order = np.lexsort((ids, -sc))[:k]
        return ids[order], sc[order]

    # -- one-segment files (kept for callers that save a BM25Index on its own) ------------------------
    def save(self, path: Path) -> None:
        if len(self.parts) != 1:
            Postings.merge([(p, np.ones(p.n_docs, bool)) for p in self.parts]).save(path)
        else:
            self.parts[0].save(path)

    @classmethod
    def load(cls, path: Path, mmap: bool = True) -> "BM25Index":
        return cls([Postings.load(path, mmap)])
