"""Gold question sets: load a JSONL file, validate every line against the JSON Schema, and resolve
each `relevant` reference (reply id, number + reply date, or file path) to the reply ids of an index.

Errors name the file, the line and the field (``gold.jsonl:12: relevant[0].reply_date: …``) and are
collected for the whole file before anything is raised, so one run shows every mistake.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from index.errors import DafuError

SCHEMA_PATH = Path(__file__).with_name("schema") / "gold.schema.json"
FILTER_KEYS = ("year_from", "year_to", "departments", "proposer", "number")


class GoldError(DafuError):
    """The gold file is not valid; the message lists every problem with its line and field."""


@dataclass
class Ref:
    """One relevant reply as the gold file names it (any of the keys may be set)."""

    id: str | None = None
    number: str | None = None
    reply_date: str | None = None
    path: str | None = None

    def label(self) -> str:
        if self.id:
            return self.id
        parts = [f"第{self.number}号 {self.reply_date}" if self.number else "", self.path or ""]
        return " ".join(p for p in parts if p)


@dataclass
class GoldItem:
    id: str
    question: str
    relevant: list[Ref]
    line: int = 0
    spans: list[str] = field(default_factory=list)
    must_include: list[str] = field(default_factory=list)
    answerable: bool = True
    category: str = "uncategorised"
    filters: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    answer_spans: list[str] = field(default_factory=list)  # what answers the question directly
    shape: str = ""  # narrow | broad ("" = not said)
    aspect: str = ""  # amount | date | reason | who | progress | plan | work | field
    miss_kind: str = ""  # unanswerable near misses: place-other-topic, topic-other-place, detail-absent, …
    split: str = ""  # tune | report ("" = not assigned)


@dataclass
class GoldSet:
    path: Path
    items: list[GoldItem]  # questions
    commitments: list = field(default_factory=list)  # eval.track.CommitmentGold: commitment-tracking lines

    @property
    def folder(self) -> Path:
        return self.path.resolve().parent


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _where(err) -> str:
    out = ""
    for p in err.absolute_path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(object)"


def validate_line(obj: Any) -> list[str]:
    """Schema and consistency problems of one parsed line, each as 'field: message'."""
    errs: list[str] = []
    for e in sorted(_validator().iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        errs.append(_describe(e))
    if errs or not isinstance(obj, dict):
        return errs
    if "commitment" in obj:  # a commitment-tracking line (eval/track.py)
        from eval.track import consistency_problems

        return consistency_problems(obj)
    answerable = obj.get("answerable", True)
    if answerable and not obj["relevant"]:
        errs.append("relevant: empty, but the question is answerable (set \"answerable\": false for questions no reply covers)")
    if not answerable and obj["relevant"]:
        errs.append("relevant: lists replies, but \"answerable\" is false")
    f = obj.get("filters") or {}
    if f.get("year_from") and f.get("year_to") and f["year_from"] > f["year_to"]:
        errs.append(f"filters.year_from: {f['year_from']} is after year_to {f['year_to']}")
    return errs


def _describe(e) -> str:
    """'field: message'; for a bad reference, the most specific reason rather than jsonschema's 'oneOf' summary."""
    if e.validator == "oneOf" and e.context:
        if isinstance(e.instance, dict):  # the object form was meant: report what is wrong with it
            sub = sorted((c for c in e.context if c.validator != "type"), key=lambda c: c.validator == "anyOf")
            if sub:
                c = sub[0]
                msg = "needs \"id\", \"number\" + \"reply_date\", or \"path\"" if c.validator == "anyOf" else c.message
                return f"{_where(c)}: {msg}"
        return (f"{_where(e)}: a reference is a reply id string or an object with id / number + reply_date / path "
                f"(got {json.dumps(e.instance, ensure_ascii=False)})")
    return f"{_where(e)}: {e.message}"


def _ref(raw: Any) -> Ref:
    if isinstance(raw, str):
        return Ref(id=raw)
    from index.dates import parse_date

    num = raw.get("number")
    date = raw.get("reply_date")
    date = (parse_date(str(date)) or str(date)) if date else None
    return Ref(id=raw.get("id"), number=None if num is None else str(num), reply_date=date, path=raw.get("path"))


def parse_lines(lines: Iterable[str], name: str = "<gold>") -> list[GoldItem]:
    """The questions of a gold file (commitment lines are validated too, and left out)."""
    items, _ = parse_gold_lines(lines, name, need_questions=True)
    return items


def parse_gold_lines(lines: Iterable[str], name: str = "<gold>", need_questions: bool = False) -> tuple[list[GoldItem], list]:
    """(questions, commitment-tracking lines) of a gold file; every problem is reported at once."""
    from eval.track import parse_commitment

    items: list[GoldItem] = []
    commitments: list = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for no, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{name}:{no}: not valid JSON ({e.msg} at column {e.colno})")
            continue
        errs = validate_line(obj)
        if errs:
            problems.extend(f"{name}:{no}: {m}" for m in errs)
            continue
        if obj["id"] in seen:
            problems.append(f"{name}:{no}: id: {obj['id']!r} already used on line {seen[obj['id']]}")
            continue
        seen[obj["id"]] = no
        if "commitment" in obj:
            commitments.append(parse_commitment(obj, no))
            continue
        filters = dict(obj.get("filters") or {})
        if "number" in filters:
            filters["number"] = str(filters["number"])
        items.append(GoldItem(
            id=obj["id"], question=obj["question"], relevant=[_ref(r) for r in obj["relevant"]], line=no,
            spans=list(obj.get("spans", [])), must_include=list(obj.get("must_include", [])),
            answerable=bool(obj.get("answerable", True)), category=obj.get("category") or "uncategorised",
            filters=filters, history=[dict(h) for h in obj.get("history", [])],
            answer_spans=list(obj.get("answer_spans", [])), shape=obj.get("shape") or "",
            aspect=obj.get("aspect") or "", miss_kind=obj.get("miss_kind") or "", split=obj.get("split") or ""))
    if problems:
        raise GoldError(f"{len(problems)} problem(s) in {name}:\n  " + "\n  ".join(problems))
    if not items and (need_questions or not commitments):
        raise GoldError(f"{name}: no questions (expected one JSON object per line)")
    return items, commitments


def load_gold(path: str | Path) -> GoldSet:
    p = Path(path)
    if not p.is_file():
        raise GoldError(f"gold file {p} not found")
    text = p.read_text(encoding="utf-8-sig")
    items, commitments = parse_gold_lines(text.splitlines(), str(p))
    return GoldSet(p, items, commitments)


# -- resolving references ----------------------------------------------------------------------

def norm_number(n: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", n or ""))


def numbers_match(gold: str, have: str) -> bool:
    """'28' matches '28', '028', '２８' and '〔2023〕28号' (the last digit group); full forms compare whole."""
    g, h = norm_number(gold), norm_number(have)
    if not g or not h:
        return False
    if g == h:
        return True
    gd = [x.lstrip("0") or "0" for x in re.findall(r"\d+", g)]
    hd = [x.lstrip("0") or "0" for x in re.findall(r"\d+", h)]
    if not gd or not hd:
        return False
    return gd == hd or (len(gd) == 1 and gd[0] == hd[-1])


def split_source(source: str) -> tuple[str, str]:
    """'a/b.xlsx#row3' → ('a/b.xlsx', '#row3'); 'a/汇编.docx#letter2' → ('a/汇编.docx', '#letter2'); plain paths → (path, '')."""
    m = re.match(r"^(.*?)(#(?:row|letter)\d+)$", source or "")
    return (m.group(1), m.group(2)) if m else (source or "", "")


def _abs(p: str | Path) -> str:
    try:
        return str(Path(p).expanduser().resolve())
    except (OSError, RuntimeError):
        return str(p)


@dataclass
class ReplyKey:
    """What a retrieved or indexed reply is matched on."""

    id: str
    number: str = ""
    reply_date: str = ""
    source: str = ""


class Resolver:
    """Resolves gold references to reply ids of a catalogue (the index's replies, or what an API returned)."""

    def __init__(self, catalogue: Iterable[ReplyKey], base_dirs: Iterable[Path], trust_ids: bool = False) -> None:
        """trust_ids: take a reference's id as given even when the catalogue lacks it (an --api run only learns
        the replies it is shown)."""
        self.trust_ids = trust_ids
        self.keys = {k.id: k for k in catalogue}
        self.base_dirs = [Path(b) for b in base_dirs if b]
        self._by_source: dict[str, list[str]] = {}
        self._by_date: dict[str, list[ReplyKey]] = {}
        for k in list(self.keys.values()):
            self._index(k)

    def _index(self, k: ReplyKey) -> None:
        path, frag = split_source(k.source)
        if path:
            self._by_source.setdefault(_abs(path) + frag, []).append(k.id)
        if k.reply_date:
            self._by_date.setdefault(k.reply_date, []).append(k)

    def add(self, key: ReplyKey) -> None:
        if key.id not in self.keys:
            self.keys[key.id] = key
            self._index(key)

    def path_candidates(self, ref_path: str) -> list[str]:
        path, frag = split_source(ref_path)
        p = Path(path)
        bases = [Path()] if p.is_absolute() else self.base_dirs
        return [_abs(b / p) + frag for b in bases]

    def matches(self, ref: Ref, key: ReplyKey) -> bool:
        if ref.id and ref.id == key.id:
            return True
        if ref.number and ref.reply_date and key.reply_date == ref.reply_date and numbers_match(ref.number, key.number):
            return True
        if ref.path and key.source:
            path, frag = split_source(key.source)
            return (_abs(path) + frag) in self.path_candidates(ref.path)
        return False

    def resolve(self, ref: Ref) -> set[str]:
        """Reply ids of the catalogue that this reference names (empty: not in the catalogue)."""
        out: set[str] = set()
        if ref.id and ref.id in self.keys:
            out.add(ref.id)
        if ref.path:
            for cand in self.path_candidates(ref.path):
                out.update(self._by_source.get(cand, []))
        if ref.number and ref.reply_date:
            out.update(k.id for k in self._by_date.get(ref.reply_date, []) if numbers_match(ref.number, k.number))
        if not out and ref.id and self.trust_ids:
            out.add(ref.id)
        return out


def relevant_ids(item: GoldItem, resolver: Resolver) -> tuple[set[str], list[str]]:
    """(ids judged relevant, references that did not resolve). An unresolved reference still counts as
    one relevant reply (a placeholder id), so recall is not inflated by a gold mistake."""
    ids: set[str] = set()
    missing: list[str] = []
    for i, ref in enumerate(item.relevant):
        got = resolver.resolve(ref)
        if got:
            ids.update(got)
        else:
            missing.append(ref.label())
            ids.add(f"<unresolved:{item.id}:{i}>")
    return ids, missing
