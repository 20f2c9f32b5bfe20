"""What the browser tests share: Debian's chromium for Playwright, a free port, waiting for a server, and
`dafu serve` over a freshly built index (fake encoder) in a child process."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync"]
T = 60_000  # ms: generous for a cold CI machine


def need_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: apt-get install -y chromium fonts-wqy-zenhei (.ci/run does)")


def artifacts(sub: str = "") -> Path:
    """Where screenshots go: $DAFU_TEST_ARTIFACTS (default ./artifacts/), optionally a sub-folder."""
    d = Path(os.environ.get("DAFU_TEST_ARTIFACTS") or "artifacts").resolve() / sub
    d.mkdir(parents=True, exist_ok=True)
    return d


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen | None = None, log: Path | None = None, timeout: float = 120) -> None:
    """Until `url` answers 200; fails with the server's log when it exits or does not answer in time."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:] if log else ''}")
        try:
            if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s:\n{log.read_text()[-3000:] if log else ''}")


@contextlib.contextmanager
def dafu_serve(tmp: Path, corpus: Path, **env_extra: str) -> Iterator[str]:
    """`dafu index build CORPUS` then `dafu serve` over it (fake encoder, DAFU_HOME under `tmp`, no other
    DAFU_* from the caller's environment); yields the base URL once the API and the page answer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAFU_")}
    env.update(DAFU_HOME=str(tmp / "home"), DAFU_EMBED_MODEL="fake", HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
               NO_PROXY="127.0.0.1,localhost", **env_extra)
    exe = Path(sys.executable).parent / "dafu"
    dafu = [str(exe)] if exe.exists() else [sys.executable, "-c", "from service.cli import main; main()"]
    idx = tmp / "index"
    subprocess.run([*dafu, "index", "build", str(corpus), "--index", str(idx)], env=env, cwd=ROOT, check=True,
                   timeout=600, capture_output=True)
    port, log = free_port(), tmp / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([*dafu, "serve", "--port", str(port), "--index", str(idx)], env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_http(base + "api/stats", proc, log)
        wait_http(base, proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
