"""Validate gold question files (JSON Lines) against the reply letters they name.

Usage:
    python eval/dev/check_gold.py                      # eval/dev/gold.jsonl
    python eval/dev/check_gold.py tests/fixtures/other_province/gold.jsonl
    python eval/dev/check_gold.py A.jsonl B.jsonl …    # several files, one report each
    options: --profile legacy|new|none   (category minimums; default: from the file name)

Paths in a gold file are relative to the gold file's own folder. Exits non-zero (and prints every
problem) when, in any file:
  * a line does not parse or misses a field / has a bad value;
  * a referenced path does not exist, or its "number"/"reply_date" disagree with the file;
  * a `must_include` fact is not in the 答复内容 of any of the question's relevant replies
    (single-reply questions: that reply);
  * a `span` is not 5-30 characters or does not occur in a relevant reply (questions in the new
    format: in its 答复内容);
  * a question names a place (a district/county/city learned from the letters' signatures) but
    lists a reply signed by another place; a follow-up that names no place inherits the place of
    its latest history turn that names one;
  * a category count is below its minimum (profile "legacy": the original gold.jsonl; "new":
    gold_new.jsonl; "none": no minimums).

New-format questions (a file is new-format when any of its questions carries `shape`) must also have:
  * `shape` in {narrow, broad} and `aspect` in {amount, date, reason, who, progress, plan, work, field};
  * answerable: 1-3 `answer_spans`, each 5-40 characters and in the 答复内容 of a relevant reply;
    unanswerable: no `answer_spans`. Questions about the reply record (aspect "field": proposer,
    number, 主办/协办 units, reply date, 办复类别) may find their must_include / spans / answer_spans
    in the header fields too (never in the proposal body);
  * `miss_kind` exactly on near-miss questions (category "near-miss", unanswerable), with a value in
    {no-topic, place-other-topic, topic-other-place, detail-absent, topic-other-year, followup-place};
    "followup-place" needs a `history`;
  * category "field" ⇒ aspect "field"; "colloquial", "long-letter", "field", "multi-reply" ⇒
    answerable; "long-letter" ⇒ a relevant reply of at least 3,000 characters.

Letters without the labelled layout (a salutation such as "王华委员：" opens the reply; the number in the
title line 第N号提案; the date on the signature's last date line; the place from the signing unit or the
letterhead) are read too.

Text comparisons ignore white space (all of it is removed on both sides). Files are decoded like the
loader does: UTF-8 (BOM allowed), falling back to GBK; CRLF / CR line ends are normalised to LF.
Standard library only.
"""
from __future__ import annotations

import collections
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

LEGACY_CATEGORIES = {
    "paraphrase",
    "keyword",
    "specific-district-or-year",
    "multi-reply",
    "unanswerable",
    "follow-up",
    "department",
}
NEW_CATEGORIES = {"colloquial", "near-miss", "field", "long-letter", "follow-up", "multi-reply"}
CATEGORIES = LEGACY_CATEGORIES | NEW_CATEGORIES

SHAPES = {"narrow", "broad"}
ASPECTS = {"amount", "date", "reason", "who", "progress", "plan", "work", "field"}
MISS_KINDS = {
    "no-topic",
    "place-other-topic",
    "topic-other-place",
    "detail-absent",
    "topic-other-year",
    "followup-place",
}
ANSWERABLE_CATEGORIES = {"colloquial", "long-letter", "field", "multi-reply"}
LONG_LETTER_CHARS = 3000

PROFILES: dict[str, dict[str, int]] = {
    "legacy": {
        "paraphrase": 30,
        "specific-district-or-year": 20,
        "unanswerable": 15,
        "follow-up": 10,
        "multi-reply": 5,
        "department": 5,
        "keyword": 5,
    },
    "new": {
        "colloquial": 45,
        "near-miss": 35,
        "field": 15,
        "long-letter": 20,
        "follow-up": 10,
        "multi-reply": 5,
    },
    "none": {},
}
PROFILES["dev"] = {k: max(PROFILES["legacy"].get(k, 0), PROFILES["new"].get(k, 0))
                   for k in set(PROFILES["legacy"]) | set(PROFILES["new"])}
PROFILES["dev"]["follow-up"] = PROFILES["legacy"]["follow-up"] + PROFILES["new"]["follow-up"]
PROFILES["dev"]["multi-reply"] = PROFILES["legacy"]["multi-reply"] + PROFILES["new"]["multi-reply"]
MISS_KIND_MINIMUM = {"new": 5, "dev": 5}
PROFILE_BY_NAME = {"gold.jsonl": "dev", "gold_new.jsonl": "new"}

FILTER_KEYS = {"year_from", "year_to", "departments", "proposer", "number"}
REQUIRED = {"id", "question", "relevant", "must_include", "answerable", "category"}

_WS = re.compile(r"\s+")
_SIGNATURE = re.compile(r"^[\u4e00-\u9fff（）()]+(?:局|委员会|委|办公室|政府|中心|大队|管理部)$")
_ADMIN_UNIT = re.compile(r"[\u4e00-\u9fff]{2,3}?[省市区县]")


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gbk")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def squash(s: str) -> str:
    """Remove every white-space character (spaces, ideographic spaces, line ends)."""
    return _WS.sub("", s)


_CN_DIGIT = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0}
_SALUTATION = re.compile(r"^[ \t\u3000]*(?:尊敬的)?[\u4e00-\u9fff·、，,（）()0-9]{2,40}[:：][ \t\u3000]*$")


def _cn_number(s: str) -> int:
    """二十八 → 28, 三十 → 30, 十二 → 12, 七 → 7."""
    if "十" in s:
        a, _, b = s.partition("十")
        return (_CN_DIGIT.get(a, 1) if a else 1) * 10 + (_CN_DIGIT.get(b, 0) if b else 0)
    return _CN_DIGIT.get(s, 0)


def _last_date(text: str) -> str:
    """The last date line of an unlabelled letter (its signature): 2023年6月18日 or 二〇二三年七月五日 → ISO."""
    found = ""
    for ln in text.splitlines():
        ln = ln.strip()
        if m := re.fullmatch(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", ln):
            found = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
        elif m := re.fullmatch(r"([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日", ln):
            year = "".join(str(_CN_DIGIT[c]) for c in m.group(1))
            found = f"{year}-{_cn_number(m.group(2)):02d}-{_cn_number(m.group(3)):02d}"
    return found


def header_field(text: str, label: str) -> str:
    m = re.search(re.escape(label) + r"[ \t]*[:：][ \t\u3000]*(\S*)", text)
    if m:
        return m.group(1).strip()
    if reply_part(text) and not re.search(r"^\s*答复内容\s*[:：]", text, re.M):  # an unlabelled letter
        head = "\n".join(text.splitlines()[:8])
        if label == "建议/提案号":
            n = re.search(r"第\s*0*(\d{1,8})\s*号(?:提案|建议)|(?:提案|建议)编号[:：]\s*第?0*(\d{1,8})", head)
            return (n.group(1) or n.group(2)) if n else ""
        if label == "答复日期":
            return _last_date(text)
    return ""


def reply_part(text: str) -> str:
    """The 答复内容 of the labelled layout; of an unlabelled letter, everything from its salutation on."""
    m = re.search(r"^\s*答复内容\s*[:：]", text, re.M)
    if m:
        return text[m.end():]
    pos = 0
    for i, ln in enumerate(text.splitlines(keepends=True)):
        if i >= 12:
            break
        if _SALUTATION.match(ln.rstrip("\n")) and not re.search(r"单位|类别|签发人|编号|提案人|来源|时间", ln):
            return text[pos:]
        pos += len(ln)
    return ""


def record_part(text: str) -> str:
    """The reply record without the proposal body: header fields (提出者, 号, 标题, 承办单位, 答复日期) + 答复内容.

    Questions about the record itself (aspect "field") are answered from here.
    """
    start = re.search(r"^\s*建议/提案内容\s*[:：]", text, re.M)
    end = re.search(r"^\s*承办单位\s*[:：]", text, re.M)
    if start and end and end.start() > start.start():
        return text[: start.start()] + text[end.start():]
    return text


def signing_place(text: str) -> str:
    """The lowest administrative unit in the signing unit's name, e.g. 南通市通州区教育体育局 → 通州区.

    The signing unit is the last line of the reply that is a bare unit name. Empty when none is found.
    """
    lines = [ln.strip() for ln in reply_part(text).splitlines() if ln.strip()]
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not re.search(r"^\s*答复内容\s*[:：]", text, re.M):
        lines.insert(0, first)  # an unlabelled letter signed with a date only: its letterhead
    for ln in reversed(lines):
        if _SIGNATURE.match(ln):
            units: list[str] = []
            pos = 0
            while m := _ADMIN_UNIT.match(ln, pos):
                units.append(m.group(0))
                pos = m.end()
            return units[-1] if units else ""
    return ""


def place_forms(place: str) -> tuple[str, ...]:
    """通州区 → (通州区, 通州); 如皋市 → (如皋市, 如皋)."""
    short = place[:-1]
    return (place, short) if len(short) >= 2 else (place,)


def places_named(text: str, known: dict[str, tuple[str, ...]]) -> set[str]:
    return {place for place, forms in known.items() if any(f in text for f in forms)}


def profile_for(path: Path, override: str | None) -> str:
    if override:
        return override
    if path.resolve().parent == HERE:
        return PROFILE_BY_NAME.get(path.name, "none")
    return "none"


def check_file(gold_path: Path, profile: str) -> tuple[list[str], collections.Counter, dict]:
    base = gold_path.resolve().parent
    problems: list[str] = []
    cache: dict[Path, str] = {}
    counts: collections.Counter[str] = collections.Counter()
    breakdown: dict[str, collections.Counter] = {
        "miss_kind": collections.Counter(),
        "shape": collections.Counter(),
        "aspect": collections.Counter(),
    }
    ids: set[str] = set()

    def text_of(rel: str) -> str | None:
        p = (base / rel).resolve()
        if p not in cache:
            if not p.is_file():
                return None
            cache[p] = read_text(p)
        return cache[p]

    rows: list[tuple[int, dict]] = []
    for ln, line in enumerate(gold_path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"line {ln}: bad JSON: {e}")
            continue
        if not isinstance(q, dict):
            problems.append(f"line {ln}: not an object")
            continue
        rows.append((ln, q))

    file_new_format = any("shape" in q for _, q in rows)

    # places known to this gold file: the signing places of every letter in the folders it refers to
    folders = {
        (base / ref["path"]).resolve().parent
        for _, q in rows
        for ref in (q.get("relevant") or [])
        if isinstance(ref, dict) and isinstance(ref.get("path"), str)
    }
    known: dict[str, tuple[str, ...]] = {}
    for folder in folders:
        if folder.is_dir():
            for f in sorted(folder.glob("*.txt")):
                place = signing_place(text_of(str(f)) or "")
                if place:
                    known[place] = place_forms(place)

    for ln, q in rows:
        missing = REQUIRED - q.keys()
        if missing:
            problems.append(f"line {ln}: missing fields {sorted(missing)}")
            continue
        qid = q["id"]
        where = f"line {ln} ({qid})"
        if not re.fullmatch(r"[a-z]{1,3}\d{2,}", str(qid)):
            problems.append(f"{where}: bad id (expected letters + digits, e.g. q001, n001, op01)")
        if qid in ids:
            problems.append(f"{where}: duplicate id")
        ids.add(qid)
        question = q["question"]
        if not isinstance(question, str) or not question.strip():
            problems.append(f"{where}: empty question")
            question = ""
        cat = q["category"]
        if cat not in CATEGORIES:
            problems.append(f"{where}: unknown category {cat!r} (allowed: {sorted(CATEGORIES)})")
        counts[cat] += 1
        answerable = q["answerable"]
        if not isinstance(answerable, bool):
            problems.append(f"{where}: answerable must be a bool")
        rel = q["relevant"]
        if not isinstance(rel, list):
            problems.append(f"{where}: relevant must be a list")
            rel = []
        if bool(rel) != bool(answerable):
            problems.append(f"{where}: answerable={answerable} but {len(rel)} relevant replies")
        if cat in ("unanswerable", "near-miss") and answerable:
            problems.append(f"{where}: {cat} category but answerable=true")
        if cat == "multi-reply" and len(rel) < 2:
            problems.append(f"{where}: multi-reply needs at least 2 relevant replies")
        hist = q.get("history")
        if "history" in q and not isinstance(hist, list):
            problems.append(f"{where}: history must be a list")
            hist = None
        hist_ok = isinstance(hist, list) and bool(hist) and all(
            isinstance(h, dict) and isinstance(h.get("question"), str) and h["question"] for h in hist
        )
        if cat == "follow-up" and not hist_ok:
            problems.append(f"{where}: follow-up needs a non-empty history of {{'question': ...}}")
        filters = q.get("filters")
        if filters is not None:
            if not isinstance(filters, dict) or set(filters) - FILTER_KEYS:
                problems.append(f"{where}: bad filters {filters!r}")
        if "notes" in q and not isinstance(q["notes"], str):
            problems.append(f"{where}: notes must be a string")

        texts: list[str] = []
        reply_places: list[tuple[str, str]] = []
        for ref in rel:
            if not isinstance(ref, dict) or "path" not in ref:
                problems.append(f"{where}: bad reference {ref!r}")
                continue
            t = text_of(ref["path"])
            if t is None:
                problems.append(f"{where}: missing file {ref['path']} (relative to {base})")
                continue
            texts.append(t)
            reply_places.append((ref["path"], signing_place(t)))
            for key, label in (("number", "建议/提案号"), ("reply_date", "答复日期")):
                want = header_field(t, label)
                if ref.get(key) != want:
                    problems.append(f"{where}: {ref['path']} {key}={ref.get(key)!r}, file says {want!r}")
            if not reply_part(t):
                problems.append(f"{where}: {ref['path']} has no 答复内容")
        new_format = file_new_format and ("shape" in q or q.get("category") in NEW_CATEGORIES - LEGACY_CATEGORIES)
        about_record = new_format and q.get("aspect") == "field"
        # facts are looked up in the 答复内容; questions about the record itself also see the header fields
        replies = [squash(record_part(t) if about_record else reply_part(t)) for t in texts]
        wholes = [squash(t) for t in texts]
        where_facts = "答复内容 or header" if about_record else "答复内容"

        must = q["must_include"]
        if not isinstance(must, list) or not all(isinstance(m, str) and m for m in must):
            problems.append(f"{where}: must_include must be a list of strings")
            must = []
        if not answerable and must:
            problems.append(f"{where}: unanswerable question with must_include")
        for m in must:
            if texts and not any(squash(m) in r for r in replies):
                problems.append(f"{where}: must_include {m!r} not in {where_facts} of any relevant reply")
        spans = q.get("spans", []) or []
        if not isinstance(spans, list):
            problems.append(f"{where}: spans must be a list")
            spans = []
        for s in spans:
            if not isinstance(s, str) or not 5 <= len(s) <= 30:
                problems.append(f"{where}: span {s!r} must be 5-30 characters")
                continue
            pool = replies if new_format else wholes
            if texts and not any(squash(s) in r for r in pool):
                part = f"{where_facts} of any relevant reply" if new_format else "any relevant reply"
                problems.append(f"{where}: span {s!r} not found in {part}")

        # place: a question naming a place lists only that place's replies
        named = places_named(question, known)
        if not named and hist_ok:
            for h in reversed(hist):
                named = places_named(h["question"], known)
                if named:
                    break
        if named:
            for path, place in reply_places:
                if place and place not in named:
                    problems.append(
                        f"{where}: question is about {'/'.join(sorted(named))} but lists {path} (signed by {place})"
                    )

        if new_format:
            shape, aspect = q.get("shape"), q.get("aspect")
            if shape not in SHAPES:
                problems.append(f"{where}: shape={shape!r}, expected one of {sorted(SHAPES)}")
            if aspect not in ASPECTS:
                problems.append(f"{where}: aspect={aspect!r}, expected one of {sorted(ASPECTS)}")
            breakdown["shape"][str(shape)] += 1
            breakdown["aspect"][str(aspect)] += 1
            ans = q.get("answer_spans")
            if answerable:
                if not isinstance(ans, list) or not 1 <= len(ans) <= 3:
                    problems.append(f"{where}: answerable question needs 1-3 answer_spans, got {ans!r}")
                    ans = ans if isinstance(ans, list) else []
                for a in ans:
                    if not isinstance(a, str) or not 5 <= len(a) <= 40:
                        problems.append(f"{where}: answer_span {a!r} must be 5-40 characters")
                        continue
                    if texts and not any(squash(a) in r for r in replies):
                        problems.append(f"{where}: answer_span {a!r} not in {where_facts} of any relevant reply")
            elif ans:
                problems.append(f"{where}: unanswerable question with answer_spans")
            mk = q.get("miss_kind")
            if cat == "near-miss":
                if mk not in MISS_KINDS:
                    problems.append(f"{where}: near-miss needs miss_kind in {sorted(MISS_KINDS)}, got {mk!r}")
                breakdown["miss_kind"][str(mk)] += 1
                if mk == "followup-place" and not hist_ok:
                    problems.append(f"{where}: miss_kind followup-place needs a history")
            elif mk is not None:
                problems.append(f"{where}: miss_kind only belongs on near-miss questions (category {cat!r})")
            if cat == "field" and aspect != "field":
                problems.append(f"{where}: field question needs aspect 'field'")
            if cat in ANSWERABLE_CATEGORIES and not answerable:
                problems.append(f"{where}: {cat} question must be answerable")
            if cat == "long-letter" and texts and max(len(t) for t in texts) < LONG_LETTER_CHARS:
                problems.append(f"{where}: long-letter question but no relevant reply has {LONG_LETTER_CHARS}+ characters")
        elif "miss_kind" in q and cat != "near-miss":
            problems.append(f"{where}: miss_kind only belongs on near-miss questions")

    for cat, n in PROFILES[profile].items():
        if counts[cat] < n:
            problems.append(f"category {cat}: {counts[cat]} < minimum {n}")
    if profile in MISS_KIND_MINIMUM:
        for mk in sorted(MISS_KINDS):
            if breakdown["miss_kind"][mk] < MISS_KIND_MINIMUM[profile]:
                problems.append(
                    f"miss_kind {mk}: {breakdown['miss_kind'][mk]} < minimum {MISS_KIND_MINIMUM[profile]}"
                )
    return problems, counts, breakdown


def main(argv: list[str]) -> int:
    args = argv[1:]
    override = None
    if "--profile" in args:
        i = args.index("--profile")
        if i + 1 >= len(args) or args[i + 1] not in PROFILES:
            print(f"--profile needs one of {sorted(PROFILES)}", file=sys.stderr)
            return 2
        override = args[i + 1]
        del args[i : i + 2]
    paths = [Path(a) for a in args] or [HERE / "gold.jsonl"]
    failed = False
    for path in paths:
        if not path.is_file():
            print(f"{path}: no such file (give the path of a gold .jsonl file)", file=sys.stderr)
            failed = True
            continue
        profile = profile_for(path, override)
        problems, counts, breakdown = check_file(path, profile)
        for p in problems:
            print(f"PROBLEM: {path.name}: {p}")
        total = sum(counts.values())
        print(f"{path} (profile {profile}): {total} questions; " + ", ".join(f"{c}={counts[c]}" for c in sorted(counts)))
        for key, counter in breakdown.items():
            if counter:
                print(f"  {key}: " + ", ".join(f"{k}={counter[k]}" for k in sorted(counter)))
        print("  OK" if not problems else f"  {len(problems)} problem(s)")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
