"""Notes an answer carries besides its points: hints on how the question was asked (`hints`) and what the
filters matched (`filter_report`, computed in service.filters); shown by the CLI, the API and the web chat."""
from __future__ import annotations

import re
from typing import Any

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)

ASK_IN_CHINESE = ("答复通检索的是中文的提案、建议答复，请用中文提问，例如“某某局在某方面做了哪些工作？”"
                  "（Please ask in Chinese: the replies are in Chinese.）")


def is_chinese(question: str) -> bool:
    """True when the question has Chinese characters (a number or an id alone counts as Chinese enough)."""
    return bool(CJK.search(question or "")) or not LETTERS.search(question or "")


def question_hints(question: str) -> list[str]:
    """Hints for the asker: today only 'ask in Chinese' for questions written without Chinese characters."""
    return [] if is_chinese(question) else [ASK_IN_CHINESE]


def annotate_answer(d: dict[str, Any], question: str, report: dict[str, Any] | None) -> dict[str, Any]:
    """Add `filter_report` and `hints` to an answer dict; a not-found answer's text also says which filter
    emptied the result and how to ask better."""
    d["filter_report"] = report
    d["hints"] = question_hints(question)
    extra = [*d["hints"]]
    if report and report.get("empty"):
        extra.insert(0, report["message"].splitlines()[-1])
    if extra and d.get("no_answer"):
        d["answer_markdown"] = "\n\n".join([d.get("answer_markdown") or "", *extra]).strip()
    return d
