"""An index in segments: additions write small segments, replaced and removed replies are hidden,
merges keep the results, and a segmented index answers exactly like one built at once."""
from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from index.builder import Indexer, open_index
from index.errors import UnknownReplyError
from index.store import IndexStore
from service.filters import Filters
from service.retrieval import Retriever
from tests.conftest import ROOT, SEED_QUESTION

DEV = ROOT / "eval" / "dev" / "corpus"
QUESTIONS = [SEED_QUESTION, "养老服务做了哪些工作？", "老旧小区改造下一步有什么打算？", "垃圾分类取得了哪些成效？"]


@pytest.fixture
def split_corpus(tmp_path):
    files = sorted(p for p in DEV.rglob("*.txt"))
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    for i, f in enumerate(files):
        shutil.copy(f, (a if i % 4 else b) / f.name)
    return a, b, files


def _search_view(settings, idx, q, filters=None):
    res = Retriever(idx, settings).search(q, filters=filters)
    return [(g.reply.id, round(g.score, 6), [h.chunk.id for h in g.hits]) for g in res.replies], res.answerable


def test_added_segments_answer_like_one_build(settings, tmp_path, split_corpus):
    a, b, _ = split_corpus
    seg = settings.model_copy(update={"index_dir": tmp_path / "seg"})
    one = settings.model_copy(update={"index_dir": tmp_path / "one"})
    Indexer(seg).build([a])
    res = Indexer(seg).add([b])
    assert res.segments == 2 and res.embedded < res.chunks
    Indexer(one).build([a, b])
    i1, i2 = open_index(seg), open_index(one)
    assert set(i1.replies) == set(i2.replies) and i1.chunk_count == i2.chunk_count
    for q in QUESTIONS:
        for f in (None, Filters(year_from=2022)):
            r1, ok1 = _search_view(seg, i1, q, f)
            r2, ok2 = _search_view(one, i2, q, f)
            assert ok1 == ok2
            assert [(rid, hits) for rid, _, hits in r1] == [(rid, hits) for rid, _, hits in r2], q
            assert np.allclose([s for _, s, _ in r1], [s for _, s, _ in r2])


def test_replace_and_remove_hide_the_old_reply(settings, tmp_path, seed_text):
    Indexer(settings).build([DEV])
    before = open_index(settings)
    n = len(before.replies)
    seed_id = "28_20230630"
    changed = seed_text.replace("新增五年制高职专业3个", "新增五年制高职专业7个")
    p = tmp_path / "seed-v2.txt"
    p.write_text(changed, encoding="utf-8")
    res = Indexer(settings).add([p])
    assert res.report.duplicates_merged == 1 and res.replies == n
    idx = open_index(settings)
    assert len(idx.replies) == n and "专业7个" in idx.reply(seed_id).text
    ret = Retriever(idx, settings)
    texts = [h.chunk.text for g in ret.search(SEED_QUESTION, top_k=10).replies for h in g.hits]
    assert any("专业7个" in t for t in texts) and not any("专业3个" in t for t in texts)
    # removed: gone from replies, search, filters and listings
    Indexer(settings).remove([seed_id])
    idx = open_index(settings)
    assert seed_id not in idx.replies and len(idx.replies) == n - 1
    assert all(g.reply.id != seed_id for g in Retriever(idx, settings).search(SEED_QUESTION, top_k=20).replies)
    assert not idx.reply_mask(Filters(number="28")).any() or all(
        idx.reply_at(int(i)).id != seed_id for i in np.flatnonzero(idx.reply_mask(Filters(number="28"))))
    with pytest.raises(UnknownReplyError):
        Indexer(settings).remove([seed_id])


def test_small_segments_are_merged_and_compact_keeps_results(settings, tmp_path, split_corpus):
    a, b, files = split_corpus
    Indexer(settings).build([a])
    for f in sorted(b.iterdir()):
        Indexer(settings).add([f])
    idx = open_index(settings)
    counts = [s.n_chunks for s in idx.segments]
    added = len(list(b.iterdir()))
    # merged as they accumulate, not one segment per addition: each segment outweighs all later ones together,
    # so their number grows with the logarithm of the additions
    assert len(idx.segments) <= 1 + math.ceil(math.log2(added + 1)) < added, counts
    assert all(counts[i] > sum(counts[i + 1:]) for i in range(len(counts) - 1))
    views = {q: _search_view(settings, idx, q) for q in QUESTIONS}
    res = Indexer(settings).compact()
    assert res.segments == 1 and res.embedded == 0
    idx = open_index(settings)
    assert len(idx.segments) == 1 and len(idx.replies) == len(files) - 0
    for q in QUESTIONS:
        assert [r[0] for r in _search_view(settings, idx, q)[0]] == [r[0] for r in views[q][0]]
    store = IndexStore(settings.resolved_index_dir)
    import os
    import time

    old = time.time() - 3600
    for p in store.segments_dir.glob("s-*"):
        os.utime(p, (old, old))
    store.gc()
    named = {n for v in store.root.glob("v-*") for n in __import__("json").loads((v / "manifest.json").read_text())["segments"]}
    assert {p.name for p in store.segments_dir.glob("s-*")} == named


def test_records_are_decoded_on_demand(settings):
    Indexer(settings).build([DEV])
    idx = open_index(settings)
    assert len(idx.replies._cache._d) == 0 and len(idx.chunks._cache._d) == 0
    Retriever(idx, settings).search(SEED_QUESTION)
    assert 0 < len(idx.replies._cache._d) < len(idx.replies)


def test_chunking_change_on_add_redoes_everything(settings, tmp_path, seed_text):
    Indexer(settings).build([DEV])
    n = len(open_index(settings).replies)
    other = settings.model_copy(update={"chunk_target": 150, "chunk_max": 200})
    p = tmp_path / "x.txt"
    p.write_text(seed_text.replace("建议/提案号: 28", "建议/提案号: 77"), encoding="utf-8")
    res = Indexer(other).add([p])
    idx = open_index(other)
    assert idx.manifest["chunking"]["target"] == 150 and res.segments == 1 and len(idx.replies) == n + 1
    assert max(len(c.text) for c in idx.chunks) <= 200 + 60


def test_vectors_float32_in_small_segments_float16_in_large(settings, tmp_path):
    small = settings.model_copy(update={"index_dir": tmp_path / "small"})
    large = settings.model_copy(update={"index_dir": tmp_path / "large", "ann_threshold": 5})
    Indexer(small).build([DEV])
    Indexer(large).build([DEV])
    a, b = open_index(small), open_index(large)
    assert [s.vector_dtype for s in a.segments] == ["float32"] and [s.vector_dtype for s in b.segments] == ["float16"]
    assert a.dense.kind == "flat" and b.dense.kind == "ivf"
    va, vb = np.asarray(a.vectors), np.asarray(b.vectors)
    assert va.dtype == vb.dtype == np.float32 and np.abs(va - vb).max() < 2e-3  # float16 rounding only
    assert len(b.sentences) == len(a.sentences) and np.abs(b.sentences.vectors[0:50] - a.sentences.vectors[0:50]).max() < 2e-3
    for q in QUESTIONS:
        ra = [g.reply.id for g in Retriever(a, small).search(q).replies[:1]]
        rb = [g.reply.id for g in Retriever(b, large).search(q).replies[:1]]
        assert ra == rb, q


def test_rows_read_without_the_mapping_equal_rows_read_through_it(settings, tmp_path):
    """take_unmapped (pread, for the retriever's one-off background sample) returns what indexing returns,
    for float32 and float16 segments and across segments."""
    for name, extra in (("small", {}), ("large", {"ann_threshold": 5})):
        s = settings.model_copy(update={"index_dir": tmp_path / name, **extra})
        Indexer(s).build([DEV])
        idx = open_index(s)
        for rows in (idx.sentences.vectors, idx.vectors):
            ids = np.sort(np.random.default_rng(1).choice(len(rows), size=min(40, len(rows)), replace=False))
            assert np.array_equal(rows.take_unmapped(ids), rows[ids])


def test_narrowing_to_float16_reads_in_blocks_and_names_a_short_file(tmp_path):
    from index.segment import _narrow

    v = np.random.default_rng(0).standard_normal((1000, 8)).astype(np.float32)
    p = tmp_path / "vectors.f16"
    p.write_bytes(v.tobytes())
    _narrow(p, 1000, 8, block=64)  # 16 blocks, the last one short
    out = np.fromfile(p, dtype=np.float16).reshape(1000, 8)
    assert np.array_equal(out, v.astype(np.float16))
    p.write_bytes(v[:10].tobytes())
    with pytest.raises(ValueError, match="vectors.f16: 20 vectors of 8 expected"):
        _narrow(p, 20, 8, block=64)
