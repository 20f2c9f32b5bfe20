"""Commitment-tracking gold lines and their metrics: link precision / recall and status accuracy.

A gold line with a ``commitment`` key (instead of ``question``) names one promise of a reply and what later
replies did with it::

    {"id": "k04", "commitment": {"path": "corpus/t02….txt", "text": "2022年计划新增老年助餐点20个"},
     "evidence": [{"path": "corpus/t03….txt", "text": "2022年全区新建成老年助餐点22个", "kind": "report"}],
     "status": "reported", "fulfilment": "met", "category": "kept", "as_of": "2025-06-30"}

* the gold commitment matches the predicted commitment of the named reply whose sentence contains ``text``;
* a **link** is (commitment, later reply). Predicted links are those of every predicted commitment; links of a
  predicted commitment that matches no gold line count as wrong (the gold is taken to list every commitment of
  its corpus; ``unmatched_predicted`` says how many there were). ``link_precision`` = right links / predicted
  links, ``link_recall`` = right links / gold links (micro averages over links);
* ``status_accuracy``: share of gold commitments whose predicted status equals the gold one, and, for
  ``reported``, whose fulfilment (met / partly / unclear) does too. A gold commitment that was not extracted
  counts as wrong;
* ``evidence_passage_recall``: of the right links with a gold ``text``, share where a predicted evidence passage
  of that reply contains it.

Every figure is also given per **split**: a fixed half of the ids (``split`` on the line, else crc32(id) is
even → ``tune``, odd → ``report``). Thresholds are tuned on ``tune`` only; ``report`` is the honest figure. Lines
may set ``"split": "fresh"``: written after the parameters were fixed, never looked at while developing.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Iterable

from eval.gold import Ref, ReplyKey, Resolver, _ref
from eval.metrics import norm_text

TRACK_METRICS = ("link_precision", "link_recall", "status_accuracy", "commitment_recall", "evidence_passage_recall")
SPLITS = ("tune", "report")  # as the question lines of eval/dev/gold.jsonl
ALL_SPLITS = SPLITS + ("fresh",)  # fresh: set by hand on lines written after the parameters were fixed


@dataclass
class EvidenceGold:
    ref: Ref
    text: str = ""
    kind: str = "report"


@dataclass
class CommitmentGold:
    id: str
    ref: Ref
    text: str
    evidence: list[EvidenceGold]
    status: str
    fulfilment: str | None = None
    category: str = "uncategorised"
    as_of: str | None = None
    split: str = "tune"
    line: int = 0
    notes: str = ""


def split_of(gold_id: str) -> str:
    """The fixed half an id belongs to: crc32 even → tune, odd → report."""
    return SPLITS[zlib.crc32(gold_id.encode("utf-8")) % 2]


def parse_commitment(obj: dict[str, Any], line: int) -> CommitmentGold:
    """A schema-valid commitment line (eval/schema/gold.schema.json) as a record."""
    from index.dates import parse_date

    c = obj["commitment"]
    as_of = obj.get("as_of")
    return CommitmentGold(
        id=obj["id"], ref=_ref(c), text=c.get("text", ""),
        evidence=[EvidenceGold(_ref(e), e.get("text", ""), e.get("kind", "report")) for e in obj.get("evidence", [])],
        status=obj["status"], fulfilment=obj.get("fulfilment"), category=obj.get("category") or "uncategorised",
        as_of=(parse_date(as_of) or as_of) if as_of else None, split=obj.get("split") or split_of(obj["id"]),
        line=line, notes=obj.get("notes", ""))


def consistency_problems(obj: dict[str, Any]) -> list[str]:
    """What the schema cannot say: evidence and status must agree."""
    errs = []
    st, ev = obj.get("status"), obj.get("evidence") or []
    kinds = {e.get("kind", "report") for e in ev if isinstance(e, dict)}
    if st == "reported" and "report" not in kinds:
        errs.append("evidence: status is \"reported\" but no evidence has kind \"report\"")
    if st == "in_progress" and (not ev or "report" in kinds):
        errs.append("evidence: status \"in_progress\" needs restated evidence and no report")
    if st in ("not_reported", "pending") and ev:
        errs.append(f"evidence: status \"{st}\" must list no evidence")
    if st == "reported" and not obj.get("fulfilment"):
        errs.append("fulfilment: required when status is \"reported\" (met, partly or unclear)")
    if st != "reported" and obj.get("fulfilment"):
        errs.append("fulfilment: only for status \"reported\"")
    return errs


# -- scoring -------------------------------------------------------------------------------------
def _contains(haystack: str, needle: str) -> bool:
    return bool(needle) and norm_text(needle) in norm_text(haystack)


def _match(gold: CommitmentGold, predicted: list[dict[str, Any]], resolver: Resolver) -> dict[str, Any] | None:
    ids = resolver.resolve(gold.ref)
    cands = [p for p in predicted if p["source"]["reply_id"] in ids and _contains(p["text"], gold.text)]
    return min(cands, key=lambda p: len(p["text"])) if cands else None


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _summary(rows: Iterable[dict[str, Any]], extra_fp: int = 0) -> dict[str, Any]:
    rows = list(rows)
    tp = sum(r["tp"] for r in rows)
    pred = sum(r["predicted_links"] for r in rows) + extra_fp
    gold = sum(r["gold_links"] for r in rows)
    ph = sum(r["passage_hits"] for r in rows)
    pt = sum(r["passage_total"] for r in rows)
    return {
        "n": len(rows),
        "link_precision": _ratio(tp, pred), "link_recall": _ratio(tp, gold),
        "status_accuracy": _ratio(sum(r["status_ok"] for r in rows), len(rows)),
        "commitment_recall": _ratio(sum(r["matched"] is not None for r in rows), len(rows)),
        "evidence_passage_recall": _ratio(ph, pt),
        "links": {"right": tp, "predicted": pred, "gold": gold},
    }


def score_tracking(golds: list[CommitmentGold], predicted: dict[str, list[dict[str, Any]]],
                   resolver: Resolver, default_as_of: str) -> dict[str, Any]:
    """`predicted`: as_of date → every predicted commitment (Tracked.to_dict shape) as of that date."""
    rows: list[dict[str, Any]] = []
    matched_ids: set[str] = set()
    for g in golds:
        preds = predicted[g.as_of or default_as_of]
        p = _match(g, preds, resolver)
        gold_links: dict[str, list[EvidenceGold]] = {}
        unresolved = [] if resolver.resolve(g.ref) else [g.ref.label()]
        for i, e in enumerate(g.evidence):
            got = resolver.resolve(e.ref)
            if not got:
                unresolved.append(e.ref.label())
                got = {f"<unresolved:{g.id}:{i}>"}
            for rid in got:
                gold_links.setdefault(rid, []).append(e)
        pred_links: dict[str, list[dict[str, Any]]] = {}
        if p is not None:
            matched_ids.add(p["id"])
            for e in p["evidence"]:
                pred_links.setdefault(e["reply_id"], []).append(e)
        right = set(gold_links) & set(pred_links)
        ph = pt = 0
        for rid in right:
            for ge in gold_links[rid]:
                if ge.text:
                    pt += 1
                    ph += any(_contains(pe["text"], ge.text) for pe in pred_links[rid])
        status = p["status"] if p else None
        fulfilment = p.get("fulfilment") if p else None
        ok = p is not None and status == g.status and (g.status != "reported" or fulfilment == g.fulfilment)
        rows.append({
            "id": g.id, "line": g.line, "split": g.split, "category": g.category, "commitment": g.text,
            "matched": p["id"] if p else None, "predicted_text": p["text"] if p else None,
            "gold_status": g.status, "gold_fulfilment": g.fulfilment, "status": status, "fulfilment": fulfilment,
            "status_ok": ok, "gold_replies": sorted(gold_links), "predicted_replies": sorted(pred_links),
            "missed_links": sorted(set(gold_links) - right), "wrong_links": sorted(set(pred_links) - right),
            "tp": len(right), "predicted_links": len(pred_links), "gold_links": len(gold_links),
            "passage_hits": ph, "passage_total": pt, "unresolved": unresolved, "notes": g.notes,
        })
    # predicted commitments no gold line names: their links are wrong
    as_of = max((g.as_of or default_as_of for g in golds), default=default_as_of)
    unmatched = [p for p in predicted[as_of] if p["id"] not in matched_ids]
    extra_fp = sum(len({e["reply_id"] for e in p["evidence"]}) for p in unmatched)
    overall = _summary(rows, extra_fp)
    by_split = {s: _summary(r for r in rows if r["split"] == s) for s in ALL_SPLITS if any(r["split"] == s for r in rows)}
    by_cat = {c: _summary(r for r in rows if r["category"] == c) for c in sorted({r["category"] for r in rows})}
    metrics = {k: overall[k] for k in TRACK_METRICS}
    for s, v in by_split.items():
        metrics.update({f"{k}.{s}": v[k] for k in ("link_precision", "link_recall", "status_accuracy")})
    return {
        "metrics": metrics, "overall": overall, "by_split": by_split, "by_category": by_cat,
        "unmatched_predicted": [{"id": p["id"], "text": p["text"], "evidence": [e["reply_id"] for e in p["evidence"]]}
                                for p in unmatched],
        "commitments": rows,
    }


def evaluate_tracking(golds: list[CommitmentGold], backend, resolver: Resolver) -> dict[str, Any]:
    """Ask the backend for every commitment as of each gold `as_of` and score them."""
    import datetime as _dt

    default = _dt.date.today().isoformat()
    dates = sorted({g.as_of or default for g in golds})
    predicted = {d: backend.track_all(d) for d in dates}
    for preds in predicted.values():  # an --api run learns reply ids from what the service returns
        for p in preds:
            for key in [p["source"]] + list(p["evidence"]):
                if key.get("reply_id"):
                    resolver.add(ReplyKey(key["reply_id"], str(key.get("number", "")), key.get("reply_date", "")))
    return score_tracking(golds, predicted, resolver, default)


def is_track_metric(name: str) -> bool:
    base = name.split(".")[0]
    return base in TRACK_METRICS and (name == base or name.split(".", 1)[1] in ALL_SPLITS)


def table(tracking: dict[str, Any]) -> list[tuple]:
    """(metric, all, then one value per split present: tune, report[, fresh])."""
    o, sp = tracking["overall"], tracking["by_split"]
    splits = [s for s in ALL_SPLITS if s in sp]
    return [(k, o.get(k), *[sp[s].get(k) for s in splits]) for k in TRACK_METRICS]


def table_splits(tracking: dict[str, Any]) -> list[str]:
    return [s for s in ALL_SPLITS if s in tracking["by_split"]]
