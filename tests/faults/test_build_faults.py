"""Writing under faults: full disk, read-only folder, SIGKILL mid-build and mid-upload; what is left behind."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from index.builder import Indexer
from index.store import IndexStore
from service.api.app import create_app
from service.core import ServiceCore
from tests.conftest import SEED_DIR
from tests.faults.conftest import ROOT, dafu_subprocess, fill, one_line_error, read_only, second_reply, tmpfs

CORPUS = ROOT / "eval" / "dev" / "corpus"


def _replies(idx: Path) -> list[str]:
    return sorted(IndexStore(idx).load().replies)


# -- row 11: disk full / read-only during `dafu index build` --------------------------------------------------
def test_disk_full_during_build_is_one_line_and_the_index_stays(cli, tmp_path):
    with tmpfs(tmp_path / "small", "1m") as mnt:
        idx = mnt / "idx"
        assert cli("index", "build", str(SEED_DIR), "--index", str(idx)).exit_code == 0
        before = _replies(idx)
        fill(mnt, leave_bytes=16 * 1024)
        res = cli("index", "build", str(CORPUS), "--index", str(idx))
        assert res.exit_code == 2
        line = one_line_error(res.output)
        assert "No space left on device" in line and "unchanged" in line
        assert _replies(idx) == before
        assert not list(idx.glob(".build-*")) and not list(idx.glob(".CURRENT.*"))


def test_read_only_index_folder_during_build_is_one_line(cli, tmp_path):
    idx = tmp_path / "idx"
    assert cli("index", "build", str(SEED_DIR), "--index", str(idx)).exit_code == 0
    before = _replies(idx)
    with read_only(idx):
        res = cli("index", "build", str(SEED_DIR), str(second_reply(tmp_path)), "--index", str(idx))
        assert res.exit_code == 2
        assert "Read-only file system" in one_line_error(res.output)
        assert _replies(idx) == before
    assert _replies(idx) == before


# -- SIGKILL at several points of a build ---------------------------------------------------------------------
def _kill_when(proc: subprocess.Popen, cond, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if cond():
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            return True
        time.sleep(0.005)
    return False


def test_sigkill_during_build_leaves_the_previous_version_serving(tmp_path):
    idx = tmp_path / "idx"
    env = {"DAFU_HOME": str(tmp_path / "home")}
    assert dafu_subprocess(["index", "build", str(SEED_DIR), "--index", str(idx)], env).wait(120) == 0
    before = _replies(idx)
    t0 = time.monotonic()
    points = {"while reading the files": lambda: time.monotonic() - t0 > 2.5,
              "while writing the new version": lambda: any(idx.glob(".build-*/*")) or any(idx.glob("segments/.build-*/*"))}
    killed = []
    for name, cond in points.items():
        t0 = time.monotonic()
        proc = dafu_subprocess(["index", "build", str(CORPUS), "--index", str(idx)], env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if _kill_when(proc, cond):
            killed.append(name)
        now = _replies(idx)  # loads and validates (counts, checksums): the old version, or the new one whole
        assert now == before or len(now) == len(list(CORPUS.glob("*.txt"))), now
    assert killed, "the build finished before any kill point; the corpus is too small to test this"
    # the next build cleans what the killed ones left and keeps only live + previous
    assert dafu_subprocess(["index", "build", str(SEED_DIR), "--index", str(idx)], env).wait(120) == 0
    assert not list(idx.glob(".build-*")) and not list(idx.glob(".CURRENT.*")) and not list(idx.glob("segments/.build-*"))
    assert len(list(idx.glob("v-*"))) <= 2


# -- row 12: leftovers, the version kept, fsync of the folder, orphaned uploads -------------------------------
def test_temp_pointer_files_are_removed_and_the_previous_live_version_is_kept(settings, tmp_path):
    Indexer(settings).build([SEED_DIR])
    store = IndexStore(settings.resolved_index_dir)
    v1 = store.current_version().name
    Indexer(settings).add([second_reply(tmp_path)])
    v2 = store.current_version().name
    # a build killed after its version was renamed but before CURRENT was swapped: never served, newest on disk
    never = store.root / "v-99991231T000000-dead00"
    never.mkdir()
    (never / "manifest.json").write_text("{}")
    (store.root / ".CURRENT.deadbeef").write_text(never.name)  # killed between writing and renaming CURRENT
    Indexer(settings).add([second_reply(tmp_path, "41", "托育服务")])
    v3 = store.current_version().name
    names = {p.name for p in store.root.glob("v-*")}
    assert names == {v3, v2}, names  # the live one and the one live before it; not the never-served one, not v1
    assert v1 not in names and never.name not in names
    assert not list(store.root.glob(".CURRENT.*")) and not list(store.root.glob(".PREVIOUS.*"))
    assert (store.root / "PREVIOUS").read_text() == v2


def test_the_folder_is_fsynced_after_the_swap(settings, monkeypatch):
    Indexer(settings).build([SEED_DIR])
    root = settings.resolved_index_dir
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            events.append(("fsync-dir", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst, *a, **kw):
        events.append(("replace", str(dst)))
        return real_replace(src, dst, *a, **kw)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    Indexer(settings).build([SEED_DIR])
    i = events.index(("replace", str(root / "CURRENT")))
    assert ("fsync-dir", str(root)) in events[i + 1:], events


def test_killed_upload_leaves_no_orphan_folder(settings, tmp_path):
    Indexer(settings).build([SEED_DIR])
    uploads = settings.resolved_index_dir.parent / "uploads"
    script = textwrap.dedent(f"""
        import time
        from index.embed import FakeEncoder
        from index.settings import Settings
        from service.core import ServiceCore

        class Stuck(FakeEncoder):
            def encode_passages(self, texts):
                time.sleep(600)

        core = ServiceCore(Settings(home={str(settings.home)!r}, embed_model="fake"), encoder=Stuck())
        core.start()
        core.upload([("new.txt", open({str(second_reply(tmp_path))!r}, "rb").read())])
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert _kill_when(proc, lambda: any(uploads.glob("*/new.txt")), timeout=90), "the upload never started"
    finally:
        if proc.poll() is None:
            proc.kill()
    assert any(uploads.glob("*/new.txt"))  # what the killed upload left
    core = ServiceCore(settings)
    core.start()
    try:
        assert not any(uploads.glob("*/new.txt"))
        assert list(core.state().index.replies) == ["28_20230630"]
    finally:
        core.close()


def test_error_details_show_no_server_paths(settings, tmp_path):
    s = settings.model_copy(update={"admin_token": SecretStr("t0ken")})
    Indexer(s).build([SEED_DIR])
    with TestClient(create_app(s, with_ui=False)) as c:
        r = c.post("/api/replies", headers={"Authorization": "Bearer t0ken"},
                   files=[("files", ("bad.txt", b"\x00\x01binary\x00" * 10))])
        assert r.status_code == 400
        detail = r.json()["detail"]
        assert "bad.txt" in detail and str(tmp_path) not in detail and "/uploads/" not in detail, detail
    (s.resolved_index_dir / "CURRENT").write_text("v-gone")
    with TestClient(create_app(s, with_ui=False)) as c:
        for r in (c.get("/readyz"), c.post("/api/ask", json={"question": "产教融合"}),
                  c.post("/api/index/rebuild", headers={"Authorization": "Bearer t0ken"})):
            assert r.status_code == 503 and str(tmp_path) not in r.text and "CURRENT" in r.text, r.text


def test_upload_is_refused_on_a_full_disk_without_a_trace(settings, tmp_path):
    with tmpfs(tmp_path / "small", "1m") as mnt:
        s = settings.model_copy(update={"admin_token": SecretStr("t0ken"), "index_dir": mnt / "index",
                                        "cache_dir": tmp_path / "cache"})
        Indexer(s).build([SEED_DIR])
        with TestClient(create_app(s, with_ui=False)) as c:
            fill(mnt)
            r = c.post("/api/replies", headers={"Authorization": "Bearer t0ken"},
                       files=[("files", ("new.txt", second_reply(tmp_path).read_bytes()))])
            assert r.status_code == 503 and "No space left" in r.json()["detail"], r.text
            assert str(mnt) not in r.text
            assert c.post("/api/ask", json={"question": "产教融合"}).status_code == 200
        assert list(IndexStore(s.resolved_index_dir).load().replies) == ["28_20230630"]
        assert not any((mnt / "uploads").glob("*/*"))
