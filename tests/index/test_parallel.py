"""Parallel encoding: worker processes and Ray give the vectors one process gives; an interrupted
build resumes from the embedding cache."""
from __future__ import annotations

import numpy as np
import pytest

from index.builder import Indexer, open_index
from index.embed import FakeEncoder
from index.parallel import encode_passages
from tests.conftest import ROOT

DEV = ROOT / "eval" / "dev" / "corpus"


def _texts(n=120):
    return [f"第{i}条：推进产教融合，校企合作共建实训基地{i % 7}个。" for i in range(n)]


def _run(enc, texts, **kw):
    out = np.zeros((len(texts), enc.dim), np.float32)
    seen: list[int] = []

    def store(idx, vecs):
        out[idx] = vecs
        seen.extend(idx)

    encode_passages(enc, texts, list(range(len(texts))), store, batch_size=16, **kw)
    return out, seen


def test_worker_processes_give_the_same_vectors():
    enc = FakeEncoder()
    texts = _texts()
    one, _ = _run(enc, texts, workers=1)
    two, seen = _run(enc, texts, workers=2)
    assert sorted(seen) == list(range(len(texts)))
    assert np.allclose(one, two)


def test_build_with_workers_equals_build_without(settings, tmp_path):
    a = settings.model_copy(update={"index_dir": tmp_path / "a", "cache_dir": tmp_path / "ca"})
    b = settings.model_copy(update={"index_dir": tmp_path / "b", "cache_dir": tmp_path / "cb"})
    ra = Indexer(a).build([DEV])
    rb = Indexer(b, workers=2).build([DEV])
    assert ra.embedded == rb.embedded > 0
    assert np.allclose(np.asarray(open_index(a).vectors), np.asarray(open_index(b).vectors))


class _Stop(Exception):
    pass


class _DiesAfter(FakeEncoder):
    """Encodes `limit` batches, then fails (a crash or Ctrl-C in the middle of a build)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit, self.calls = limit, 0

    def encode_passages(self, texts):
        self.calls += 1
        if self.calls > self.limit:
            raise _Stop()
        return super().encode_passages(texts)


def test_interrupted_build_resumes_from_the_cache(settings):
    s = settings.model_copy(update={"embed_batch_size": 16})
    with pytest.raises(_Stop):
        Indexer(s, encoder=_DiesAfter(5)).build([DEV])
    res = Indexer(s).build([DEV])
    assert res.reused >= 5 * 16  # what was encoded before the crash is not encoded again
    assert res.embedded == res.passages - res.reused
    again = Indexer(s).build([DEV])
    assert again.embedded == 0


@pytest.mark.slow
def test_ray_local_gives_the_same_vectors():
    ray = pytest.importorskip("ray")
    from index.parallel import ray_init

    enc = FakeEncoder()
    texts = _texts(200)
    one, _ = _run(enc, texts, workers=1)
    ray_init(2)
    try:
        got, seen = _run(enc, texts, workers=2, executor="ray")
    finally:
        ray.shutdown()
    assert sorted(seen) == list(range(len(texts)))
    assert np.allclose(one, got)
