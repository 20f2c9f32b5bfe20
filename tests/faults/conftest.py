"""Helpers that really do the damage: tmpfs mounts, read-only bind mounts, CLI runs, second replies.

Mounting needs root with CAP_SYS_ADMIN (the dev machines and CI run as root); where `mount` is refused
the tests that need it are skipped with the reason. Mounts are always undone, even when a test fails.
Note that root ignores file permission bits (chmod a-w), so "read-only" here is a read-only bind mount.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import SEED_DIR, SEED_FILE

ROOT = Path(__file__).resolve().parents[2]


def _mount(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


def _umount(path: Path) -> None:
    for _ in range(3):
        if subprocess.run(["umount", str(path)], capture_output=True).returncode == 0:
            return
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@contextmanager
def tmpfs(path: Path, size: str):
    """A tmpfs of `size` (e.g. "2m") mounted at `path` for the block; skips the test where mount is refused."""
    path.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no mount command on this machine")
    r = _mount(["-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)])
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or r.returncode}); needs root with CAP_SYS_ADMIN")
    try:
        yield path
    finally:
        _umount(path)


@contextmanager
def read_only(path: Path):
    """`path` made read-only for the block with a read-only bind mount over itself (chmod does not stop root)."""
    if shutil.which("mount") is None:
        pytest.skip("no mount command on this machine")
    r = _mount(["--bind", str(path), str(path)])
    if r.returncode != 0:
        pytest.skip(f"cannot bind-mount here ({r.stderr.strip() or r.returncode}); needs root with CAP_SYS_ADMIN")
    try:
        r = _mount(["-o", "remount,ro,bind", str(path)])
        if r.returncode != 0:
            pytest.skip(f"cannot remount read-only here ({r.stderr.strip()})")
        probe = path / ".probe-write"
        try:
            probe.write_text("x")
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip("the read-only bind mount still accepts writes on this machine")
        yield path
    finally:
        _umount(path)


def fill(folder: Path, leave_bytes: int = 0) -> Path:
    """Fill the file system of `folder` (a small tmpfs) until it is full, or until `leave_bytes` are left."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as f:
        if leave_bytes:
            st = os.statvfs(folder)
            f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - leave_bytes))
        else:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
    return filler


@pytest.fixture
def cli(monkeypatch):
    """Run `dafu …` in-process (fake encoder); returns the click Result (exit_code, output)."""
    from service.cli import app

    monkeypatch.setenv("DAFU_EMBED_MODEL", "fake")
    monkeypatch.setenv("COLUMNS", "300")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args))

    return run


def dafu_subprocess(args: list[str], env: dict[str, str], **kw) -> subprocess.Popen:
    """`dafu ARGS` as its own process (so it can be killed), with the fake encoder."""
    code = "import sys; from service.cli import main; sys.argv = ['dafu'] + sys.argv[1:]; main()"
    full_env = {**os.environ, "DAFU_EMBED_MODEL": "fake", "PYTHONPATH": str(ROOT), **env}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=full_env, cwd=str(ROOT), **kw)


def second_reply(tmp_path: Path, number: str = "31", topic: str = "养老服务") -> Path:
    """A second letter: the seed with another number and topic (so it makes other chunks)."""
    from index.textio import read_text

    text = read_text(SEED_FILE).replace("建议/提案号: 28", f"建议/提案号: {number}").replace("产教融合", topic)
    p = tmp_path / "letters" / f"{number}.txt"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


_PROGRESS = re.compile(r"^[\w ]+:\s+\d+%\|")  # tqdm's progress bar (embedding: 40%|███ | …)


def one_line_error(output: str) -> str:
    """The CLI's error: exactly one non-empty line starting with the error marker, no traceback."""
    lines = [ln for ln in re.split(r"[\r\n]+", output.strip()) if ln.strip() and not _PROGRESS.match(ln)]
    assert "Traceback" not in output, output
    assert len(lines) == 1 and lines[0].startswith("错误 (error):"), output
    return lines[0]


__all__ = ["SEED_DIR", "SEED_FILE", "cli", "dafu_subprocess", "fill", "one_line_error", "read_only", "second_reply",
           "tmpfs"]
