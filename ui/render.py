"""Pure HTML renderers for the web chat. Every piece of document text goes through :func:`esc`.

Highlighting works on offsets into ``reply["text"]`` (``text[:start]``, ``<mark>text[start:end]</mark>``,
``text[end:]``, each part escaped), never by searching for or injecting markup from the document.

Clickable elements carry ``data-reply`` (and, for citation marks, ``data-start``/``data-end`` for the
``<mark>`` and ``data-cs``/``data-ce`` for the surrounding cited passage); the page script in
:mod:`ui.assets` turns a click on them into a Python callback that renders :func:`render_reply`.
"""
from __future__ import annotations

import html
from typing import Any, Iterable

from service.render_terminal import (DIRECT_LABEL, count_lead, direct_label, field_lead, not_found_line, point_groups,
                                     shown_related)
from index.records import number_label

KIND_LABEL = {"done": "已开展的工作", "plan": "下一步打算"}
KIND_BADGE = {"done": "已办", "plan": "计划"}


def esc(value: Any) -> str:
    """HTML-escape any value (None -> ""), quotes included, so it is safe in text and in attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def _clamp(text: str, start: Any, end: Any) -> tuple[int, int] | None:
    try:
        s, e = int(start), int(end)
    except (TypeError, ValueError):
        return None
    s, e = max(0, min(s, len(text))), max(0, min(e, len(text)))
    return (s, e) if e > s else None


def highlight_by_offsets(text: str, start: Any = None, end: Any = None,
                         context: tuple[Any, Any] | None = None) -> str:
    """Escaped `text` with ``text[start:end]`` inside ``<mark>``; optionally the cited passage
    ``text[context[0]:context[1]]`` (which contains the mark) inside ``<span class="ctx">``.

    Offsets outside the text are clamped; an empty or invalid span gives the escaped text with no mark.
    """
    text = text or ""
    span = _clamp(text, start, end)
    if span is None:
        return esc(text)
    s, e = span
    ctx = _clamp(text, *context) if context else None
    if ctx is None or not (ctx[0] <= s and e <= ctx[1]):
        return f'{esc(text[:s])}<mark id="dafu-mark">{esc(text[s:e])}</mark>{esc(text[e:])}'
    cs, ce = ctx
    return (f'{esc(text[:cs])}<span class="ctx">{esc(text[cs:s])}<mark id="dafu-mark">{esc(text[s:e])}</mark>'
            f'{esc(text[e:ce])}</span>{esc(text[ce:])}')


def _attrs(**kv: Any) -> str:
    return " ".join(f'data-{k}="{esc(v)}"' for k, v in kv.items() if v is not None and v != "")


def cite_mark(n: Any, reply_id: str, start: Any = None, end: Any = None, cs: Any = None, ce: Any = None,
              title: str = "") -> str:
    """A clickable citation mark ``[n]`` that opens `reply_id` with ``text[start:end]`` highlighted."""
    tip = f' title="{esc(title)}"' if title else ""
    return (f'<a class="cite" href="#" role="button" {_attrs(reply=reply_id, start=start, end=end, cs=cs, ce=ce, n=n)}'
            f'{tip}>[{esc(n)}]</a>')


def _units(c: dict[str, Any]) -> str:
    lead = c.get("lead_unit") or "—"
    co = "、".join(u for u in (c.get("co_units") or []) if u)
    return f"主办：{lead}" + (f"；协办：{co}" if co else "")


def _num(c: dict[str, Any]) -> str:
    return f"{c.get('place') or ''}{number_label(c.get('number'))}{c.get('kind') or ''}"


def answer_plain_text(answer: dict[str, Any]) -> str:
    """The answer with its citations as plain text (what the copy button copies)."""
    q = answer.get("rewritten_question") or answer.get("question") or ""
    lines = [q, ""] if q else []
    if answer.get("no_answer"):
        lines.append(answer.get("answer_markdown") or "未找到能直接回答这个问题的答复。")
        return "\n".join(lines)
    fl = field_lead(answer)
    if fl:
        lines += [f"{DIRECT_LABEL}：", fl[0] + "".join(f"[{n}]" for n in fl[1]), ""]
    current = None
    for i, p in enumerate(answer.get("points") or [], 1):
        if p.get("kind") != current:
            current = p.get("kind")
            lines.append(KIND_LABEL.get(current or "", "依据" if current == "field" else "要点") + "：")
        lines.append(f"{i}. {p.get('text', '')}" + "".join(f"[{n}]" for n in p.get("citations") or []))
    cits = answer.get("citations") or []
    if cits:
        lines += ["", "来源："]
        for c in cits:
            lines.append(f"[{c.get('n')}] {_num(c)}《{c.get('title') or '（无标题）'}》 提出者：{c.get('proposer') or '—'} "
                         f"{_units(c)} 答复日期：{c.get('reply_date') or '—'}")
            lines.append(f"    “{(c.get('passage') or '').strip()}”")
    return "\n".join(lines)


def _point_marks(p: dict[str, Any], cits: dict[int, dict[str, Any]]) -> str:
    marks = []
    for n in p.get("citations") or []:
        c = cits.get(n, {})
        rid = p.get("reply_id") or c.get("reply_id") or ""
        if p.get("reply_id") and p.get("end"):  # highlight the point's own sentence inside the cited passage
            start, end = p.get("start"), p.get("end")
        else:
            start, end = c.get("start"), c.get("end")
        tip = f"{_num(c)}《{c.get('title', '')}》" if c else ""
        marks.append(cite_mark(n, rid, start, end, c.get("start"), c.get("end"), tip))
    return "".join(marks)


def render_related(related: Iterable[dict[str, Any]], heading: str = "可能相关的答复") -> str:
    items = []
    for r in related or []:
        rid = r.get("id") or r.get("reply_id") or ""
        items.append(f'<li><a class="open-reply" href="#" role="button" {_attrs(reply=rid)}>{esc(_num(r))}'
                     f'《{esc(r.get("title") or "（无标题）")}》</a><span class="meta"> {esc(r.get("lead_unit") or r.get("signer") or "—")}'
                     f' · {esc(r.get("reply_date") or "—")}</span></li>')
    if not items:
        return ""
    return f'<div class="related"><div class="related-h">{esc(heading)}</div><ul>{"".join(items)}</ul></div>'


def render_answer_html(answer: dict[str, Any], pending: bool = False) -> str:
    """One answer: points grouped into 已开展的工作 / 下一步打算, each ending with its citation marks;
    or, when ``no_answer``, a not-found notice with the closest replies offered as possibly related."""
    q, rq = answer.get("question") or "", answer.get("rewritten_question") or ""
    related = shown_related(answer)
    parts: list[str] = []
    if rq and q and rq.strip() != q.strip():
        parts.append(f'<div class="rewritten">检索问题：{esc(rq)}</div>')
    if answer.get("error"):
        parts.append(f'<div class="error-box">出错了：{esc(answer["error"])}</div>')
    elif answer.get("no_answer"):
        parts.append(f'<div class="notfound"><div class="notfound-h">{esc(not_found_line(answer))}</div>'
                     f'{_hints(answer)}{_emptied_by(answer)}'
                     + ('<div class="notfound-t">可以换个说法、放宽筛选条件，或查看下面可能相关的答复。</div>'
                        if related else '<div class="notfound-t">可以换个说法，或放宽筛选条件。</div>')
                     + f'{render_related(related)}</div>')
    else:
        parts.append(_hints(answer))
        cits = {c.get("n"): c for c in answer.get("citations") or []}
        groups = point_groups(answer)  # the direct answer (回答) first; then by kind, or by reply when several
        fl = field_lead(answer)
        if fl:  # a question about the record: one sentence from its fields (a line per letter when a number names
            # several), the field lines below as evidence
            marks = _point_marks({"citations": fl[1]}, cits)
            parts.append(f'<div class="group direct"><div class="group-h direct">{DIRECT_LABEL}</div>'
                         f'<ul class="points"><li class="point direct"><span class="ptext">{esc(fl[0]).replace(chr(10), "<br>")}</span>{marks}</li></ul></div>')
        elif cl := count_lead(answer):  # a count of replies: "共有3件答复谈到了加装电梯："
            parts.append(f'<div class="group direct"><div class="group-h direct">{esc(cl)}</div></div>')
        for key, head, items in groups:
            lis = []
            for _, p in items:
                kind = p.get("kind") if p.get("kind") in KIND_LABEL else "done"
                badge = (f'<span class="src-tag">{esc(direct_label(answer, p).rstrip("："))}</span>'
                         if key == "direct" and direct_label(answer, p) else
                         "" if key in ("direct", "field") else f'<span class="badge {kind}">{KIND_BADGE[kind]}</span>')
                lis.append(f'<li class="point {"direct" if key == "direct" else kind}">{badge}'
                           f'<span class="ptext">{esc(p.get("reading") or p.get("text"))}</span>{_point_marks(p, cits)}</li>')
            cls = key if key in ("direct", "field", *KIND_LABEL) else "reply"
            parts.append(f'<div class="group {cls}"><div class="group-h {cls}">{esc(head)}</div>'
                         f'<ul class="points">{"".join(lis)}</ul></div>')
        if not groups and pending:
            parts.append('<div class="thinking">正在检索答复…</div>')
        if not pending and related:
            counted = bool(count_lead(answer)) and not answer.get("points")  # the counted replies themselves
            parts.append(render_related(related, "答复列表" if counted else "其他可能相关的答复"))
    if pending:
        parts.append('<div class="streaming">生成中…</div>')
    elif not answer.get("error"):
        aid = esc(answer.get("answer_id"))
        parts.append(f'<div class="actions"><button class="copy-btn" type="button" data-answer="{aid}">复制答案和出处</button>'
                     f'<textarea class="plain" readonly hidden>{esc(answer_plain_text(answer))}</textarea></div>')
    cls = "answer notfound-answer" if answer.get("no_answer") else "answer"
    return f'<div class="{cls}" data-answer="{esc(answer.get("answer_id"))}">{"".join(parts)}</div>'


def _hints(answer: dict[str, Any]) -> str:
    return "".join(f'<div class="hint">{esc(h)}</div>' for h in answer.get("hints") or [])


def _emptied_by(answer: dict[str, Any]) -> str:
    """Which filter emptied the result, and a button that asks again without it."""
    rep = answer.get("filter_report") or {}
    empty = rep.get("empty")
    if not empty:
        return ""
    line = (rep.get("message") or "").splitlines()[-1]
    label = "去掉全部筛选条件重新提问" if empty.get("filter") == "all" else f"去掉「{empty.get('label', '')}」重新提问"
    return (f'<div class="emptied">{esc(line)}</div><button class="drop-filter" type="button" '
            f'data-drop="{esc(",".join(empty.get("drop") or []))}" data-q="{esc(answer.get("question"))}">{esc(label)}</button>')


WELCOME = ('<div class="welcome"><div class="welcome-h">您好，我是答复通。</div>'
           '<div>请用中文提问政协提案、人大建议的办理答复情况，例如某部门做了哪些工作、下一步有什么打算。'
           '每条要点后的 <span class="cite-demo">[1]</span> 可点击，查看答复原文中的出处。</div></div>')


def render_conversation(turns: list[dict[str, Any]]) -> str:
    """The whole chat: each turn is {"question", "answer": dict, "pending": bool}."""
    if not turns:
        return f'<div class="chat">{WELCOME}</div>'
    out = []
    for t in turns:
        out.append(f'<div class="turn"><div class="q"><span class="q-bubble">{esc(t.get("question"))}</span></div>'
                   f'{render_answer_html(t.get("answer") or {}, bool(t.get("pending")))}</div>')
    return f'<div class="chat">{"".join(out)}</div>'


def render_sources(answer: dict[str, Any] | None) -> str:
    """One card per cited reply: number, title, proposer, 主办/协办, reply date, and its cited passages."""
    cits = (answer or {}).get("citations") or []
    if not cits:
        return '<div class="sources empty">回答的出处会显示在这里。</div>'
    by_reply: dict[str, list[dict[str, Any]]] = {}
    for c in cits:
        by_reply.setdefault(c.get("reply_id") or "", []).append(c)
    cards = []
    for rid, cs in by_reply.items():
        c0 = cs[0]
        passages = "".join(
            f'<li><a class="src-passage" href="#" role="button" {_attrs(reply=rid, start=c.get("start"), end=c.get("end"), n=c.get("n"))}>'
            f'<span class="n">[{esc(c.get("n"))}]</span> {esc(" › ".join(c.get("heading_path") or []) or _snippet(c.get("passage")))}</a></li>'
            for c in cs)
        cards.append(
            f'<div class="src-card"><a class="src-title" href="#" role="button" {_attrs(reply=rid, start=c0.get("start"), end=c0.get("end"), n=c0.get("n"))}>'
            f'<span class="num">{esc(_num(c0))}</span>《{esc(c0.get("title") or "（无标题）")}》</a>'
            f'<div class="src-meta">{_meta_line(c0)}</div>'
            f'<ul class="src-passages">{passages}</ul></div>')
    return f'<div class="sources"><div class="panel-h">出处（{len(by_reply)} 件答复）</div>{"".join(cards)}</div>'


def _snippet(s: Any, n: int = 28) -> str:
    s = " ".join(str(s or "").split())
    return s if len(s) <= n else s[:n] + "…"


REPLY_EMPTY = "点击回答中的 [n] 或出处，可在此查看答复全文。"
BROWSE_EMPTY = "点击左侧列表中的一件答复，可在此阅读全文。"


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _span(reply: dict[str, Any], key: str, n: int) -> tuple[int, int] | None:
    try:
        s, e = (int(x) for x in (reply.get(key) or (0, 0)))
    except (TypeError, ValueError):
        return None
    return (max(0, s), min(n, e)) if e > s else None


def render_reply(reply: dict[str, Any] | None, start: Any = None, end: Any = None,
                 context: tuple[Any, Any] | None = None, *, empty: str = REPLY_EMPTY, back: str = "返回回答",
                 auto: bool = False) -> str:
    """A reply: the header fields, then the letter's body (``text[reply_span]``, not the labelled file around it)
    with ``text[start:end]`` in ``<mark>`` (escaped, by offsets); the proposal text, when the file has one, folded
    away under 建议/提案原文. `back`: the label of the button that closes the viewer where it covers the page
    (phones); `auto`: opened by the chat itself (following the latest answer), not by a tap."""
    if not reply:
        return f'<div class="reply-view empty">{esc(empty)}</div>'
    if reply.get("error"):
        return f'<div class="reply-view"><div class="error-box">无法打开答复：{esc(reply["error"])}</div></div>'
    text = reply.get("text") or ""
    body = _span(reply, "reply_span", len(text)) or (0, len(text))
    s_, e_ = _clamp(text, start, end) or (None, None)
    if s_ is not None and not (body[0] <= s_ and e_ <= body[1]):
        body = (0, len(text))  # a mark outside the letter's body: show the whole file rather than lose it
    raw = text[body[0]:body[1]]
    letter = raw.strip()
    base = body[0] + len(raw) - len(raw.lstrip())  # offset of letter[0] in text
    cs, ce = (_int(x) for x in context) if context else (None, None)
    hl = highlight_by_offsets(letter, None if s_ is None else s_ - base, None if e_ is None else e_ - base,
                              (cs - base, ce - base) if cs is not None and ce is not None else None)
    prop = _span(reply, "proposal_span", len(text))
    proposal = ""
    if prop and (prop[1] <= body[0] or prop[0] >= body[1]):
        kind = reply.get("kind") or "提案/建议"
        proposal = (f'<details class="proposal"><summary>{esc(kind)}原文</summary>'
                    f'<div class="proposal-text">{esc(text[prop[0]:prop[1]].strip())}</div></details>')
    signer = f'<span class="m"><span class="k">签发</span>{esc(reply["signer"])}</span>' if reply.get("signer") else ""
    return (f'<div class="reply-view" data-reply="{esc(reply.get("id"))}" data-auto="{int(bool(auto))}">'
            f'<div class="reply-top"><button class="back-btn" type="button">‹ {esc(back)}</button>'
            f'<div class="panel-h">答复全文</div></div>'
            f'<div class="reply-title"><span class="num">{esc(_num(reply))}</span>《{esc(reply.get("title") or "（无标题）")}》</div>'
            f'<div class="reply-meta">{_meta_line(reply)}{signer}</div>{proposal}<div class="reply-text">{hl}</div></div>')


def _meta_line(r: dict[str, Any]) -> str:
    """提出者 · 主办 · 协办 · 答复日期 as labelled inline items (labels are ours; values escaped)."""
    co = "、".join(u for u in (r.get("co_units_as_written") or r.get("co_units") or []) if u)
    items = [("提出者", r.get("proposer") or "—"), ("主办", r.get("lead_unit_as_written") or r.get("lead_unit") or "—"), ("协办", co),
             ("答复日期", r.get("reply_date") or "—")]
    return "".join(f'<span class="m"><span class="k">{k}</span>{esc(v)}</span>' for k, v in items if v)


def render_reply_list(result: dict[str, Any]) -> str:
    """A page of GET /api/replies as a clickable list."""
    items = result.get("items") or []
    total = result.get("total", len(items))
    page, size = result.get("page", 1) or 1, result.get("page_size", 20) or 20
    pages = max(1, -(-int(total) // int(size)))
    if not items:
        return '<div class="reply-list empty">没有符合条件的答复。</div>'
    rows = "".join(
        f'<li><a class="open-reply" href="#" role="button" {_attrs(reply=r.get("id"))}><span class="num">{esc(_num(r))}</span>'
        f'《{esc(r.get("title") or "（无标题）")}》</a><div class="meta"><span class="nw">提出者：{esc(r.get("proposer") or "—")}</span> · '
        f'{esc(_units(r))} · <span class="nw">答复日期：{esc(r.get("reply_date") or "—")}</span></div></li>' for r in items)
    return (f'<div class="reply-list"><div class="panel-h">共 {esc(total)} 件答复 · 第 {esc(page)}/{pages} 页</div>'
            f'<ul>{rows}</ul></div>')
