"""BM25 over postings: the scores bm25s gives, top-k without scoring every chunk, word lookups, segments."""
from __future__ import annotations

import bm25s
import numpy as np
import pytest

from index.bm25 import BM25Index, Postings
from index.builder import embed_text
from index.chunking import chunk_reply
from index.loader import load_paths
from index.tokenize import default_tokenizer
from tests.conftest import ROOT

QUESTIONS = ["通州在产教融合方面做了哪些工作？", "养老服务补贴发放了多少？", "下一步计划", "垃圾分类", "不存在的词语组合"]


@pytest.fixture(scope="module")
def dev_tokens() -> list[list[str]]:
    rep = load_paths([ROOT / "eval" / "dev" / "corpus"])
    tok = default_tokenizer()
    return [tok.tokens(embed_text(c, r)) for r in rep.replies for c in chunk_reply(r)]


def test_scores_equal_bm25s(dev_tokens):
    ref = bm25s.BM25()
    ref.index([t or ["\x00"] for t in dev_tokens], show_progress=False)
    ours = BM25Index.build(dev_tokens)
    tok = default_tokenizer()
    for q in QUESTIONS:
        qt = tok.tokens(q, query=True)
        known = [t for t in qt if t in ref.vocab_dict]
        want = np.asarray(ref.get_scores(known), np.float32) if known else np.zeros(len(dev_tokens), np.float32)
        assert np.allclose(ours.scores(qt), want, atol=1e-5), q


def test_top_k_is_the_best_of_the_full_scores(dev_tokens):
    ours = BM25Index.build(dev_tokens)
    tok = default_tokenizer()
    for q in QUESTIONS:
        qt = tok.tokens(q, query=True)
        full = ours.scores(qt)
        want = [i for i in np.argsort(-full, kind="stable")[:20] if full[i] > 0]
        ids, sc = ours.top_k(qt, 20)
        assert list(ids) == want
        assert np.allclose(sc, full[ids])
        allowed = np.zeros(len(full), bool)
        allowed[::3] = True
        ids, _ = ours.top_k(qt, 20, allowed)
        assert all(allowed[ids]) and list(ids) == [i for i in np.argsort(-np.where(allowed, full, 0), kind="stable")[:20]
                                                  if allowed[i] and full[i] > 0]


def test_docs_with_and_doc_freq(dev_tokens):
    ours = BM25Index.build(dev_tokens)
    for word in ["产教融合", "养老", "下一步", "没有这个词"]:
        want = [i for i, toks in enumerate(dev_tokens) if word in toks]
        assert list(ours.docs_with(word)) == want
        assert ours.doc_freq(word) == len(want)


def test_segments_score_like_one_index(dev_tokens):
    """Two segments (a base and an addition) give exactly the scores of one index over all chunks."""
    one = BM25Index.build(dev_tokens)
    cut = len(dev_tokens) * 2 // 3
    two = BM25Index([Postings.build(dev_tokens[:cut]), Postings.build(dev_tokens[cut:])])
    merged = BM25Index([Postings.merge([(p, np.ones(p.n_docs, bool)) for p in two.parts])])
    tok = default_tokenizer()
    for q in QUESTIONS:
        qt = tok.tokens(q, query=True)
        assert np.allclose(two.scores(qt), one.scores(qt), atol=1e-6)
        assert np.allclose(merged.scores(qt), one.scores(qt), atol=1e-6)
        assert list(two.top_k(qt, 10)[0]) == list(one.top_k(qt, 10)[0])
    assert list(two.docs_with("产教融合")) == list(one.docs_with("产教融合"))


def test_merge_drops_dead_docs_and_live_mask_hides_them(dev_tokens):
    p = Postings.build(dev_tokens)
    keep = np.ones(p.n_docs, bool)
    keep[:10] = False
    merged = BM25Index([Postings.merge([(p, keep)])])
    fresh = BM25Index.build(dev_tokens[10:])
    tok = default_tokenizer()
    qt = tok.tokens(QUESTIONS[0], query=True)
    assert np.allclose(merged.scores(qt), fresh.scores(qt), atol=1e-6)
    live = BM25Index([p], live=keep)
    ids, _ = live.top_k(qt, 50)
    assert len(ids) and not any(i < 10 for i in ids)
    assert not live.scores(qt)[:10].any()


def test_empty_and_save_load(tmp_path, dev_tokens):
    assert BM25Index.build([]).scores(["a"]).shape == (0,)
    assert len(BM25Index.build([]).top_k(["a"], 5)[0]) == 0
    idx = BM25Index.build(dev_tokens)
    idx.save(tmp_path / "bm25")
    again = BM25Index.load(tmp_path / "bm25")
    qt = default_tokenizer().tokens(QUESTIONS[0], query=True)
    assert np.allclose(again.scores(qt), idx.scores(qt))
