"""Slow: the API on the real default encoder, and the load benchmark end to end (starts `dafu serve`)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT, SEED_QUESTION


@pytest.mark.slow
def test_seed_answer_with_default_encoder(tmp_path):
    from index.settings import DEFAULT_MODEL, Settings
    from service.api.app import create_app

    s = Settings(home=tmp_path / "home")
    assert s.embed_model == DEFAULT_MODEL
    with TestClient(create_app(s, with_ui=False)) as c:
        a = c.post("/api/ask", json={"question": SEED_QUESTION}).json()
        assert not a["no_answer"] and {x["number"] for x in a["citations"]} == {"28"}
        for cit in a["citations"]:
            text = c.get(f"/api/replies/{cit['reply_id']}").json()["text"]
            assert text[cit["start"]:cit["end"]] == cit["passage"]
        r = c.post("/api/ask", json={"question": "那人社局呢？", "history": [{"question": SEED_QUESTION,
                                                                           "answer_id": a["answer_id"]}]}).json()
        assert r["rewritten_question"] == "通州人社局在产教融合方面做了哪些工作？" and not r["no_answer"]
        assert f'model="{DEFAULT_MODEL}"' in c.get("/metrics").text


@pytest.mark.slow
def test_load_benchmark_runs_against_a_served_index(tmp_path):
    out = tmp_path / "bench.json"
    env = {**os.environ, "DAFU_EMBED_MODEL": "fake"}
    res = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--clients", "4", "--duration", "3",
                          "--warmup", "1", "--json", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    j = json.loads(out.read_text("utf-8"))
    assert j["errors"] == 0 and j["ok"] > 0 and j["p95_ms"] > 0
    assert "QPS=" in res.stdout and "p95=" in res.stdout


def test_load_benchmark_refuses_non_loopback_urls():
    res = subprocess.run([sys.executable, str(Path(ROOT) / "bench" / "load.py"), "--url", "http://192.0.2.1:8000",
                          "--duration", "1"], capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "loopback" in res.stdout + res.stderr
