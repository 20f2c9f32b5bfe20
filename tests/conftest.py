"""Shared fixtures. Every test's index, cache and feedback files go to its own tmp_path."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = ROOT / "index" / "data" / "sample"
SEED_FILE = next(SEED_DIR.glob("*.txt"))
SEED_QUESTION = "通州在产教融合方面做了哪些工作？"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """All index files to tmp_path; no test reads or writes the user's ~/.local/share/dafu."""
    home = tmp_path / "dafu-home"
    monkeypatch.setenv("DAFU_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for var in ("DAFU_INDEX_DIR", "DAFU_CACHE_DIR", "DAFU_EMBED_MODEL", "DAFU_ADMIN_TOKEN", "DAFU_RETRIEVER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # every TestClient request comes from one client: per-client rate limits are off unless a test sets them
    for var in ("DAFU_RATE_LIMIT_ASK", "DAFU_RATE_LIMIT_FEEDBACK", "DAFU_RATE_LIMIT_ADMIN", "DAFU_RATE_LIMIT_AUTH_FAILURES"):
        monkeypatch.setenv(var, "0")
    yield


@pytest.fixture
def settings(tmp_path):
    """Settings with the fast deterministic fake encoder."""
    from index.settings import Settings

    return Settings(home=tmp_path / "dafu-home", embed_model="fake")


@pytest.fixture
def seed_text() -> str:
    from index.textio import read_text

    return read_text(SEED_FILE)


@pytest.fixture
def seed_index(settings):
    """An index of the seed built with the fake encoder."""
    from index.builder import Indexer, open_index

    Indexer(settings).build([SEED_DIR])
    return open_index(settings)


@pytest.fixture
def seed_retriever(settings, seed_index):
    from service.retrieval import Retriever

    return Retriever(seed_index, settings)


def reply_letter(number: str, title: str, body: str, signer: str, date: str, level: str = "县", proposer: str = "王明") -> str:
    """A reply letter in the title-line layout (关于县政协第29号提案的答复 …, 虚构示例): `body` between the opening and
    the closing courtesy, then the signing unit and the date."""
    return (f"关于{level}政协第{number}号提案的答复\n\n{proposer}委员：\n您提出的《{title}》收悉，现答复如下：\n{body}\n"
            f"感谢您的关心和支持。\n\n{signer}\n{date}\n")


def retriever_over(settings, folder, letters: dict[str, str]):
    """A Retriever over an index of `letters` (file name → text) written into `folder` (fake encoder)."""
    from index.builder import Indexer, open_index
    from service.retrieval import Retriever

    folder.mkdir(parents=True, exist_ok=True)
    for name, text in letters.items():
        (folder / name).write_text(text, encoding="utf-8")
    Indexer(settings).build([folder])
    return Retriever(open_index(settings), settings)



def expected_records(folder: Path) -> list[dict]:
    """An eval corpus's records as its writers filled them in (expected.jsonl)."""
    import json

    return [json.loads(x) for x in (folder / "expected.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


def corpus_replies(folder: Path) -> dict:
    """An eval corpus's letters as dafu reads them, by file name (every file read: none skipped)."""
    from index.loader import load_paths

    report = load_paths([folder / "corpus"])
    assert not report.skipped, report.skipped
    return {r.source.split("/")[-1]: r for r in report.replies}


def last_digits(s: str) -> str:
    """A proposal number's last digit group without leading zeros (第0057号 → 57)."""
    return (re.findall(r"\d+", s or "") or [""])[-1].lstrip("0")
