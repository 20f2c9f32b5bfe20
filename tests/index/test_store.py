"""Index round trip: build, reopen, same results; model mismatch refused; interrupted builds leave the old index."""
from __future__ import annotations

import numpy as np
import pytest

from index.builder import Indexer, open_index
from index.embed import FakeEncoder
from index.errors import IndexNotFoundError, ModelMismatchError, UnknownReplyError
from index.store import IndexStore
from service.retrieval import Retriever
from tests.conftest import SEED_DIR, SEED_QUESTION


def _second_reply(tmp_path, seed_text, number="29", date="2022-05-10"):
    t = seed_text.replace("建议/提案号: 28", f"建议/提案号: {number}").replace("答复日期: 2023-06-30", f"答复日期: {date}")
    t = t.replace("产教融合", "养老服务")
    p = tmp_path / f"extra_{number}.txt"
    p.write_text(t, encoding="utf-8")
    return p


def test_round_trip_same_results(settings, seed_index):
    r1 = Retriever(seed_index, settings).search(SEED_QUESTION)
    again = open_index(settings)
    r2 = Retriever(again, settings).search(SEED_QUESTION)
    assert [h.chunk.id for h in r1.replies[0].hits] == [h.chunk.id for h in r2.replies[0].hits]
    assert np.allclose(seed_index.vectors, again.vectors)
    assert again.manifest["model"] == "fake" and again.manifest["dim"] == 256


def test_model_mismatch_is_refused(settings, seed_index):
    other = settings.model_copy(update={"embed_model": "fake:64"})
    with pytest.raises(ModelMismatchError) as e:
        Retriever(seed_index, other)
    assert "'fake'" in str(e.value) and "DAFU_EMBED_MODEL" in str(e.value)


def test_missing_index_is_a_clear_error(settings, tmp_path):
    s = settings.model_copy(update={"index_dir": tmp_path / "nowhere"})
    with pytest.raises(IndexNotFoundError) as e:
        open_index(s)
    assert "dafu index build" in str(e.value)


def test_default_index_is_built_from_bundled_sample(settings):
    idx = open_index(settings)
    assert list(idx.replies) == ["28_20230630"]


class _Boom(Exception):
    pass


@pytest.mark.parametrize("exc", [_Boom, KeyboardInterrupt])
def test_interrupted_build_leaves_old_index(settings, seed_index, tmp_path, seed_text, monkeypatch, exc):
    store = IndexStore(settings.resolved_index_dir)
    before = store.current_version()
    extra = _second_reply(tmp_path, seed_text)

    class Failing(FakeEncoder):
        def encode_passages(self, texts):
            raise exc()

    with pytest.raises(exc):
        Indexer(settings, encoder=Failing()).add([extra])
    assert store.current_version() == before
    assert list(open_index(settings).replies) == ["28_20230630"]

    # a crash while files are being written also leaves the old version, and no half-built folder
    import index.bm25 as bm25mod

    def bad_save(self, path):
        raise exc()

    monkeypatch.setattr(bm25mod.BM25Index, "save", bad_save)
    with pytest.raises(exc):
        Indexer(settings).add([extra])
    assert store.current_version() == before
    assert not list(store.root.glob(".build-*"))


def test_add_embeds_only_new_text_and_remove(settings, seed_index, tmp_path, seed_text):
    calls: list[int] = []

    class Counting(FakeEncoder):
        def encode_passages(self, texts):
            calls.append(len(texts))
            return super().encode_passages(texts)

    extra = _second_reply(tmp_path, seed_text)
    res = Indexer(settings, encoder=Counting()).add([extra])
    assert res.replies == 2
    n_extra = res.embedded
    assert 0 < n_extra < res.passages and res.reused == res.passages - n_extra
    assert sum(calls) == n_extra
    res2 = Indexer(settings).remove(["29_20220510"])
    assert res2.replies == 1
    with pytest.raises(UnknownReplyError):
        Indexer(settings).remove(["nope"])


def test_old_versions_are_collected(settings, seed_index):
    for _ in range(3):
        Indexer(settings).build([SEED_DIR])
    assert len(list(IndexStore(settings.resolved_index_dir).root.glob("v-*"))) <= 2


def test_hnsw_past_threshold(settings, tmp_path):
    s = settings.model_copy(update={"ann_threshold": 5, "index_dir": tmp_path / "hnsw"})
    Indexer(s).build([SEED_DIR])
    idx = open_index(s)
    assert idx.dense.kind == "hnsw"
    res = Retriever(idx, s).search(SEED_QUESTION)
    assert res.replies[0].reply.id == "28_20230630"
