"""RRF worked out by hand."""
from __future__ import annotations

import pytest

from service.fusion import ranked, rrf


def test_rrf_by_hand():
    # k=60: a is 1st in dense and 3rd in bm25; b is 2nd and 1st; c only in bm25 at 2nd
    s = rrf({"dense": ["a", "b"], "bm25": ["b", "c", "a"]}, {"dense": 1.0, "bm25": 1.0}, k=60)
    assert s["a"] == pytest.approx(1 / 61 + 1 / 63)
    assert s["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert s["c"] == pytest.approx(1 / 62)
    assert ranked(s) == ["b", "a", "c"]


def test_rrf_weights_and_zero_weight():
    s = rrf({"dense": ["a", "b"], "bm25": ["b", "a"]}, {"dense": 1.0, "bm25": 0.5}, k=10)
    assert s["a"] == pytest.approx(1 / 11 + 0.5 / 12)
    assert s["b"] == pytest.approx(1 / 12 + 0.5 / 11)
    assert ranked(s) == ["a", "b"]
    only = rrf({"dense": ["a"], "bm25": ["b"]}, {"dense": 1.0, "bm25": 0.0}, k=60)
    assert only == {"a": pytest.approx(1 / 61)}
