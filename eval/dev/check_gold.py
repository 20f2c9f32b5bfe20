"""Validate eval/dev/gold.jsonl against the development corpus.

Usage:  python eval/dev/check_gold.py [path/to/gold.jsonl]

Exits non-zero (and prints every problem) when:
  * a line does not parse or misses a field / has a bad value;
  * a referenced path does not exist, or its "number"/"reply_date" disagree with the file;
  * a `must_include` fact is not in the 答复内容 of any of the question's relevant replies
    (single-reply questions: that reply);
  * a `span` is not 5-30 characters or does not occur in any relevant reply's text;
  * a category count is below its minimum.

Files are decoded like the loader does: UTF-8 (BOM allowed), falling back to GBK;
CRLF / CR line ends are normalised to LF. Standard library only.
"""
from __future__ import annotations

import collections
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CATEGORIES = {
    "paraphrase",
    "keyword",
    "specific-district-or-year",
    "multi-reply",
    "unanswerable",
    "follow-up",
    "department",
}
MINIMUMS = {
    "paraphrase": 30,
    "specific-district-or-year": 20,
    "unanswerable": 15,
    "follow-up": 10,
    "multi-reply": 5,
    "department": 5,
    "keyword": 5,
}
FILTER_KEYS = {"year_from", "year_to", "departments", "proposer", "number"}
REQUIRED = {"id", "question", "relevant", "must_include", "answerable", "category"}


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gbk")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def header_field(text: str, label: str) -> str:
    m = re.search(re.escape(label) + r"[ \t]*[:：][ \t\u3000]*(\S*)", text)
    return m.group(1).strip() if m else ""


def reply_part(text: str) -> str:
    m = re.search(r"^\s*答复内容\s*[:：]", text, re.M)
    return text[m.end():] if m else ""


def main(argv: list[str]) -> int:
    gold_path = Path(argv[1]) if len(argv) > 1 else HERE / "gold.jsonl"
    problems: list[str] = []
    cache: dict[str, str] = {}
    counts: collections.Counter[str] = collections.Counter()
    ids: set[str] = set()

    def text_of(rel: str) -> str | None:
        if rel not in cache:
            p = HERE / rel
            if not p.is_file():
                return None
            cache[rel] = read_text(p)
        return cache[rel]

    lines = gold_path.read_text(encoding="utf-8").splitlines()
    for ln, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {ln}"
        try:
            q = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{where}: bad JSON: {e}")
            continue
        if not isinstance(q, dict):
            problems.append(f"{where}: not an object")
            continue
        missing = REQUIRED - q.keys()
        if missing:
            problems.append(f"{where}: missing fields {sorted(missing)}")
            continue
        qid = q["id"]
        where = f"line {ln} ({qid})"
        if not re.fullmatch(r"q\d{3,}", str(qid)):
            problems.append(f"{where}: bad id")
        if qid in ids:
            problems.append(f"{where}: duplicate id")
        ids.add(qid)
        if not isinstance(q["question"], str) or not q["question"].strip():
            problems.append(f"{where}: empty question")
        cat = q["category"]
        if cat not in CATEGORIES:
            problems.append(f"{where}: unknown category {cat!r}")
        counts[cat] += 1
        if not isinstance(q["answerable"], bool):
            problems.append(f"{where}: answerable must be a bool")
        rel = q["relevant"]
        if not isinstance(rel, list):
            problems.append(f"{where}: relevant must be a list")
            rel = []
        if bool(rel) != bool(q["answerable"]):
            problems.append(f"{where}: answerable={q['answerable']} but {len(rel)} relevant replies")
        if cat == "unanswerable" and q["answerable"]:
            problems.append(f"{where}: unanswerable category but answerable=true")
        if cat == "multi-reply" and len(rel) < 2:
            problems.append(f"{where}: multi-reply needs at least 2 relevant replies")
        if cat == "follow-up":
            hist = q.get("history")
            if not isinstance(hist, list) or not hist or not all(
                isinstance(h, dict) and isinstance(h.get("question"), str) and h["question"] for h in hist
            ):
                problems.append(f"{where}: follow-up needs a non-empty history of {{'question': ...}}")
        if "history" in q and not isinstance(q["history"], list):
            problems.append(f"{where}: history must be a list")
        filters = q.get("filters")
        if filters is not None:
            if not isinstance(filters, dict) or set(filters) - FILTER_KEYS:
                problems.append(f"{where}: bad filters {filters!r}")

        texts: list[str] = []
        for ref in rel:
            if not isinstance(ref, dict) or "path" not in ref:
                problems.append(f"{where}: bad reference {ref!r}")
                continue
            t = text_of(ref["path"])
            if t is None:
                problems.append(f"{where}: missing file {ref['path']}")
                continue
            texts.append(t)
            for key, label in (("number", "建议/提案号"), ("reply_date", "答复日期")):
                want = header_field(t, label)
                if ref.get(key) != want:
                    problems.append(f"{where}: {ref['path']} {key}={ref.get(key)!r}, file says {want!r}")
            if not reply_part(t):
                problems.append(f"{where}: {ref['path']} has no 答复内容")

        must = q["must_include"]
        if not isinstance(must, list) or not all(isinstance(m, str) and m for m in must):
            problems.append(f"{where}: must_include must be a list of strings")
            must = []
        if not q["answerable"] and must:
            problems.append(f"{where}: unanswerable question with must_include")
        for m in must:
            if texts and not any(m in reply_part(t) for t in texts):
                problems.append(f"{where}: must_include {m!r} not in 答复内容 of any relevant reply")
        for s in q.get("spans", []) or []:
            if not isinstance(s, str) or not 5 <= len(s) <= 30:
                problems.append(f"{where}: span {s!r} must be 5-30 characters")
                continue
            if texts and not any(s in t for t in texts):
                problems.append(f"{where}: span {s!r} not found in any relevant reply")

    for cat, n in MINIMUMS.items():
        if counts[cat] < n:
            problems.append(f"category {cat}: {counts[cat]} < minimum {n}")

    for p in problems:
        print("PROBLEM:", p)
    total = sum(counts.values())
    print(f"{total} questions; " + ", ".join(f"{c}={counts[c]}" for c in sorted(counts)))
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
