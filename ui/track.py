"""The 跟踪 tab of the web chat: a topic's timeline across years, from GET /api/track (`backend.track`).

One row per reply, oldest first: its plan points (the promises it made, marked with their status) and its done
points (the passages that report on earlier promises). An arrow runs from each promise to every passage that
reports on it (dashed: to a later reply that plans it again); unreported promises are marked. Filters work as in
the chat (years, departments) plus district and status. A click on a point opens the letter with the sentence
highlighted (offsets into the reply's text, as in the chat).

`render_timeline` is pure (every document string escaped); the page script only measures the points and draws
the arrows into an SVG beside the rows, so the timeline reads the same without it.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

import gradio as gr

from index.records import number_label
from ui import render
from ui.inputs import ANY, make_filters
from ui.inputs import as_int as _int
from ui.render import esc

STATUS_CHOICES = [("全部状态", ""), ("已报告", "reported"), ("仍在推进", "in_progress"), ("未见报告", "not_reported"),
                  ("未到期", "pending")]
STATUS_TEXT = {"reported": "已报告", "in_progress": "仍在推进", "not_reported": "未见报告", "pending": "未到期"}
FULFIL_TEXT = {"met": "达成", "partly": "部分完成", "unclear": "无法比较"}
EXAMPLE_TOPICS = ["老年助餐", "老旧小区改造", "职业技能培训"]


def _status_badge(c: dict[str, Any]) -> str:
    st = c.get("status") or "pending"
    text = STATUS_TEXT.get(st, st)
    if st == "reported" and c.get("fulfilment"):
        text += "·" + FULFIL_TEXT.get(c["fulfilment"], c["fulfilment"])
    return f'<span class="tl-st {esc(st)} {esc(c.get("fulfilment") or "")}">{esc(text)}</span>'


def _attrs(**kv: Any) -> str:
    return " ".join(f'data-{k}="{esc(v)}"' for k, v in kv.items() if v not in (None, ""))


def summary_line(items: list[dict[str, Any]]) -> str:
    n = {k: sum(c.get("status") == k for c in items) for k in STATUS_TEXT}
    met = sum(c.get("fulfilment") == "met" for c in items)
    partly = sum(c.get("fulfilment") == "partly" for c in items)
    return (f"共 {len(items)} 项承诺：已报告 {n['reported']}（达成 {met}、部分完成 {partly}）、仍在推进 {n['in_progress']}、"
            f"未见报告 {n['not_reported']}、未到期 {n['pending']}")


def render_timeline(items: list[dict[str, Any]] | None, topic: str = "", error: str | None = None) -> str:
    """The timeline of the commitments `items` (GET /api/track's body) as HTML."""
    if error:
        return f'<div class="tl-empty error-box">无法加载跟踪结果：{esc(error)}</div>'
    if items is None:
        return ('<div class="tl-empty">输入话题（如“老年助餐”），查看历年答复中的承诺，以及后来的答复是否报告了落实情况。'
                '每条承诺的箭头指向报告它的答复。</div>')
    if not items:
        return f'<div class="tl-empty">没有找到{("“" + esc(topic) + "”") if topic else ""}相关答复中的承诺。可以换个说法或放宽筛选条件。</div>'
    rows: dict[str, dict[str, Any]] = {}
    points: dict[tuple[str, int, int], dict[str, Any]] = {}

    def row(rid: str, meta: dict[str, Any]) -> dict[str, Any]:
        r = rows.get(rid)
        if r is None:
            r = rows[rid] = {"id": rid, "meta": meta, "plan": [], "done": []}
        return r

    def point(rid: str, start: int, end: int, kind: str, text: str, meta: dict[str, Any]) -> dict[str, Any]:
        key = (rid, int(start), int(end))
        p = points.get(key)
        if p is None:
            p = points[key] = {"pid": f"tlp{len(points)}", "reply": rid, "start": start, "end": end, "kind": kind,
                               "text": text, "to": [], "restated_to": [], "from": [], "commitment": None}
            row(rid, meta)["plan" if kind == "plan" else "done"].append(p)
        return p

    for c in items:
        src = c.get("source") or {}
        cit = src.get("citation") or {}
        p = point(src.get("reply_id", ""), cit.get("start", 0), cit.get("end", 0), "plan", c.get("text", ""), src)
        p["commitment"] = c
    for c in items:
        src = c.get("source") or {}
        cit = src.get("citation") or {}
        p = points[(src.get("reply_id", ""), int(cit.get("start", 0)), int(cit.get("end", 0)))]
        for e in c.get("evidence") or []:
            kind = "plan" if e.get("kind") == "restated" else "done"
            q = point(e.get("reply_id", ""), e.get("start", 0), e.get("end", 0), kind, e.get("text", ""), e)
            (p["restated_to"] if kind == "plan" else p["to"]).append(q["pid"])
            q["from"].append(f"{src.get('year') or '—'}年{number_label(src.get('number'))}")
    ordered = sorted(rows.values(), key=lambda r: (r["meta"].get("reply_date") or "", r["id"]))
    html_rows = [_row_html(r) for r in ordered]
    legend = ('<div class="tl-legend"><span class="tl-st reported met">已报告·达成</span><span class="tl-st reported partly">'
              '已报告·部分完成</span><span class="tl-st in_progress">仍在推进</span><span class="tl-st not_reported">未见报告</span>'
              '<span class="tl-st pending">未到期</span><span class="tl-key">→ 箭头：承诺 → 报告它的答复</span></div>')
    as_of = next((c.get("as_of") for c in items if c.get("as_of")), "")
    head = (f'<div class="tl-summary"><b>{esc(topic) or "全部承诺"}</b> · {esc(summary_line(items))}'
            f'{f" · 截至 {esc(as_of)}" if as_of else ""}</div>')
    return (f'<div class="tl-wrap">{head}{legend}<div class="tl" data-count="{len(items)}">'
            f'<svg class="tl-arrows" aria-hidden="true"></svg>{"".join(html_rows)}</div></div>')


def _row_html(r: dict[str, Any]) -> str:
    m = r["meta"]
    date = m.get("reply_date") or ""
    year = m.get("year") or (date[:4] if date[:4].isdigit() else "—")
    where = f'{m.get("district") or ""}{m.get("department") or ""}'
    title = (f'<a class="tl-title" href="#" role="button" {_attrs(reply=r["id"])}><span class="num">{esc(number_label(m.get("number")))}</span>'
             f'《{esc(m.get("title") or "（无标题）")}》</a>')
    parts = [f'<div class="tl-head">{title}<span class="tl-meta">{esc(where)} · 答复 {esc(date or "—")}</span></div>']
    if r["done"]:
        parts.append('<div class="tl-sec done"><div class="tl-sec-h">报告了此前的承诺</div>'
                     + "".join(_point_html(p) for p in sorted(r["done"], key=lambda p: int(p["start"]))) + "</div>")
    if r["plan"]:
        parts.append('<div class="tl-sec plan"><div class="tl-sec-h">本次答复的承诺</div>'
                     + "".join(_point_html(p) for p in sorted(r["plan"], key=lambda p: int(p["start"]))) + "</div>")
    return (f'<div class="tl-row" data-reply="{esc(r["id"])}"><div class="tl-when"><span class="tl-year">{esc(year)}</span>'
            f'<span class="tl-date">{esc(date[5:] if len(date) >= 10 else "")}</span></div>'
            f'<div class="tl-card">{"".join(parts)}</div></div>')


def _point_html(p: dict[str, Any]) -> str:
    c = p["commitment"]
    to = " ".join(p["to"])
    restated = " ".join(p["restated_to"])
    extra = ""
    cls = f'tl-pt {p["kind"]}'
    if c is not None:
        cls += f' {c.get("status") or ""}'
        due = c.get("due") or ""
        due_txt = f'期限 {esc(due)}' + ("" if c.get("due_stated") else "（未写明）") if due else ""
        cmp = "；".join(f'目标{esc(x["target"])} → 报告{esc(x["reported"])}' for x in c.get("comparisons") or [] if x.get("reported"))
        extra = (f'<span class="tl-info">{_status_badge(c)}<span class="tl-due">{due_txt}</span>'
                 f'{f"<span class=tl-cmp>{cmp}</span>" if cmp else ""}</span>')
        badge = '<span class="badge plan">承诺</span>'
    elif p["kind"] == "plan":
        badge = '<span class="badge plan">再次计划</span>'
    else:
        badge = '<span class="badge done">报告</span>'
    src = f'<span class="tl-from">← {esc("、".join(dict.fromkeys(p["from"])))}的承诺</span>' if p["from"] else ""
    return (f'<a class="{esc(cls)}" id="{p["pid"]}" href="#" role="button" '
            f'{_attrs(reply=p["reply"], start=p["start"], end=p["end"], to=to, restated=restated)}>'
            f'{badge}<span class="tl-text">{esc(p["text"])}</span>{extra}{src}</a>')


# -- page script and style --------------------------------------------------------------------------------------
TIMELINE_JS = r"""
const NS = 'http://www.w3.org/2000/svg';
const draw = () => {
  const root = element.querySelector('.tl');
  if (!root) return;
  const svg = root.querySelector('svg.tl-arrows');
  const box = root.getBoundingClientRect();
  svg.setAttribute('width', root.scrollWidth);
  svg.setAttribute('height', root.scrollHeight);
  svg.setAttribute('viewBox', `0 0 ${root.scrollWidth} ${root.scrollHeight}`);
  const heads = '<defs><marker id="tl-h-report" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto">'
    + '<path d="M0,0 L8,4 L0,8 z" class="head report"/></marker><marker id="tl-h-restated" viewBox="0 0 8 8" refX="7" refY="4" '
    + 'markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="head restated"/></marker></defs>';
  const out = [];
  let lane = 0;
  root.querySelectorAll('.tl-pt').forEach((src) => {
    const targets = [...(src.dataset.to || '').split(' ').map((t) => [t, 'report']),
                     ...(src.dataset.restated || '').split(' ').map((t) => [t, 'restated'])].filter((x) => x[0]);
    if (!targets.length) return;
    const a = src.getBoundingClientRect();
    targets.forEach(([tid, kind]) => {
      const dst = root.querySelector('#' + CSS.escape(tid));
      if (!dst) return;
      const b = dst.getBoundingClientRect();
      const x0 = a.left - box.left, y0 = a.top - box.top + Math.min(13, a.height / 2);
      const x1 = b.left - box.left, y1 = b.top - box.top + Math.min(13, b.height / 2);
      const gx = Math.max(3, Math.min(x0, x1) - 7 - (lane % 4) * 4);
      lane += 1;
      out.push(`<path class="arrow ${kind}" data-from="${src.id}" data-to="${tid}" d="M${x0},${y0} H${gx} V${y1} H${x1 - 1}" marker-end="url(#tl-h-${kind})"/>`);
    });
  });
  svg.innerHTML = heads + out.join('');
};
watch('value', () => requestAnimationFrame(draw));
new ResizeObserver(() => requestAnimationFrame(draw)).observe(element);
requestAnimationFrame(draw);
element.addEventListener('click', (ev) => {
  const a = ev.target.closest('a[data-reply]');
  if (!a || !element.contains(a)) return;
  ev.preventDefault();
  element.querySelectorAll('a.active').forEach((x) => x.classList.remove('active'));
  a.classList.add('active');
  const d = a.dataset;
  trigger('click', {reply: d.reply || '', start: d.start || '', end: d.end || '', t: Date.now()});
});
"""

TIMELINE_CSS = r"""
.tl-wrap { font-size: 14px; line-height: 1.65; }
.tl-empty { color: #667085; padding: 12px 4px; }
.tl-summary { margin: 2px 0 6px; color: #344054; text-align: left; }
.tl-legend { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: center; margin-bottom: 10px; font-size: 12.5px; }
.tl-key { color: #667085; }
.tl { position: relative; padding-left: 30px; }
.tl svg.tl-arrows { position: absolute; left: 0; top: 0; pointer-events: none; overflow: visible; z-index: 2; }
.tl svg path.arrow { fill: none; stroke-width: 1.6; }
.tl svg path.arrow.report { stroke: #12b76a; }
.tl svg path.arrow.restated { stroke: #f79009; stroke-dasharray: 4 3; }
.tl svg path.head.report { fill: #12b76a; }
.tl svg path.head.restated { fill: #f79009; }
.tl-row { display: flex; gap: 10px; margin: 0 0 12px; }
.tl-when { flex: 0 0 54px; display: flex; flex-direction: column; align-items: flex-end; padding-top: 8px; }
.tl-year { font-weight: 700; font-size: 1.05rem; color: #b42318; }
.tl-date { color: #98a2b3; font-size: 12px; }
.tl-card { flex: 1 1 auto; min-width: 0; border: 1px solid #e4e7ec; border-radius: 10px; background: #fff; padding: 8px 10px 6px; }
.tl-head { text-align: left; display: flex; flex-wrap: wrap; gap: 2px 10px; align-items: baseline; margin-bottom: 4px; }
a.tl-title { color: #1d2939; font-weight: 600; text-decoration: none; }
a.tl-title:hover { color: #b42318; text-decoration: underline; }
.tl-meta { color: #667085; font-size: 12.5px; }
.tl-sec { margin: 4px 0; }
.tl-sec-h { text-align: left; font-size: 12px; color: #667085; margin: 2px 0; }
a.tl-pt { display: block; position: relative; text-align: left; text-decoration: none; color: #1d2939; border-radius: 8px; padding: 4px 8px; margin: 3px 0;
  border: 1px solid transparent; word-break: break-word; }
a.tl-pt:hover, a.tl-pt.active { border-color: #fda29b; background: #fffbfa; }
a.tl-pt.done { background: #f6fef9; }
a.tl-pt.plan { background: #f5faff; }
a.tl-pt.not_reported { background: #fef3f2; border: 1px dashed #f04438; }
a.tl-pt.pending { background: #f9fafb; }
a.tl-pt.in_progress { background: #fffaeb; }
.tl-info { display: flex; flex-wrap: wrap; gap: 2px 10px; align-items: center; margin-top: 2px; font-size: 12.5px; }
.tl-st { display: inline-block; font-size: 12px; font-weight: 700; border-radius: 10px; padding: 0 8px; line-height: 1.7; }
.tl-st.reported.met { background: #d1fadf; color: #05603a; }
.tl-st.reported.partly { background: #fef0c7; color: #93370d; }
.tl-st.reported.unclear, .tl-st.reported { background: #e0f2fe; color: #075985; }
.tl-st.in_progress { background: #fef0c7; color: #b54708; }
.tl-st.not_reported { background: #f04438; color: #fff; }
.tl-st.pending { background: #eaecf0; color: #475467; }
.tl-due, .tl-cmp, .tl-from { color: #667085; }
.tl-from { display: block; font-size: 12px; }
.tl-pt .badge { display: inline-block; font-size: 11.5px; font-weight: 700; border-radius: 10px; padding: 0 7px; margin-right: 6px; }
.tl-pt .badge.done { background: #d1fadf; color: #05603a; }
.tl-pt .badge.plan { background: #d1e9ff; color: #1849a9; }
@media (max-width: 720px) {
  .tl { padding-left: 22px; }
  .tl-row { flex-direction: column; gap: 2px; margin-bottom: 10px; }
  .tl-when { flex: 0 0 auto; flex-direction: row; justify-content: flex-start; align-items: baseline; gap: 6px; padding-top: 0; }
  .tl-card { padding: 6px 8px 4px; }
  .tl-wrap { font-size: 13.5px; }
}
"""


# -- the tab ---------------------------------------------------------------------------------------------------
def track_filters(district: Any = None, departments: Any = None, year_from: Any = None, year_to: Any = None,
                  status: Any = None) -> dict[str, Any]:
    """GET /api/track's filters from the tab's inputs (only those set; a reversed year range is swapped)."""
    f = make_filters(year_from, year_to, departments)
    if district and str(district).strip() and str(district).strip() != ANY:
        f["district"] = str(district).strip()
    if status:
        f["status"] = status
    return f


def build_track_tab(backend: Any, demo: gr.Blocks) -> None:
    """The 跟踪 tab (call inside `gr.Tabs()` of ui.app.build_ui); loads its filter choices with the page."""
    with gr.Tab("跟踪", id="track-tab"):
        with gr.Row(equal_height=True, elem_id="t-filters"):
            topic = gr.Textbox(label="话题", placeholder="如：老年助餐、老旧小区改造", scale=3, min_width=180, elem_id="t-topic")
            district = gr.Dropdown([ANY], value=ANY, allow_custom_value=True, label="区县", min_width=120, scale=1,
                                   elem_id="t-district")
            depts = gr.Dropdown([], value=[], multiselect=True, allow_custom_value=True, label="部门（可多选，简称亦可）",
                                min_width=180, scale=2, elem_id="t-depts")
            y_from = gr.Dropdown([ANY], value=ANY, label="起始年份", min_width=100, scale=1, elem_id="t-year-from")
            y_to = gr.Dropdown([ANY], value=ANY, label="截止年份", min_width=100, scale=1, elem_id="t-year-to")
            status = gr.Dropdown(STATUS_CHOICES, value="", label="状态", min_width=130, scale=1, elem_id="t-status")
            go = gr.Button("查看", variant="primary", scale=1, min_width=72, elem_id="t-go")
        with gr.Row(elem_id="t-examples"):
            ex = [gr.Button(t, size="sm", variant="secondary", min_width=90) for t in EXAMPLE_TOPICS]
        with gr.Row(equal_height=False, elem_id="t-main"):
            with gr.Column(scale=7, min_width=300):
                timeline = gr.HTML(render_timeline(None), js_on_load=TIMELINE_JS, css_template=TIMELINE_CSS,
                                   elem_id="t-timeline")
            with gr.Column(scale=4, min_width=280):
                from ui.assets import REPLY_JS

                viewer = gr.HTML(render.render_reply(None), js_on_load=REPLY_JS, elem_id="t-view")

    def show(t, dist, ds, yf, yt, st):
        t = (t or "").strip()[:100]
        try:
            items = backend.track(t, track_filters(dist, ds, yf, yt, st))
        except Exception as e:  # noqa: BLE001 - shown in the tab instead of a trace
            return render_timeline(None, t, error=str(e) or type(e).__name__)
        return render_timeline(items, t)

    def open_reply(evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        rid = str(data.get("reply") or "")
        if not rid:
            return gr.skip()
        try:
            reply = backend.get_reply(rid)
        except Exception as e:  # noqa: BLE001
            return render.render_reply({"error": str(e) or type(e).__name__})
        return render.render_reply(reply, _int(data.get("start")), _int(data.get("end")))

    def load_choices():
        try:
            stats = backend.stats() or {}
            years = sorted({int(y) for y in (stats.get("years") or {}) if str(y).isdigit()}, reverse=True)
        except Exception:  # noqa: BLE001 - the dropdown falls back to recent years
            years = []
        years = years or list(range(_dt.date.today().year, _dt.date.today().year - 7, -1))
        try:
            dists = list(backend.track_districts())
        except Exception:  # noqa: BLE001
            dists = []
        try:
            dchoices = [d.get("name") for d in backend.departments() or [] if d.get("name")]
        except Exception:  # noqa: BLE001
            dchoices = []
        yu = gr.update(choices=[ANY] + [str(y) for y in years])  # choices only: a value typed meanwhile stays
        return gr.update(choices=[ANY] + dists), gr.update(choices=dchoices), yu, yu

    inputs = [topic, district, depts, y_from, y_to, status]
    go.click(show, inputs, timeline)
    topic.submit(show, inputs, timeline)
    for b, t in zip(ex, EXAMPLE_TOPICS):
        b.click(lambda t=t: t, None, topic).then(show, inputs, timeline)
    timeline.click(open_reply, None, viewer)
    demo.load(load_choices, None, [district, depts, y_from, y_to])
