"""The delegates' web chat: a Gradio Blocks app over any :class:`service.protocol.DafuBackend`.

`mount_ui(fastapi_app, backend)` serves it at ``/`` inside `dafu serve`; `dafu ui --api URL` (ui.cli) runs it
alone against a remote service through :class:`ui.client.HttpBackend`.

Each tab is built by its own function (``chat_tab``, ``browse_tab``, ``review_tab`` in ui.review) that creates its
components and wires its events; ``build_ui`` calls them in order and runs their page-load steps. A new tab is
one more function of that shape.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Callable, Iterator

import gradio as gr
from starlette.middleware import Middleware

from ui import render
from ui.assets import CHAT_JS, CLICK_JS, CSS, HEAD, REPLY_JS, theme
from ui.inputs import ANY as ANY_YEAR
from ui.inputs import as_int as _int
from ui.inputs import make_filters
from ui.track import build_track_tab

TITLE = "答复通 · 提案建议答复问答"
EXAMPLES = ["通州在产教融合方面做了哪些工作？", "人社局对职业培训的建议是怎么答复的？", "职业教育下一步有什么打算？"]
HISTORY_TURNS = 4
CONCURRENCY = 16  # questions answered at once per process (the backends are thread-safe)


class FileUploadOff:
    """Gradio's file upload routes answer 404: the chat takes no files, so nobody may store any through it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope.get("type") == "http" else ""
        if path.endswith("/gradio_api/upload") or path.endswith("/gradio_api/upload_progress"):
            from starlette.responses import JSONResponse

            await JSONResponse({"error": "not_found", "detail": "file upload is off: the web chat takes no files"},
                               status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _no_such_event(request: Any, exc: Exception) -> Any:
    """Gradio raises FnIndexInferError for an event name it does not have (/gradio_api/call/<name>): 404, not 500."""
    from starlette.responses import JSONResponse

    return JSONResponse({"error": "not_found", "detail": f"no such web chat endpoint {request.url.path}"}, status_code=404)


def _app_kwargs() -> dict[str, Any]:
    from gradio.route_utils import FnIndexInferError

    return {"middleware": [Middleware(FileUploadOff)], "exception_handlers": {FnIndexInferError: _no_such_event}}


LAUNCH_KW: dict[str, Any] = {"css": CSS, "head": HEAD, "footer_links": [], "run_history": False, "ssr_mode": False,
                             "app_kwargs": _app_kwargs()}


def question_limit(backend: Any) -> int:
    """The backend's question limit (DAFU_MAX_QUESTION_CHARS), else the setting's default."""
    lim = getattr(backend, "question_limit", None)
    if isinstance(lim, int) and lim > 0:
        return lim
    from index.settings import Settings

    return int(Settings.model_fields["max_question_chars"].default)
Loader = Callable[[dict], tuple]  # page-load step of a tab: stats -> updates for its `load_outputs`


def _filter_choices(backend: Any, stats: dict) -> tuple:
    """Page-load updates of a tab's year-from, year-to and department boxes (no departments if the list fails)."""
    years = _years(backend, stats)
    try:
        dchoices = _dept_choices(backend)
    except Exception:  # noqa: BLE001
        dchoices = []
    yu = gr.update(choices=years, value=ANY_YEAR)
    return yu, yu, gr.update(choices=dchoices)


def filter_summary(filters: dict, report: dict | None = None) -> str:
    """One line saying what is set: '2021–2023 · 民政 → 海门区民政局、通州区民政局 · 提出者 张三', or '不限'."""
    bits = []
    y1, y2 = filters.get("year_from"), filters.get("year_to")
    if y1 or y2:
        bits.append(f"{y1}年" if y1 == y2 else f"{y1 or '…'}–{y2 or '…'}年")
    matched = {d["term"]: d["matched"] for d in (report or {}).get("departments") or []}
    for d in filters.get("departments") or []:
        names = matched.get(d)
        bits.append(f"{d} → {'、'.join(names[:4])}{'等' if len(names) > 4 else ''}" if names
                    else (f"{d}（无此部门）" if d in matched else d))
    if filters.get("proposer"):
        bits.append(f"提出者 {filters['proposer']}")
    return " · ".join(bits) if bits else "不限"


def apply_event(answer: dict[str, Any], ev: dict[str, Any]) -> dict[str, Any]:
    """Fold one ask_stream event into the partial answer; returns the (possibly new) answer dict."""
    kind, data = ev.get("event"), ev.get("data")
    if kind == "point":
        pts = data if isinstance(data, list) else [data.get("point", data) if isinstance(data, dict) else None]
        answer.setdefault("points", []).extend(p for p in pts if isinstance(p, dict))
    elif kind == "citations":
        cits = data.get("citations") if isinstance(data, dict) else data
        answer["citations"] = list(cits or [])
    elif kind == "done" and isinstance(data, dict):
        full = data.get("answer", data) if "answer_id" not in data else data
        answer = {**answer, **full}
    elif kind == "error":
        answer["error"] = (data or {}).get("message") if isinstance(data, dict) else str(data)
    return answer


def _stream(backend: Any, question: str, filters: dict, history: list[dict]) -> Iterator[dict[str, Any]]:
    stream = getattr(backend, "ask_stream", None)
    if stream is not None:
        try:
            yield from stream(question, filters=filters or None, history=history or None)
            return
        except NotImplementedError:
            pass
    yield {"event": "done", "data": backend.ask(question, filters=filters or None, history=history or None)}


def _history(turns: list[dict]) -> list[dict]:
    done = [t for t in turns if not t.get("pending") and (t.get("answer") or {}).get("answer_id")]
    return [{"question": t["question"], "answer_id": t["answer"]["answer_id"]} for t in done[-HISTORY_TURNS:]]


def _last_answer(turns: list[dict]) -> dict | None:
    for t in reversed(turns or []):
        a = t.get("answer") or {}
        if a.get("answer_id") and not t.get("pending"):
            return a
    return None


def _reply_count(stats: dict) -> int | None:
    for k in ("replies", "n_replies", "reply_count", "num_replies"):
        v = stats.get(k)
        if isinstance(v, int):
            return v
    idx = stats.get("index")
    return _reply_count(idx) if isinstance(idx, dict) else None


def _years(backend: Any, stats: dict) -> list[str]:
    ys = stats.get("years")
    years: set[int] = set()
    if isinstance(ys, dict):
        years = {int(y) for y in ys if str(y).isdigit()}
    elif isinstance(ys, list):
        years = {int(y) for y in ys if str(y).isdigit()}
    if not years:
        try:
            items = backend.list_replies(page=1, page_size=100).get("items") or []
            years = {int(d[:4]) for r in items for d in [r.get("reply_date") or r.get("signed_date") or ""]
                     if d[:4].isdigit()}
        except Exception:  # noqa: BLE001 - a missing year list only narrows the dropdown
            years = set()
    this = _dt.date.today().year
    years = years or set(range(this - 6, this + 1))
    return [ANY_YEAR] + [str(y) for y in sorted(years, reverse=True)]


def _dept_choices(backend: Any) -> list[tuple[str, str]]:
    out = []
    for d in backend.departments() or []:
        name = d.get("name") or ""
        if not name:
            continue
        al = [a for a in d.get("aliases") or [] if a and a != name][:3]
        label = name + (f"（{'、'.join(al)}）" if al else "") + (f" · {d['count']}" if d.get("count") else "")
        out.append((label, name))
    return out


def _header(count: int | None) -> str:
    stats = f'<span class="stats">已收录 {count} 件答复</span>' if count is not None else ""
    return (f'<div id="dafu-header"><h1>答复通</h1><span class="sub">政协提案、人大建议办理答复的智能问答，'
            f'每句回答都标注原文出处</span>{stats}</div>')


def _open_reply(backend: Any, data: dict, **kw: Any) -> str:
    rid = str(data.get("reply") or "")
    if not rid:
        return gr.skip()
    try:
        reply = backend.get_reply(rid)
    except Exception as e:  # noqa: BLE001 - shown to the user in the viewer
        return render.render_reply({"error": str(e) or type(e).__name__}, **kw)
    ctx = (data.get("cs"), data.get("ce")) if data.get("cs") not in (None, "") else None
    return render.render_reply(reply, _int(data.get("start")), _int(data.get("end")),
                               (_int(ctx[0]), _int(ctx[1])) if ctx else None, **kw)


def follow_latest(backend: Any, answer: dict[str, Any]) -> str:
    """The reply viewer for a new answer: its first point's sentence inside its cited passage, or empty."""
    pts, cits = answer.get("points") or [], {c.get("n"): c for c in answer.get("citations") or []}
    if answer.get("error") or not pts:
        return render.render_reply(None)
    p = pts[0]
    c = cits.get((p.get("citations") or [None])[0]) or {}
    rid = p.get("reply_id") or c.get("reply_id")
    if not rid:
        return render.render_reply(None)
    data = {"reply": rid, "start": p.get("start") if p.get("end") else c.get("start"),
            "end": p.get("end") or c.get("end"), "cs": c.get("start"), "ce": c.get("end")}
    return _open_reply(backend, data, auto=True)


def _event_data(evt: gr.EventData) -> dict:
    return getattr(evt, "_data", None) or {}


def chat_tab(backend: Any) -> tuple[list, Loader]:
    """问答: filters (collapsed to a one-line summary), the conversation, the sources and the reply viewer."""
    turns, redo = gr.State([]), gr.State("")
    limit = question_limit(backend)
    with gr.Accordion("筛选条件：不限", open=True, elem_id="filters") as acc:
        with gr.Row(equal_height=True):
            y_from = gr.Dropdown([ANY_YEAR], value=ANY_YEAR, label="起始年份", min_width=110, scale=1, elem_id="f-year-from")
            y_to = gr.Dropdown([ANY_YEAR], value=ANY_YEAR, label="截止年份", min_width=110, scale=1, elem_id="f-year-to")
            depts = gr.Dropdown([], value=[], multiselect=True, allow_custom_value=True, label="部门（可多选，简称亦可，如 民政、住建）",
                                min_width=220, scale=3, elem_id="f-depts")
            proposer = gr.Textbox(label="提出者", placeholder="代表/委员姓名", min_width=140, scale=1, elem_id="f-proposer")
        f_note = gr.HTML("", elem_id="filter-note", visible=False)
    with gr.Row(elem_id="main-row", equal_height=False):
        with gr.Column(scale=3, min_width=320, elem_id="chat-col"):
            chat = gr.HTML(render.render_conversation([]), js_on_load=CHAT_JS, elem_id="chat-log",
                           max_height="max(360px, calc(100vh - 360px))")
            with gr.Row(equal_height=True, elem_id="ask-row"):
                question = gr.Textbox(show_label=False, placeholder=f"请输入问题（最多 {limit} 字），可以接着追问", lines=1,
                                      max_lines=4, max_length=limit, scale=6, min_width=180, container=False,
                                      elem_id="question")
                send = gr.Button("提问", variant="primary", scale=1, min_width=72, elem_id="send")
            with gr.Row(elem_id="examples-row"):
                ex_btns = [gr.Button(q, size="sm", variant="secondary", min_width=120) for q in EXAMPLES]
            with gr.Row(elem_id="fb-row", equal_height=True):
                up = gr.Button("有帮助", size="sm", min_width=90, elem_id="fb-up")
                down = gr.Button("没帮助", size="sm", min_width=90, elem_id="fb-down")
                comment = gr.Textbox(show_label=False, placeholder="补充意见（可选）", scale=3, min_width=160,
                                     container=False, elem_id="fb-comment")
                clear = gr.Button("新对话", size="sm", min_width=80, elem_id="clear")
            fb_status = gr.HTML("", elem_id="fb-status")
        with gr.Column(scale=2, min_width=300, elem_id="dafu-side"):
            viewer = gr.HTML(render.render_reply(None), js_on_load=REPLY_JS, elem_id="reply-view")
            sources = gr.HTML(render.render_sources(None), js_on_load=CLICK_JS, elem_id="sources")

    filter_in = [y_from, y_to, depts, proposer]

    def describe(yf, yt, ds, pr):
        f = make_filters(yf, yt, ds, pr)
        if not f:
            return gr.update(label="筛选条件：不限"), gr.update(value="", visible=False)
        try:
            res = backend.list_replies(filters=f, page=1, page_size=1)
        except Exception as e:  # noqa: BLE001 - the summary is a help, not a gate
            return (gr.update(label=f"筛选条件：{filter_summary(f)}"),
                    gr.update(value=f'<div class="error-box">{render.esc(e)}</div>', visible=True))
        rep = res.get("filter_report")
        note = "".join(f'<div class="f-match"><b>{render.esc(d["term"])}</b> → '
                       f'{render.esc("、".join(d["matched"]) or "索引中没有这个部门")}</div>'
                       for d in (rep or {}).get("departments") or [])
        total = res.get("total")
        warn = "" if total else " warn"
        note += f'<div class="f-count{warn}">符合筛选条件的答复：{render.esc(total)} 件</div>' if total is not None else ""
        return gr.update(label=f"筛选条件：{filter_summary(f, rep)}"), gr.update(value=note, visible=bool(note))

    for comp in filter_in:
        comp.change(describe, filter_in, [acc, f_note], show_progress="hidden")

    def run(q: str, ts: list, yf, yt, ds, pr):
        q = (q or "").strip()
        if not q:
            yield gr.skip(), gr.skip(), ts, gr.skip(), gr.skip()
            return
        filters, history = make_filters(yf, yt, ds, pr), _history(ts)
        turn = {"question": q, "answer": {"question": q, "points": [], "citations": []}, "pending": True}
        ts = [*ts, turn]
        yield render.render_conversation(ts), gr.skip(), ts, "", gr.skip()
        try:
            for ev in _stream(backend, q, filters, history):
                turn["answer"] = apply_event(turn["answer"], ev)
                yield render.render_conversation(ts), render.render_sources(turn["answer"]), ts, gr.skip(), gr.skip()
        except Exception as e:  # noqa: BLE001 - shown in the chat instead of a stack trace
            turn["answer"] = {"question": q, "error": str(e) or type(e).__name__}
        turn["pending"] = False
        yield (render.render_conversation(ts), render.render_sources(turn["answer"]), ts, gr.skip(),
               follow_latest(backend, turn["answer"]))

    ask_in = [question, turns, *filter_in]
    ask_out = [chat, sources, turns, question, viewer]
    send.click(run, ask_in, ask_out)
    question.submit(run, ask_in, ask_out)
    for b, q in zip(ex_btns, EXAMPLES):
        b.click(lambda q=q: q, None, question).then(run, ask_in, ask_out)

    def on_chat_click(yf, yt, ds, pr, evt: gr.EventData):
        """A citation opens its reply; 去掉…重新提问 clears that filter and asks the question again."""
        data = _event_data(evt)
        if data.get("drop") is not None:
            drop = set(filter(None, str(data.get("drop")).split(",")))
            y1 = ANY_YEAR if "year_from" in drop else yf
            y2 = ANY_YEAR if "year_to" in drop else yt
            return (gr.skip(), y1, y2, [] if "departments" in drop else ds, "" if "proposer" in drop else pr,
                    str(data.get("q") or ""))
        return _open_reply(backend, data), gr.skip(), gr.skip(), gr.skip(), gr.skip(), ""

    def rerun(r: str, ts: list, yf, yt, ds, pr):
        if not r:
            yield gr.skip(), gr.skip(), ts, gr.skip(), gr.skip()
            return
        yield from run(r, ts, yf, yt, ds, pr)

    chat.click(on_chat_click, filter_in, [viewer, *filter_in, redo], show_progress="hidden").then(
        rerun, [redo, turns, *filter_in], ask_out, show_progress="hidden")
    def open_source(evt: gr.EventData):
        return _open_reply(backend, _event_data(evt))

    sources.click(open_source, None, viewer, show_progress="hidden")

    def feedback(rating: str, text: str, ts: list):
        a = _last_answer(ts)
        if a is None:
            return '<span class="meta">请先提问，再评价回答。</span>', gr.skip()
        try:
            backend.feedback(a["answer_id"], rating, (text or "").strip() or None)
        except Exception as e:  # noqa: BLE001
            return f'<span class="error-box">反馈未能提交：{render.esc(e)}</span>', gr.skip()
        return '<span>已收到您的反馈，谢谢！</span>', ""

    up.click(lambda c, t: feedback("up", c, t), [comment, turns], [fb_status, comment])
    down.click(lambda c, t: feedback("down", c, t), [comment, turns], [fb_status, comment])
    clear.click(lambda: ([], render.render_conversation([]), render.render_sources(None), render.render_reply(None), ""),
                None, [turns, chat, sources, viewer, fb_status])

    def load(stats: dict) -> tuple:
        return _filter_choices(backend, stats)

    return [y_from, y_to, depts], load


def browse_tab(backend: Any) -> tuple[list, Loader]:
    """答复浏览: the replies in the index, filtered and paged, with a reader."""
    page = gr.State(1)
    with gr.Row(equal_height=True):
        bq = gr.Textbox(label="关键词", placeholder="编号、标题或部门（简称亦可）", scale=3, min_width=200, elem_id="b-q")
        by_from = gr.Dropdown([ANY_YEAR], value=ANY_YEAR, label="起始年份", min_width=110, scale=1)
        by_to = gr.Dropdown([ANY_YEAR], value=ANY_YEAR, label="截止年份", min_width=110, scale=1)
        bdept = gr.Dropdown([], value=None, allow_custom_value=True, label="部门", min_width=180, scale=2)
        bsearch = gr.Button("查询", variant="primary", scale=1, min_width=72, elem_id="b-search")
    with gr.Row(equal_height=False, elem_id="browse-row"):
        with gr.Column(scale=2, min_width=300):
            blist = gr.HTML('<div class="reply-list empty">加载中…</div>', js_on_load=CLICK_JS, elem_id="b-list")
            with gr.Row():
                prev = gr.Button("上一页", size="sm", min_width=80)
                nxt = gr.Button("下一页", size="sm", min_width=80)
        with gr.Column(scale=3, min_width=300):
            bview = gr.HTML(render.render_reply(None, empty=render.BROWSE_EMPTY), js_on_load=REPLY_JS, elem_id="b-view")

    def browse(q, yf, yt, dept, p):
        p = max(1, int(p or 1))
        try:
            res = backend.list_replies(q=(q or "").strip()[:100] or None, filters=make_filters(yf, yt, dept) or None,
                                       page=p, page_size=20)
        except Exception as e:  # noqa: BLE001
            return f'<div class="error-box">无法加载答复列表：{render.esc(e)}</div>', p
        pages = max(1, -(-int(res.get("total") or 0) // int(res.get("page_size") or 20)))
        if p > pages:
            return browse(q, yf, yt, dept, pages)
        return render.render_reply_list(res), p

    b_in = [bq, by_from, by_to, bdept]
    bsearch.click(lambda *a: browse(*a, 1), b_in, [blist, page])
    bq.submit(lambda *a: browse(*a, 1), b_in, [blist, page])
    prev.click(lambda *a: browse(*a[:-1], max(1, a[-1] - 1)), [*b_in, page], [blist, page])
    nxt.click(lambda *a: browse(*a[:-1], a[-1] + 1), [*b_in, page], [blist, page])
    def open_listed(evt: gr.EventData):
        return _open_reply(backend, _event_data(evt), back="返回列表", empty=render.BROWSE_EMPTY)

    blist.click(open_listed, None, bview, show_progress="hidden")

    def load(stats: dict) -> tuple:
        return (*_filter_choices(backend, stats), *browse(None, ANY_YEAR, ANY_YEAR, None, 1))

    return [by_from, by_to, bdept, blist, page], load


def build_ui(backend: Any) -> gr.Blocks:
    """The whole web chat over `backend` (a DafuBackend)."""
    from ui.review import review_tab

    tabs: list[tuple[list, Loader]] = []
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        header = gr.HTML(_header(None), elem_id="dafu-header-box")
        with gr.Tabs():
            with gr.Tab("问答", id="chat-tab"):
                tabs.append(chat_tab(backend))
            with gr.Tab("答复浏览", id="browse-tab"):
                tabs.append(browse_tab(backend))
            build_track_tab(backend, demo)  # 跟踪: commitments on a topic across years (ui/track.py)
            if hasattr(backend, "review_list"):
                with gr.Tab("审阅", id="review-tab"):
                    tabs.append(review_tab(backend))

        def on_load():
            try:
                stats = backend.stats() or {}
            except Exception:  # noqa: BLE001 - the header just omits the count
                stats = {}
            out: list = [_header(_reply_count(stats))]
            for _, load in tabs:
                out += list(load(stats))
            return tuple(out)

        demo.load(on_load, None, [header, *[c for outs, _ in tabs for c in outs]])
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo


def mount_ui(fastapi_app: Any, backend: Any, path: str = "/") -> Any:
    """Mount the web chat on `fastapi_app` at `path` (call it after the /api routes are added)."""
    kw = {**LAUNCH_KW, "app_kwargs": _app_kwargs()}  # Gradio writes into app_kwargs: one per app
    return gr.mount_gradio_app(fastapi_app, build_ui(backend), path=path, theme=theme(), **kw)
