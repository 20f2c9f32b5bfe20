"""Regression gate: compare a run's metrics with eval/thresholds.json and say which fell short.

thresholds.json::

    {"about": "…", "settings": {…the CI-fast settings the numbers were measured under…},
     "min": {"hit@5": 0.8, "key_fact_coverage": 0.6, …},
     "max": {"latency.total_ms.p95": 2000}}

``min`` holds floors (the metric must be at least this), ``max`` ceilings (latency). A flat
``{"hit@5": 0.8}`` is read as floors. A metric the run did not measure fails the gate (a gate that
silently passes on a missing number would hide a broken run); ``null`` disables a threshold.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.scoring import is_metric
from index.errors import DafuError

EPS = 1e-9


def load_thresholds(path: str | Path) -> dict[str, dict[str, float | None]]:
    p = Path(path)
    if not p.is_file():
        raise DafuError(f"--thresholds {p}: no such file")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as e:
        raise DafuError(f"--thresholds {p}: not valid JSON ({e})") from None
    return parse_thresholds(data, str(p))


def parse_thresholds(data: dict[str, Any], name: str = "thresholds") -> dict[str, dict[str, float | None]]:
    if not isinstance(data, dict):
        raise DafuError(f"{name}: expected a JSON object")
    if "min" in data or "max" in data:
        out = {"min": dict(data.get("min") or {}), "max": dict(data.get("max") or {})}
    else:
        out = {"min": {k: v for k, v in data.items() if not k.startswith("_")}, "max": {}}
    for kind, table in out.items():
        for k, v in table.items():
            if not is_metric(k):
                raise DafuError(f"{name}: {kind}.{k} is not a metric dafu eval reports")
            if v is not None and not isinstance(v, (int, float)):
                raise DafuError(f"{name}: {kind}.{k} must be a number or null, got {v!r}")
    return out


def check_thresholds(metrics: dict[str, Any], thresholds: dict[str, dict[str, float | None]]) -> list[str]:
    """One line per metric that is below its floor / above its ceiling (empty: the gate passes)."""
    failures: list[str] = []
    for k, floor in thresholds.get("min", {}).items():
        if floor is None:
            continue
        v = metrics.get(k)
        if v is None:
            failures.append(f"{k}: not measured in this run (threshold ≥ {floor})")
        elif v < floor - EPS:
            failures.append(f"{k}: {v:.4f} is below the threshold {floor}")
    for k, ceiling in thresholds.get("max", {}).items():
        if ceiling is None:
            continue
        v = metrics.get(k)
        if v is None:
            failures.append(f"{k}: not measured in this run (threshold ≤ {ceiling})")
        elif v > ceiling + EPS:
            failures.append(f"{k}: {v:.4f} is above the threshold {ceiling}")
    return failures
