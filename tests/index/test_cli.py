"""`dafu index …`, `dafu search` and `dafu ask` through the command line (fake encoder)."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from service.cli import app
from tests.conftest import SEED_DIR, SEED_QUESTION


@pytest.fixture
def run(monkeypatch):
    monkeypatch.setenv("DAFU_EMBED_MODEL", "fake")
    monkeypatch.setenv("COLUMNS", "400")  # rich tables: no folding of long paths
    runner = CliRunner()

    def _run(*args: str):
        res = runner.invoke(app, list(args))
        return res

    return _run


def test_build_list_info_search_ask_remove(run, tmp_path, seed_text):
    idx = str(tmp_path / "idx")
    bad = tmp_path / "in" / "bad.txt"
    bad.parent.mkdir()
    bad.write_text("建议/提案号: 1\n标题: 无答复\n", encoding="utf-8")
    (tmp_path / "in" / "seed.txt").write_text(seed_text, encoding="utf-8")
    res = run("index", "build", str(tmp_path / "in"), "--index", idx)
    assert res.exit_code == 0, res.output
    assert "bad.txt" in res.output and "replies indexed" in res.output

    res = run("index", "list", "--index", idx, "--json")
    rows = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert [r["id"] for r in rows] == ["28_20230630"]
    assert rows[0]["lead_unit"] == "教育体育局" and rows[0]["source"].endswith("seed.txt")

    info = json.loads(run("index", "info", "--index", idx, "--json").stdout)
    assert info["model"] == "fake" and info["replies"] == 1 and info["size_bytes"] > 0

    hits = json.loads(run("search", "产教融合", "--index", idx, "--json").stdout)
    assert hits["replies"][0]["id"] == "28_20230630"

    a = json.loads(run("ask", SEED_QUESTION, "--index", idx, "--json", "--year", "2023", "--dept", "教体局").stdout)
    assert not a["no_answer"] and a["citations"][0]["number"] == "28"
    a = json.loads(run("ask", SEED_QUESTION, "--index", idx, "--json", "--year", "2020").stdout)
    assert a["no_answer"]

    res = run("index", "remove", "nope", "--index", idx)
    assert res.exit_code == 2 and "nope" in res.output
    assert run("index", "remove", "28_20230630", "--index", idx).exit_code == 0


def test_model_mismatch_is_reported_with_the_building_model(run, tmp_path, monkeypatch):
    idx = str(tmp_path / "idx")
    assert run("index", "build", str(SEED_DIR), "--index", idx).exit_code == 0
    monkeypatch.setenv("DAFU_EMBED_MODEL", "fake:64")
    res = run("ask", SEED_QUESTION, "--index", idx)
    assert res.exit_code == 2
    assert "fake" in res.output and "DAFU_EMBED_MODEL" in res.output


def test_bad_year_option(run):
    res = run("ask", SEED_QUESTION, "--year", "去年")
    assert res.exit_code == 2 and "--year" in res.output
