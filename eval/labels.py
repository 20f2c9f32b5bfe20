"""How well are reply sentences labelled done / plan / courtesy / heading? Scored against a hand-labelled
sample (`dafu eval labels GOLD --corpus DIR`).

The gold file is JSON Lines, one sentence per line: ``{"path": "corpus/007_….txt", "text": "…", "label":
"plan", "start": 1234}`` — `path` relative to the gold file's folder (or to --corpus), `text` the exact
sentence as the chunker splits it, `label` the reader's judgement. `sample` writes such a file with the
labels left empty for a person to fill in (sentences of the reply letters only, in reading order, with
the heading they sit under as context).
"""
from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

from index.errors import DafuError

LABELS = ("done", "plan", "courtesy", "heading")


def reply_sentences(path: Path) -> list[dict[str, Any]]:
    """The reply-letter sentences of one file with the labels the chunker gives them."""
    from index.chunking import _sentences
    from index.loader import load_paths

    rep = load_paths([path])
    out = []
    for r in rep.replies:
        rs, re_ = r.reply_span
        for s in _sentences(r, "reply", rs, re_):
            out.append({"start": s.start, "end": s.end, "text": r.text[s.start:s.end], "label": s.label,
                        "heading": " > ".join(s.path)})
    return out


def sample(corpus: Path, files: list[str] | None = None, n_files: int = 10, seed: int = 7) -> list[dict[str, Any]]:
    """All reply sentences of `files` (names under `corpus`) or of `n_files` files drawn with `seed`,
    with "label" empty (to be filled in by hand)."""
    all_files = sorted(p for p in Path(corpus).iterdir() if p.is_file() and not p.name.startswith("."))
    if files:
        chosen = [Path(corpus) / f for f in files]
    else:
        chosen = sorted(random.Random(seed).sample(all_files, min(n_files, len(all_files))))
    rows = []
    for p in chosen:
        for s in reply_sentences(p):
            rows.append({"path": f"corpus/{p.name}", "start": s["start"], "text": s["text"], "heading": s["heading"],
                         "label": ""})
    return rows


def load(path: Path) -> list[dict[str, Any]]:
    rows, problems = [], []
    for no, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("//"):
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{path}:{no}: not JSON ({e.msg})")
            continue
        if d.get("label") not in LABELS:
            problems.append(f"{path}:{no}: label {d.get('label')!r}, expected one of {', '.join(LABELS)}")
            continue
        rows.append(d)
    if problems:
        raise DafuError(f"{len(problems)} problem(s) in {path}:\n  " + "\n  ".join(problems[:30]))
    return rows


def score(gold_path: Path, corpus: Path | None = None) -> dict[str, Any]:
    """Precision, recall and F1 of each label against the hand labels, and the confusion counts."""
    gold = load(gold_path)
    bases = [Path(gold_path).resolve().parent] + ([Path(corpus).resolve().parent, Path(corpus).resolve()] if corpus else [])
    bases.append(Path.cwd())  # paths written from the repository root (tests/fixtures/…)
    predicted: dict[tuple[str, str, int], str] = {}
    by_text: dict[tuple[str, str], str] = {}
    missing_files: set[str] = set()
    for rel in sorted({g["path"] for g in gold}):
        p = next((b / rel for b in bases if (b / rel).is_file()), None)
        if p is None:
            p = next((b / Path(rel).name for b in bases if (b / Path(rel).name).is_file()), None)
        if p is None:
            missing_files.add(rel)
            continue
        for s in reply_sentences(p):
            predicted[(rel, s["text"], s["start"])] = s["label"]
            by_text.setdefault((rel, s["text"]), s["label"])
    if missing_files:
        raise DafuError(f"files named in {gold_path} not found: {', '.join(sorted(missing_files))}")
    pairs, unmatched = [], []
    for g in gold:
        pred = predicted.get((g["path"], g["text"], g.get("start", -1))) or by_text.get((g["path"], g["text"]))
        if pred is None:
            unmatched.append(g["text"][:30])
            continue
        pairs.append((g["label"], pred))
    conf = Counter(pairs)
    per = {}
    for lab in LABELS:
        tp = conf[(lab, lab)]
        fp = sum(v for (g, p), v in conf.items() if p == lab and g != lab)
        fn = sum(v for (g, p), v in conf.items() if g == lab and p != lab)
        prec = tp / (tp + fp) if tp + fp else None
        rec = tp / (tp + fn) if tp + fn else None
        f1 = 2 * prec * rec / (prec + rec) if prec and rec else None
        per[lab] = {"n": tp + fn, "precision": prec, "recall": rec, "f1": f1}
    return {"sentences": len(pairs), "unmatched": unmatched, "labels": per,
            "confusion": {f"{g}->{p}": v for (g, p), v in sorted(conf.items())},
            "errors": [{"gold": g["label"], "text": g["text"]} for g in gold
                       if (pr := predicted.get((g["path"], g["text"], g.get("start", -1))) or by_text.get((g["path"], g["text"])))
                       is not None and pr != g["label"]]}
