"""A damaged index is never an empty one: bad CURRENT, truncated/foreign/edited files, under the CLI and the service."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from index.builder import Indexer
from index.errors import IndexCorruptError
from index.store import IndexStore
from service.api.app import create_app
from tests.conftest import SEED_DIR, SEED_QUESTION
from tests.faults.conftest import dafu_subprocess, one_line_error, second_reply

AUTH = {"Authorization": "Bearer t0ken"}


def _two_versions(settings, tmp_path) -> IndexStore:
    """v1 = the seed, v2 (live) = seed + a second reply; v1 is kept as the previous version. The dense index
    is IVF (a dense.faiss file; small segments are searched exactly without one)."""
    s = settings.model_copy(update={"dense_index": "ivf"})
    Indexer(s).build([SEED_DIR])
    Indexer(s).add([second_reply(tmp_path)])
    store = IndexStore(settings.resolved_index_dir)
    assert len(list(store.root.glob("v-*"))) == 2
    return store


def _segment(store: IndexStore, version: Path) -> Path:
    """The (first) segment a version names: where its files live (index/store.py)."""
    return store.segments_dir / json.loads((version / "manifest.json").read_text())["segments"][0]


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if ".write.lock" not in p.name)


# -- row 1: a bad CURRENT under `dafu ask` on the default index -----------------------------------------------
@pytest.mark.parametrize("damage", ["v-gone", "", "delete"])
def test_bad_current_is_an_error_not_a_fresh_sample(cli, settings, tmp_path, damage):
    assert cli("index", "build", str(SEED_DIR), str(second_reply(tmp_path))).exit_code == 0  # the user's default index
    root = settings.resolved_index_dir
    if damage == "delete":
        (root / "CURRENT").unlink()
    else:
        (root / "CURRENT").write_text(damage)
    before = _listing(root)
    res = cli("ask", SEED_QUESTION)
    assert res.exit_code == 2
    line = one_line_error(res.output)
    assert "CURRENT" in line and "dafu index build" in line
    res = cli("index", "list")
    assert res.exit_code == 2 and one_line_error(res.output)
    assert _listing(root) == before  # nothing was built over it


# -- row 2: admin writes while CURRENT is bad -----------------------------------------------------------------
def test_admin_writes_refuse_while_the_index_is_damaged(settings, tmp_path):
    s = settings.model_copy(update={"admin_token": SecretStr("t0ken")})
    _two_versions(s, tmp_path)
    root = s.resolved_index_dir
    (root / "CURRENT").write_text("v-gone")
    before = _listing(root)
    with TestClient(create_app(s, with_ui=False)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and "v-gone" in r.json()["detail"]
        r = c.post("/api/replies", headers=AUTH, files=[("files", ("new.txt", second_reply(tmp_path, "40").read_bytes()))])
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "unavailable" and "damaged" in r.json()["detail"]
        assert c.post("/api/index/rebuild", headers=AUTH).status_code == 503
        assert c.delete("/api/replies/28_20230630", headers=AUTH).status_code == 503
    assert _listing(root) == before and (root / "CURRENT").read_text() == "v-gone"
    assert not any((root.parent / "uploads").glob("*/*.txt"))


# -- rows 5–7: damaged, foreign or edited files ---------------------------------------------------------------
def _truncate(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def _random(p: Path) -> None:
    p.write_bytes(os.urandom(p.stat().st_size))


def _edit_json(path: Path, **change) -> None:
    d = json.loads(path.read_text())
    for k, v in change.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    path.write_text(json.dumps(d))


class _Target:
    """What a damage acts on: the live version's folder (manifest.json: model, dim, segments), its segment
    (where the files are, with their checksums in meta.json) and the previous version's segment."""

    def __init__(self, version: Path, seg: Path, old: Path) -> None:
        self.version, self.seg, self.old = version, seg, old


def _no_sums(t: _Target) -> None:  # a segment written before checksums were recorded
    _edit_json(t.seg / "meta.json", files=None)


DAMAGE = {
    "dense.faiss truncated": lambda t: _truncate(t.seg / "dense.faiss"),
    "dense.faiss random": lambda t: _random(t.seg / "dense.faiss"),
    "manifest without model": lambda t: _edit_json(t.version / "manifest.json", model=None),
    "manifest dim changed": lambda t: _edit_json(t.version / "manifest.json", dim=128),
    "chunks.jsonl truncated": lambda t: _truncate(t.seg / "chunks.jsonl"),
    "vectors random": lambda t: _random(t.seg / "vectors.f16"),
    "dense.faiss from another version": lambda t: shutil.copy(t.old / "dense.faiss", t.seg / "dense.faiss"),
    "bm25/ from another version": lambda t: (shutil.rmtree(t.seg / "bm25"), shutil.copytree(t.old / "bm25", t.seg / "bm25")),
    "segment missing": lambda t: shutil.rmtree(t.seg),
    # a segment written before checksums were recorded: the count and parse checks still catch these
    "no checksums, dense.faiss truncated": lambda t: (_no_sums(t), _truncate(t.seg / "dense.faiss")),
    "no checksums, dense.faiss from another version": lambda t: (
        _no_sums(t), shutil.copy(t.old / "dense.faiss", t.seg / "dense.faiss")),
    "no checksums, bm25/ from another version": lambda t: (
        _no_sums(t), shutil.rmtree(t.seg / "bm25"), shutil.copytree(t.old / "bm25", t.seg / "bm25")),
    "no checksums, manifest dim changed": lambda t: (_no_sums(t), _edit_json(t.version / "manifest.json", dim=128)),
    "no checksums, chunks.jsonl truncated": lambda t: (_no_sums(t), _truncate(t.seg / "chunks.jsonl")),
    "sentences from another version": lambda t: [shutil.copy(t.old / f, t.seg / f) for f in ("sentences.npz", "sentence_vectors.f16")],
    "no checksums, sentences from another version": lambda t: (
        _no_sums(t), [shutil.copy(t.old / f, t.seg / f) for f in ("sentences.npz", "sentence_vectors.f16")]),
}


def _damaged(settings, tmp_path, what: str) -> IndexStore:
    store = _two_versions(settings, tmp_path)
    live = store.current_version()
    old = next(p for p in store.root.glob("v-*") if p != live)
    DAMAGE[what](_Target(live, _segment(store, live), _segment(store, old)))
    return store


@pytest.mark.parametrize("what", sorted(DAMAGE))
def test_damaged_version_is_refused_on_load_with_one_line(cli, settings, tmp_path, what):
    store = _damaged(settings, tmp_path, what)
    with pytest.raises(IndexCorruptError) as e:
        store.load()
    assert "\n" not in str(e.value) and "dafu index build" in str(e.value)
    res = cli("ask", SEED_QUESTION, "--index", str(settings.resolved_index_dir))
    assert res.exit_code == 2, res.output
    assert "damaged" in one_line_error(res.output)


@pytest.mark.parametrize("what", ["dense.faiss truncated", "dense.faiss from another version", "bm25/ from another version",
                                  "manifest without model", "no checksums, dense.faiss from another version"])
def test_service_stays_up_not_ready_then_recovers(settings, tmp_path, what):
    _damaged(settings, tmp_path, what)
    with TestClient(create_app(settings, with_ui=False)) as c:
        assert c.get("/healthz").status_code == 200
        r = c.get("/readyz")
        assert r.status_code == 503 and "damaged" in r.json()["detail"]
        assert str(tmp_path) not in r.text  # no server paths
        for call in (lambda: c.post("/api/ask", json={"question": SEED_QUESTION}),
                     lambda: c.post("/api/search", json={"query": SEED_QUESTION}), lambda: c.get("/api/stats")):
            r = call()
            assert r.status_code == 503 and r.json()["error"] == "unavailable", r.text
        Indexer(settings).build([SEED_DIR])  # a good version appears (as `dafu index build` would write it)
        deadline = time.monotonic() + 20
        while c.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert c.get("/readyz").status_code == 200
        assert c.post("/api/ask", json={"question": SEED_QUESTION}).status_code == 200


def test_dafu_serve_process_stays_up_on_a_damaged_index(tmp_path):
    """The real `dafu serve`: up with /readyz 503 and the reason (not exit 3), serving once a rebuild lands."""
    import socket

    idx = tmp_path / "idx"
    env = {"DAFU_HOME": str(tmp_path / "home"), "DAFU_DENSE_INDEX": "ivf"}  # so that there is a dense.faiss
    assert dafu_subprocess(["index", "build", str(SEED_DIR), "--index", str(idx)], env).wait(120) == 0
    store = IndexStore(idx)
    _truncate(_segment(store, store.current_version()) / "dense.faiss")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path / "serve.log", "w+")
    proc = dafu_subprocess(["serve", "--no-ui", "--port", str(port), "--index", str(idx), "--log-level", "warning"], env,
                           stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline, r = time.monotonic() + 90, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                r = httpx.get(f"{url}/readyz", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert proc.poll() is None, open(tmp_path / "serve.log").read()
        assert r is not None and r.status_code == 503 and "dense.faiss" in r.json()["detail"]
        assert httpx.post(f"{url}/api/ask", json={"question": SEED_QUESTION}).status_code == 503
        assert dafu_subprocess(["index", "build", str(SEED_DIR), "--index", str(idx)], env).wait(120) == 0
        deadline = time.monotonic() + 20
        while httpx.get(f"{url}/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert httpx.get(f"{url}/readyz").status_code == 200
        assert httpx.post(f"{url}/api/ask", json={"question": SEED_QUESTION}, timeout=30).status_code == 200
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except Exception:  # noqa: BLE001
            proc.kill()
        log.close()


def test_a_good_index_still_loads_and_checks_every_file(settings, tmp_path):
    store = _two_versions(settings, tmp_path)
    m = store.manifest()
    files = json.loads((_segment(store, store.current_version()) / "meta.json").read_text())["files"]
    assert set(files) >= {"replies.jsonl", "chunks.jsonl", "vectors.f16", "dense.faiss", "bm25/docs.npy", "sentences.npz"}
    assert all(len(f["sha256"]) == 64 and f["bytes"] >= 0 for f in files.values())
    idx = store.verify()  # every checksum read
    assert len(idx.chunks) == m["chunks"] == idx.dense.size == idx.bm25.size == len(idx.vectors)
