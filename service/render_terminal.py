"""Answers in the terminal, rendered from the answer's fields (points, citations, related, filter_report, hints).

Two forms of the same layout:

* :func:`render_answer` gives rich renderables: headings and marks styled, passages wrapped to the terminal with
  one indent for every line of every paragraph, the sentences the points quote underlined;
* :func:`answer_plain` gives plain text for scripts (`dafu ask --plain`): no colours, no wrapping, the same
  grouping and indent.

Sources are grouped per reply: one line with number, title, proposer, units and date, then that reply's cited
passages, each under its ``[n]`` and heading path.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from index.records import letter_label

KIND_LABEL = {"done": "已开展的工作", "plan": "下一步打算"}
KIND_STYLE = {"done": "bold green", "plan": "bold blue"}
KIND_MARK = {"done": "已办", "plan": "计划"}
DIRECT_LABEL = "回答"
FIELD_LABEL = "依据（答复中写明的字段）"
QUOTE_INDENT = 6
NOT_FOUND = "未找到能直接回答这个问题的答复。"


def _num(c: dict[str, Any], year: str = "") -> str:
    return letter_label(c.get("number"), c.get("kind"), c.get("place") or "", year)  # the title follows it


def reply_line(c: dict[str, Any]) -> tuple[str, str]:
    """(title line, detail line) of a cited or listed reply."""
    title = f"{_num(c)}《{c.get('title') or '（无标题）'}》"
    co = "、".join(u for u in c.get("co_units") or [] if u)
    bits = [f"提出者：{c.get('proposer') or '—'}", f"主办：{c.get('lead_unit') or c.get('signer') or '—'}"]
    if co:
        bits.append(f"协办：{co}")
    bits.append(f"答复日期：{c.get('reply_date') or '—'}")
    return title, " ｜ ".join(bits)


def is_direct(p: dict[str, Any]) -> bool:
    """A point that answers the asked aspect itself (shown first, under 回答) or a field of the record."""
    return p.get("role") in ("direct", "field") or p.get("kind") == "field"


def related_heading(answer: dict[str, Any]) -> str:
    """Over the replies listed when there are no points: the counted replies, or the closest ones."""
    return "答复列表：" if not answer.get("no_answer") and count_lead(answer) else "以下答复可能相关："


def shown_related(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The related replies worth showing: those sharing some of the question's words (a letter that shares none
    is not "possibly related", whatever its rank); the counted replies of a listing, all of them."""
    rel = answer.get("related") or []
    if count_lead(answer) and not answer.get("points"):
        return rel
    return [r for r in rel if r.get("coverage") is None or r["coverage"] > 0]


def count_lead(answer: dict[str, Any]) -> str:
    """The sentence that opens a listing answer with no direct points ("共有3件答复谈到了电梯："), else ''."""
    lead = (answer.get("lead") or "").strip()
    pts = answer.get("points") or []
    if not lead or any(p.get("role") in ("direct", "field") for p in pts):
        return ""
    return lead


def field_lead(answer: dict[str, Any]) -> tuple[str, list[int]] | None:
    """A question about the record ("第28号提案是哪个部门主办的？") is answered by one sentence made from its
    fields (``lead``); the field lines it cites follow as evidence. (sentence, citation numbers) or None."""
    pts = answer.get("points") or []
    lead = (answer.get("lead") or "").strip()
    if not lead or not pts or not all(p.get("role") == "field" or p.get("kind") == "field" for p in pts):
        return None
    return lead, list(dict.fromkeys(n for p in pts for n in p.get("citations") or []))


def by_reply(answer: dict[str, Any]) -> bool:
    """Points listed reply by reply (several replies cited, or a 'which proposals did X answer' list) rather
    than done-then-plan."""
    return len({p.get("reply_id") for p in answer.get("points") or [] if not is_direct(p)}) > 1


def point_groups(answer: dict[str, Any]) -> list[tuple[str, str, list[tuple[int, dict[str, Any]]]]]:
    """[(group key, heading, [(number, point)])]: the direct answer first (回答), then by kind, or by reply when
    several replies are cited. Numbers follow the order shown."""
    cits = {c.get("n"): c for c in answer.get("citations") or []}
    pts = answer.get("points") or []
    listing = by_reply(answer)
    ordered = [p for p in pts if is_direct(p)] + [p for p in pts if not is_direct(p)]
    groups: list[tuple[str, str, list[tuple[int, dict[str, Any]]]]] = []
    fields = field_lead(answer) is not None
    for i, p in enumerate(ordered, 1):
        if fields:
            key, head = "field", FIELD_LABEL
        elif is_direct(p):
            key, head = "direct", DIRECT_LABEL
        elif listing:
            c = cits.get((p.get("citations") or [None])[0], {})
            key = p.get("reply_id") or c.get("reply_id") or ""
            head = f"{_num(c)}《{c.get('title') or '（无标题）'}》（{c.get('lead_unit') or '—'}，{c.get('reply_date') or '—'}）"
        else:
            key = p.get("kind") if p.get("kind") in KIND_LABEL else "done"
            head = KIND_LABEL[key]
        if not groups or groups[-1][0] != key:
            groups.append((key, head, []))
        groups[-1][2].append((i, p))
    return groups


def direct_label(answer: dict[str, Any], p: dict[str, Any]) -> str:
    """'第62号提案：' in front of a direct point when several replies are cited; '标题：' in front of the title line
    that opens an answer about a reply named with nothing else asked (else '')."""
    c = next((c for c in answer.get("citations") or [] if c.get("n") in (p.get("citations") or [])), None)
    if p.get("role") == "field" and c and p.get("text") == c.get("title") and field_lead(answer) is None:
        return "标题："
    if not by_reply(answer) or not c:
        return ""
    # two letters of one place (its replies of two years on the topic) are told apart by their year
    same = {x.get("reply_id") for x in answer.get("citations") or [] if (x.get("place") or "") == (c.get("place") or "")}
    year = (c.get("reply_date") or "")[:4]
    if c.get("place") and len(same) > 1 and year.isdigit():
        return f"{_num(c, year + '年')}："
    return f"{_num(c)}："


def not_found_line(answer: dict[str, Any]) -> str:
    """What the answer says is missing ('崇川区的答复中没有…方面的内容'), or the plain not-found sentence."""
    first = (answer.get("answer_markdown") or "").strip().split("\n")[0].strip()
    first = re.sub(r"\\([\\`*_<>\[\]])", r"\1", first)
    return first if first and not first.startswith(("-", "*", "筛选后没有答复", "答复通检索")) else NOT_FOUND


def source_groups(answer: dict[str, Any]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Citations grouped per reply, in order of first citation."""
    out: dict[str, list[dict[str, Any]]] = {}
    for c in answer.get("citations") or []:
        out.setdefault(c.get("reply_id") or "", []).append(c)
    return [(cs[0], cs) for cs in out.values()]


def _indent(r: RenderableType, n: int) -> Padding:
    """`r` with every wrapped line indented by `n` columns (and no trailing padding)."""
    return Padding(r, (0, 0, 0, n), expand=False)


def _paragraphs(passage: str) -> list[str]:
    return [p.strip(" \t\u3000") for p in (passage or "").split("\n") if p.strip(" \t\u3000")]


def _repeats_heading(c: dict[str, Any], para: str) -> bool:
    """A passage that opens with its own heading: the [n] line shows that heading already."""
    path = c.get("heading_path") or []
    return bool(path) and para.strip(" \t\u3000") == str(path[-1]).strip(" \t\u3000")


def _quoted_spans(c: dict[str, Any], points: Iterable[dict[str, Any]]) -> list[tuple[int, int]]:
    """Offsets (into the passage) of the point sentences quoted from it."""
    out = []
    s0, e0 = c.get("start") or 0, c.get("end") or 0
    for p in points:
        if c.get("n") in (p.get("citations") or []) and p.get("end") and s0 <= p.get("start", -1) and p["end"] <= e0:
            out.append((p["start"] - s0, p["end"] - s0))
    return out


def _filter_lines(answer: dict[str, Any]) -> list[str]:
    """'部门筛选：民政 → 海门区民政局、通州区民政局' per department, then the empty-result line, if any."""
    rep = answer.get("filter_report") or {}
    lines = [f"部门筛选：{ln}" for ln in (rep.get("message") or "").splitlines() if "→" in ln]
    return lines + [ln for ln in (rep.get("message") or "").splitlines() if ln.strip() and "→" not in ln]


def _bullet(title: str, detail: str) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column(overflow="fold")
    grid.add_row("•", Text.assemble((title, "bold"), "\n", (detail, "dim")))
    return grid


def render_answer(answer: dict[str, Any], show_question: bool = True) -> RenderableType:
    """The whole answer as one rich renderable."""
    parts: list[RenderableType] = []
    q, rq = answer.get("question") or "", answer.get("rewritten_question") or ""
    if show_question and q:
        parts.append(Text(q, style="bold"))
    if rq and q and rq.strip() != q.strip():
        parts.append(Text(f"检索问题：{rq}", style="dim"))
    for h in answer.get("hints") or []:
        parts.append(Text(f"提示：{h}", style="yellow"))
    for line in _filter_lines(answer):
        parts.append(Text(line, style="cyan" if "→" in line else "bold yellow"))
    if answer.get("no_answer") or not answer.get("points"):
        parts += [Text(""), Text(not_found_line(answer), style="bold yellow")]
        rel = shown_related(answer)
        if rel:
            parts.append(Text(related_heading(answer), style="bold"))
            for r in rel:
                title, detail = reply_line(r)
                parts.append(_indent(_bullet(title, detail), 2))
        return Group(*parts)
    fl = field_lead(answer)
    if fl:
        t = Text(fl[0])
        for n in fl[1]:
            t.append(f" [{n}]", style="bold red")
        parts += [Text(""), Text(DIRECT_LABEL, style="bold"), Padding(t, (0, 0, 0, 1), expand=False)]
    elif (head_line := count_lead(answer)):
        parts += [Text(""), Text(head_line, style="bold")]
    for key, head, items in point_groups(answer):
        style = "bold" if key in ("direct", "field") else KIND_STYLE.get(key, "bold magenta")
        parts += [Text(""), Text(head, style=style)]
        listing = key not in KIND_LABEL and key not in ("direct", "field")
        grid = Table.grid(padding=(0, 1))  # a hanging indent: long Chinese lines wrap under the text, not the number
        grid.add_column(justify="right", no_wrap=True, style="dim", min_width=len(str(len(answer["points"]))) + 1)
        grid.add_column(overflow="fold")
        for i, p in items:
            t = Text()
            if listing:
                t.append(f"（{KIND_MARK.get(p.get('kind'), '已办')}）", style=KIND_STYLE.get(p.get("kind"), ""))
            if key == "direct":
                t.append(direct_label(answer, p), style="bold")
            t.append(p.get("reading") or p.get("text") or "")
            for n in p.get("citations") or []:
                t.append(f" [{n}]", style="bold red")
            grid.add_row(f"{i}.", t)
        parts.append(Padding(grid, (0, 0, 0, 1), expand=False))
    parts += [Text(""), Text("来源", style="bold underline")]
    pts = answer.get("points") or []
    for c0, cs in source_groups(answer):
        title, detail = reply_line(c0)
        parts.append(Text(title, style="bold"))
        parts.append(_indent(Text(detail, style="dim"), 2))
        for c in cs:
            head = " › ".join(c.get("heading_path") or [])
            parts.append(_indent(Text.assemble((f"[{c.get('n')}]", "bold red"), (f" {head}" if head else "", "dim")), 2))
            passage = c.get("passage") or ""
            marks = _quoted_spans(c, pts)
            offset, first = 0, True
            for para in (passage.split("\n") if passage else []):
                stripped = para.strip(" \t\u3000")
                lead = len(para) - len(para.lstrip(" \t\u3000"))
                if stripped and first:
                    first = False
                    if _repeats_heading(c, stripped):  # shown on the [n] line above
                        offset += len(para) + 1
                        continue
                if stripped:
                    t = Text(stripped)
                    for s, e in marks:
                        a, b = max(s - offset - lead, 0), min(e - offset - lead, len(stripped))
                        if b > a:
                            t.stylize("underline", a, b)
                    parts.append(_indent(t, QUOTE_INDENT))
                offset += len(para) + 1
    rel = shown_related(answer)
    if rel:
        parts += [Text(""), Text("其他可能相关的答复", style="bold")]
        for r in rel:
            title, detail = reply_line(r)
            parts.append(_indent(_bullet(title, detail), 2))
    return Group(*parts)


def answer_plain(answer: dict[str, Any], show_question: bool = True) -> str:
    """The same layout as plain text: no styles and no wrapping (for scripts and pipes)."""
    lines: list[str] = []
    q, rq = answer.get("question") or "", answer.get("rewritten_question") or ""
    if show_question and q:
        lines.append(q)
    if rq and q and rq.strip() != q.strip():
        lines.append(f"检索问题：{rq}")
    lines += [f"提示：{h}" for h in answer.get("hints") or []]
    lines += _filter_lines(answer)
    if answer.get("no_answer") or not answer.get("points"):
        lines += ["", not_found_line(answer)]
        rel = shown_related(answer)
        if rel:
            lines.append(related_heading(answer))
            for r in rel:
                title, detail = reply_line(r)
                lines += [f"  - {title}", f"    {detail}"]
        return "\n".join(lines)
    fl = field_lead(answer)
    if fl:
        lines += ["", DIRECT_LABEL, fl[0] + "".join(f" [{n}]" for n in fl[1])]
    elif (head_line := count_lead(answer)):
        lines += ["", head_line]
    for key, head, items in point_groups(answer):
        lines += ["", head]
        listing = key not in KIND_LABEL and key not in ("direct", "field")
        for i, p in items:
            mark = f"（{KIND_MARK.get(p.get('kind'), '已办')}）" if listing else direct_label(answer, p) if key == "direct" else ""
            lines.append(f"{i:>2}. {mark}{p.get('text') or ''}" + "".join(f" [{n}]" for n in p.get("citations") or []))
    lines += ["", "来源"]
    for c0, cs in source_groups(answer):
        title, detail = reply_line(c0)
        lines += [title, f"  {detail}"]
        for c in cs:
            head = " › ".join(c.get("heading_path") or [])
            lines.append(f"  [{c.get('n')}]" + (f" {head}" if head else ""))
            paras = _paragraphs(c.get("passage") or "")
            if paras and _repeats_heading(c, paras[0]):
                paras = paras[1:]
            lines += [" " * QUOTE_INDENT + para for para in paras]
    rel = shown_related(answer)
    if rel:
        lines += ["", "其他可能相关的答复"]
        for r in rel:
            title, detail = reply_line(r)
            lines.append(f"  - {title}  {detail}")
    return "\n".join(lines)
