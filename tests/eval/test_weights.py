"""`dafu eval weights`: the lead reading on candidates alone, the coordinate search, and the command end to end."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from eval.weights import Scored, count, lead_holds_span, search
from tests.conftest import SEED_DIR

FIXTURE = Path(__file__).parent / "fixtures" / "seed_gold.jsonl"


def _q(narrow=False, pool=(True, True, True), held=(False, False, False), split="tune") -> Scored:
    # three candidates: columns (sim, detail); only the third holds a direct-answer span
    return Scored("q", split, narrow, np.array([[1.0, 0.0], [0.5, 0.0], [0.0, 1.0]]),
                  np.array([False, False, True]), np.array(pool), np.array(held))


def test_first_two_by_score():
    q = _q()
    assert not lead_holds_span(q, np.array([1.0, 0.0]))  # scores 1, 0.5, 0: the span is third
    assert lead_holds_span(q, np.array([1.0, 1.0]))  # scores 1, 0.5, 1: the span ties first


def test_lead_pool_and_held_detail():
    # the first candidate is not of the asked label (or under a 问题 heading): the span moves up to second
    assert lead_holds_span(_q(pool=(False, True, True)), np.array([1.0, 0.0]))
    # a narrow question: the one holding the asked detail leads when within 1.0 of the best (0 ≥ 1 − 1)
    assert lead_holds_span(_q(narrow=True, held=(False, False, True)), np.array([1.0, 0.0]))
    # …not when 1.1 behind while one of the best three holds it (the third itself): the order stays 1.1, 0.55, 0
    assert not lead_holds_span(_q(narrow=True, held=(False, False, True)), np.array([1.1, 0.0]))


def test_held_detail_far_behind_leads_when_none_of_the_best_three_holds_it():
    q = Scored("q", "tune", True, np.array([[3.0], [2.5], [2.0], [0.0]]), np.array([False, False, False, True]),
               np.ones(4, bool), np.array([False, False, False, True]))
    assert lead_holds_span(q, np.array([1.0]))  # 0 < 3 − 1, but no candidate of the best three holds the detail
    q.held[0] = True  # …the best one holds it too: the holders lead in score order (3, then 0)
    assert lead_holds_span(q, np.array([1.0]))
    q.held[1] = True  # …and two better holders keep it third
    assert not lead_holds_span(q, np.array([1.0]))


def test_search_keeps_a_change_only_for_the_asked_gain():
    tune = [_q(), _q()]
    w, steps = search(tune, np.array([1.0, 0.0]), ("sim", "detail"), grid=(0.0, 1.0), min_gain=2)
    assert w.tolist() == [1.0, 1.0] and steps == [{"weight": "detail", "from": 0.0, "to": 1.0, "tune": 2}]
    assert count(tune, w) == 2
    w, steps = search(tune, np.array([1.0, 0.0]), ("sim", "detail"), grid=(0.0, 1.0), min_gain=3)
    assert w.tolist() == [1.0, 0.0] and steps == []


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("DAFU_EMBED_MODEL", "fake")
    from service.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_weights_command_end_to_end(cli, tmp_path):
    lines = [json.loads(l) for l in FIXTURE.read_text(encoding="utf-8").splitlines() if l.strip()]
    for i, o in enumerate(lines):
        o["split"] = "tune" if i % 2 == 0 else "report"
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(o, ensure_ascii=False) for o in lines) + "\n", encoding="utf-8")
    out = tmp_path / "w"
    res = cli("eval", "weights", gold, "--corpus", SEED_DIR, "--out", out, "-q")
    assert res.exit_code == 0, res.output
    data = json.loads((out / "weights.json").read_text(encoding="utf-8"))
    assert data["questions"]["tune"] >= 1  # s1 (产教融合做了哪些工作) is answered from the seed letter
    for key in ("current", "suggested"):
        assert 0 <= data[key]["tune"] <= data["questions"]["tune"]
        assert 0 <= data[key]["report"] <= data["questions"]["report"]
    assert data["suggested"]["tune"] >= data["current"]["tune"]  # a change is kept only for a gain
    assert "| current |" in res.output and (out / "weights.md").is_file()


def test_weights_command_needs_a_split(cli, tmp_path):
    # a gold set with no tuning half: one line on stderr naming the file and what to do, exit status 2
    res = cli("eval", "weights", FIXTURE, "--corpus", SEED_DIR, "--out", tmp_path / "w", "-q")
    assert res.exit_code == 2 and "seed_gold.jsonl" in res.output and '"split": "tune"' in res.output
