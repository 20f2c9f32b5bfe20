"""The 审阅 tab (staff, behind DAFU_ADMIN_TOKEN): recent answers with their question, points and citations; grade
each point correct / wrong / unsupported and the answer complete / incomplete; export the graded answers as the
gold JSONL that `dafu eval run` reads (service.review says how a review becomes a case)."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from ui import render

MAX_POINTS = 16  # answers have at most 12 points (16 for reply-by-reply lists)
GRADE_CHOICES = [("正确", "correct"), ("错误", "wrong"), ("无依据", "unsupported")]
STATUS = {"待审阅": "unreviewed", "已审阅": "reviewed", "全部": "all"}


def render_answer_list(items: list[dict[str, Any]]) -> str:
    if not items:
        return '<div class="reply-list empty">没有符合条件的回答。</div>'
    rows = []
    for i, it in enumerate(items):
        rev = it.get("review")
        state = ("已审阅 · " + ("完整" if rev["verdict"] == "complete" else "不完整")) if rev else "待审阅"
        rating = "、".join("有帮助" if r == "up" else "没帮助" for r in it.get("ratings") or [])
        n = "未找到" if it.get("no_answer") else f"{len(it.get('points') or [])} 个要点"
        rows.append(f'<li><a class="open-reply" href="#" role="button" data-reply="{i}" data-n="{render.esc(it["answer_id"])}">'
                    f'{render.esc(it.get("question"))}</a><div class="meta">{render.esc(it.get("asked"))} · {n}'
                    f'{" · 用户：" + render.esc(rating) if rating else ""} · <b>{state}</b></div></li>')
    return f'<div class="reply-list"><div class="panel-h">最近的回答（{len(items)}）</div><ul>{"".join(rows)}</ul></div>'


def render_detail(it: dict[str, Any]) -> str:
    cits = {c.get("n"): c for c in it.get("citations") or []}
    ctx = it.get("context") or {}
    parts = [f'<div class="panel-h">问题：{render.esc(it.get("question"))}</div>']
    if it.get("rewritten_question") and it["rewritten_question"] != it.get("question"):
        parts.append(f'<div class="rewritten">检索问题：{render.esc(it["rewritten_question"])}</div>')
    if ctx.get("history"):
        parts.append(f'<div class="meta">此前的问题：{render.esc(" / ".join(ctx["history"]))}</div>')
    if it.get("filters"):
        parts.append(f'<div class="meta">筛选：{render.esc(it["filters"])}</div>')
    if it.get("no_answer") or not it.get("points"):
        parts.append('<div class="notfound-h">回答：未找到能直接回答这个问题的答复</div>')
        parts.append(render.render_related(it.get("related") or []))
    items = []
    for k, p in enumerate(it.get("points") or [], 1):
        srcs = "；".join(f"[{n}] 第{cits[n].get('number') or '—'}号《{cits[n].get('title') or ''}》 {' › '.join(cits[n].get('heading_path') or [])}"
                        for n in p.get("citations") or [] if n in cits)
        items.append(f'<li>{render.esc(p.get("text"))}<div class="meta">{render.esc(srcs)}</div></li>')
    if items:
        parts.append(f'<ol class="review-points">{"".join(items)}</ol>')
    return f'<div class="review-detail">{"".join(parts)}</div>'


def review_tab(backend: Any) -> tuple[list, Any]:
    items = gr.State([])
    current = gr.State(None)
    with gr.Row(equal_height=True):
        token = gr.Textbox(label="管理口令（DAFU_ADMIN_TOKEN）", type="password", scale=2, min_width=200, elem_id="r-token")
        reviewer = gr.Textbox(label="审阅人", placeholder="姓名（可选）", scale=1, min_width=120, elem_id="r-reviewer")
        status = gr.Dropdown(list(STATUS), value="待审阅", label="范围", scale=1, min_width=110, elem_id="r-status")
        load_btn = gr.Button("加载回答", variant="primary", scale=1, min_width=90, elem_id="r-load")
    msg = gr.HTML("", elem_id="r-msg")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=280):
            alist = gr.HTML('<div class="reply-list empty">输入管理口令后加载最近的回答。</div>', js_on_load=_LIST_JS, elem_id="r-list")
        with gr.Column(scale=3, min_width=320):
            detail = gr.HTML('<div class="reply-view empty">从左侧选择一条回答进行审阅。</div>', elem_id="r-detail")
            grades = [gr.Radio(GRADE_CHOICES, value="correct", label=f"第{i + 1}点", visible=False, elem_id=f"r-grade-{i + 1}")
                      for i in range(MAX_POINTS)]
            verdict = gr.Radio([("完整", "complete"), ("不完整", "incomplete")], value="complete", label="回答是否完整",
                               elem_id="r-verdict")
            missing = gr.Textbox(label="漏掉的事实（每行一条，如 8家）", lines=2, elem_id="r-missing")
            relevant = gr.Textbox(label="应引用但未引用的答复 id（每行一个）", lines=1, elem_id="r-relevant")
            note = gr.Textbox(label="备注", lines=1, elem_id="r-note")
            with gr.Row():
                save = gr.Button("保存审阅", variant="primary", elem_id="r-save")
                export = gr.Button("导出评测集（gold JSONL）", elem_id="r-export")
            gold_file = gr.File(label="评测集文件", visible=False, elem_id="r-file")

    def load(tok: str, st: str):
        try:
            got = backend.review_list(tok, limit=50, status=STATUS.get(st, "unreviewed"))
        except Exception as e:  # noqa: BLE001 - wrong token, disabled, service down: said in the tab
            return [], f'<div class="error-box">{render.esc(e)}</div>', gr.skip()
        return got, "", render_answer_list(got)

    load_btn.click(load, [token, status], [items, msg, alist])
    token.submit(load, [token, status], [items, msg, alist])

    def select(its: list, evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        try:
            it = its[int(data.get("reply"))]
        except (TypeError, ValueError, IndexError):
            return (gr.skip(),) * (3 + MAX_POINTS + 4)
        rev = it.get("review") or {}
        pts = it.get("points") or []
        ups = []
        for i in range(MAX_POINTS):
            if i < len(pts):
                g = (rev.get("points") or [])[i] if i < len(rev.get("points") or []) else "correct"
                ups.append(gr.update(visible=True, value=g, label=f"第{i + 1}点：{pts[i].get('text', '')[:60]}"))
            else:
                ups.append(gr.update(visible=False))
        return (it, render_detail(it), "", *ups, rev.get("verdict") or "complete", "\n".join(rev.get("missing") or []),
                "\n".join(rev.get("relevant") or []), rev.get("note") or "")

    alist.click(select, [items], [current, detail, msg, *grades, verdict, missing, relevant, note])

    def save_review(tok, it, who, v, miss, rel, nt, *gs):
        if not it:
            return '<div class="error-box">请先从左侧选择一条回答。</div>', gr.skip()
        n = len(it.get("points") or [])
        try:
            backend.review_save(tok, it["answer_id"], list(gs[:n]), v, missing=(miss or "").splitlines(),
                                relevant=(rel or "").splitlines(), note=nt or "", reviewer=who or "")
            got = backend.review_list(tok, limit=50, status="all")
        except Exception as e:  # noqa: BLE001
            return f'<div class="error-box">未保存：{render.esc(e)}</div>', gr.skip()
        return f'<div class="ok-box">已保存：「{render.esc(it.get("question"))}」</div>', render_answer_list(got)

    save.click(save_review, [token, current, reviewer, verdict, missing, relevant, note, *grades], [msg, alist])

    def do_export(tok):
        try:
            res = backend.review_export(tok)
        except Exception as e:  # noqa: BLE001
            return f'<div class="error-box">导出失败：{render.esc(e)}</div>', gr.update(visible=False)
        path = Path(tempfile.mkdtemp(prefix="dafu-gold-")) / "gold-reviewed.jsonl"
        path.write_text(res.get("jsonl") or "", encoding="utf-8")
        skipped = "".join(f'<li>{render.esc(s["question"])}：{render.esc(s["reason"])}</li>' for s in res.get("skipped") or [])
        text = (f'<div class="ok-box">已导出 {res.get("cases", 0)} 条评测用例（可回答 {res.get("answerable", 0)}，'
                f'不可回答 {res.get("unanswerable", 0)}），服务器上的文件：{render.esc(res.get("path"))}。'
                f'用 <code>dafu eval run {render.esc(res.get("path"))} --index 索引目录</code> 评测。</div>'
                + (f'<div class="meta">未导出：<ul>{skipped}</ul></div>' if skipped else ""))
        return text, gr.update(value=str(path), visible=True)

    export.click(do_export, [token], [msg, gold_file])
    return [], lambda stats: ()


# the answer list: a click on an item sends its index (as data-reply) to select()
_LIST_JS = r"""
element.addEventListener('click', (ev) => {
  const a = ev.target.closest('a[data-reply]');
  if (!a || !element.contains(a)) return;
  ev.preventDefault();
  element.querySelectorAll('a.active').forEach((x) => x.classList.remove('active'));
  a.classList.add('active');
  trigger('click', {reply: a.dataset.reply, t: Date.now()});
});
"""
