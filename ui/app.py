"""The delegates' web chat: a Gradio Blocks app over any :class:`service.protocol.DafuBackend`.

`mount_ui(fastapi_app, backend)` serves it at ``/`` inside `dafu serve`; `dafu ui --api URL` (ui.cli) runs it
alone against a remote service through :class:`ui.client.HttpBackend`.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Iterator

import gradio as gr
from starlette.middleware import Middleware

from ui import render
from ui.assets import CHAT_JS, CLICK_JS, CSS, HEAD, REPLY_JS, theme

TITLE = "答复通 · 提案建议答复问答"
EXAMPLES = ["通州在产教融合方面做了哪些工作？", "人社局对职业培训的建议是怎么答复的？", "职业教育下一步有什么打算？"]
ANY_YEAR = "不限"
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


LAUNCH_KW: dict[str, Any] = {"css": CSS, "head": HEAD, "footer_links": [], "run_history": False, "ssr_mode": False,
                             "app_kwargs": {"middleware": [Middleware(FileUploadOff)]}}


def question_limit(backend: Any) -> int:
    """The backend's question limit (DAFU_MAX_QUESTION_CHARS), else the setting's default."""
    lim = getattr(backend, "question_limit", None)
    if isinstance(lim, int) and lim > 0:
        return lim
    from index.settings import Settings

    return int(Settings.model_fields["max_question_chars"].default)


def _int(v: Any) -> int | None:
    try:
        return int(v) if v not in (None, "", ANY_YEAR) else None
    except (TypeError, ValueError):
        return None


def make_filters(year_from: Any = None, year_to: Any = None, departments: Any = None, proposer: Any = None) -> dict:
    """The filters dict of the API (only the keys that are set; a reversed year range is swapped)."""
    f: dict[str, Any] = {}
    y1, y2 = _int(year_from), _int(year_to)
    if y1 and y2 and y1 > y2:
        y1, y2 = y2, y1
    if y1:
        f["year_from"] = y1
    if y2:
        f["year_to"] = y2
    depts = [departments] if isinstance(departments, str) else list(departments or [])
    depts = [d.strip() for d in depts if d and d.strip()]
    if depts:
        f["departments"] = depts
    if proposer and str(proposer).strip():
        f["proposer"] = str(proposer).strip()
    return f


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


def _open_reply(backend: Any, data: dict) -> str:
    rid = str(data.get("reply") or "")
    if not rid:
        return gr.skip()
    try:
        reply = backend.get_reply(rid)
    except Exception as e:  # noqa: BLE001 - shown to the user in the viewer
        return render.render_reply({"error": str(e) or type(e).__name__})
    ctx = (data.get("cs"), data.get("ce")) if data.get("cs") not in (None, "") else None
    return render.render_reply(reply, _int(data.get("start")), _int(data.get("end")),
                               (_int(ctx[0]), _int(ctx[1])) if ctx else None)


def build_ui(backend: Any) -> gr.Blocks:
    """The whole web chat over `backend` (a DafuBackend)."""
    limit = question_limit(backend)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        turns = gr.State([])
        header = gr.HTML(_header(None), elem_id="dafu-header-box")
        with gr.Tabs():
            with gr.Tab("问答", id="chat-tab"):
                with gr.Accordion("筛选条件", open=True, elem_id="filters"):
                    with gr.Row(equal_height=True):
                        y_from = gr.Dropdown([ANY_YEAR], value=ANY_YEAR, label="起始年份", min_width=110, scale=1, elem_id="f-year-from")
                        y_to = gr.Dropdown([ANY_YEAR], value=ANY_YEAR, label="截止年份", min_width=110, scale=1, elem_id="f-year-to")
                        depts = gr.Dropdown([], value=[], multiselect=True, allow_custom_value=True, label="部门（可多选，简称亦可）",
                                            min_width=220, scale=3, elem_id="f-depts")
                        proposer = gr.Textbox(label="提出者", placeholder="代表/委员姓名", min_width=140, scale=1, elem_id="f-proposer")
                with gr.Row(elem_id="main-row", equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chat = gr.HTML(render.render_conversation([]), js_on_load=CHAT_JS, elem_id="chat-log",
                                       max_height="max(360px, calc(100vh - 360px))")
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(show_label=False, placeholder=f"请输入问题（最多 {limit} 字），可以接着追问",
                                                  lines=1, max_lines=4, max_length=limit, scale=6, min_width=180,
                                                  container=False, elem_id="question")
                            send = gr.Button("提问", variant="primary", scale=1, min_width=72, elem_id="send")
                        with gr.Row(elem_id="examples-row"):
                            ex_btns = [gr.Button(q, size="sm", variant="secondary", min_width=120) for q in EXAMPLES]
                        with gr.Row(elem_id="fb-row", equal_height=True):
                            up = gr.Button("👍 有帮助", size="sm", min_width=90, elem_id="fb-up")
                            down = gr.Button("👎 没帮助", size="sm", min_width=90, elem_id="fb-down")
                            comment = gr.Textbox(show_label=False, placeholder="补充意见（可选）", scale=3, min_width=160,
                                                 container=False, elem_id="fb-comment")
                            clear = gr.Button("新对话", size="sm", min_width=80, elem_id="clear")
                        fb_status = gr.HTML("", elem_id="fb-status")
                    with gr.Column(scale=2, min_width=300, elem_id="dafu-side"):
                        viewer = gr.HTML(render.render_reply(None), js_on_load=REPLY_JS, elem_id="reply-view")
                        sources = gr.HTML(render.render_sources(None), js_on_load=CLICK_JS, elem_id="sources")
            with gr.Tab("答复浏览", id="browse-tab"):
                page = gr.State(1)
                with gr.Row(equal_height=True):
                    bq = gr.Textbox(label="关键词", placeholder="编号、标题或部门（简称亦可）", scale=3, min_width=200, elem_id="b-q")
                    by_from = gr.Dropdown([ANY_YEAR], value=ANY_YEAR, label="起始年份", min_width=110, scale=1)
                    by_to = gr.Dropdown([ANY_YEAR], value=ANY_YEAR, label="截止年份", min_width=110, scale=1)
                    bdept = gr.Dropdown([], value=None, allow_custom_value=True, label="部门", min_width=180, scale=2)
                    bsearch = gr.Button("查询", variant="primary", scale=1, min_width=72, elem_id="b-search")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=300):
                        blist = gr.HTML('<div class="reply-list empty">加载中…</div>', js_on_load=CLICK_JS, elem_id="b-list")
                        with gr.Row():
                            prev = gr.Button("上一页", size="sm", min_width=80)
                            nxt = gr.Button("下一页", size="sm", min_width=80)
                    with gr.Column(scale=3, min_width=300):
                        bview = gr.HTML(render.render_reply(None), js_on_load=REPLY_JS, elem_id="b-view")

        def on_load():
            try:
                stats = backend.stats() or {}
            except Exception:  # noqa: BLE001 - the header just omits the count
                stats = {}
            years = _years(backend, stats)
            try:
                dchoices = _dept_choices(backend)
            except Exception:  # noqa: BLE001
                dchoices = []
            yu = gr.update(choices=years, value=ANY_YEAR)
            return (_header(_reply_count(stats)), yu, yu, gr.update(choices=dchoices), yu, yu,
                    gr.update(choices=dchoices), *browse(None, ANY_YEAR, ANY_YEAR, None, 1))

        def ask(q: str, ts: list, yf, yt, ds, pr):
            q = (q or "").strip()
            if not q:
                yield gr.skip(), gr.skip(), ts, gr.skip()
                return
            filters, history = make_filters(yf, yt, ds, pr), _history(ts)
            turn = {"question": q, "answer": {"question": q, "points": [], "citations": []}, "pending": True}
            ts = [*ts, turn]
            yield render.render_conversation(ts), gr.skip(), ts, ""
            try:
                for ev in _stream(backend, q, filters, history):
                    turn["answer"] = apply_event(turn["answer"], ev)
                    yield render.render_conversation(ts), render.render_sources(turn["answer"]), ts, gr.skip()
            except Exception as e:  # noqa: BLE001 - shown in the chat instead of a stack trace
                turn["answer"] = {"question": q, "error": str(e) or type(e).__name__}
            turn["pending"] = False
            yield render.render_conversation(ts), render.render_sources(turn["answer"]), ts, gr.skip()

        def feedback(rating: str, text: str, ts: list):
            a = _last_answer(ts)
            if a is None:
                return '<span class="meta">请先提问，再评价回答。</span>', gr.skip()
            try:
                backend.feedback(a["answer_id"], rating, (text or "").strip() or None)
            except Exception as e:  # noqa: BLE001
                return f'<span class="error-box">反馈未能提交：{render.esc(e)}</span>', gr.skip()
            return '<span>已收到您的反馈，谢谢！</span>', ""

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

        ask_in = [question, turns, y_from, y_to, depts, proposer]
        ask_out = [chat, sources, turns, question]
        send.click(ask, ask_in, ask_out)
        question.submit(ask, ask_in, ask_out)
        for b, q in zip(ex_btns, EXAMPLES):
            b.click(lambda q=q: q, None, question).then(ask, ask_in, ask_out)
        for panel, target in ((chat, viewer), (sources, viewer), (blist, bview)):
            panel.click(_open_fn(backend), None, target)
        up.click(lambda c, t: feedback("up", c, t), [comment, turns], [fb_status, comment])
        down.click(lambda c, t: feedback("down", c, t), [comment, turns], [fb_status, comment])
        clear.click(lambda: ([], render.render_conversation([]), render.render_sources(None), render.render_reply(None), ""),
                    None, [turns, chat, sources, viewer, fb_status])
        b_in = [bq, by_from, by_to, bdept]
        bsearch.click(lambda *a: browse(*a, 1), b_in, [blist, page])
        bq.submit(lambda *a: browse(*a, 1), b_in, [blist, page])
        prev.click(lambda *a: browse(*a[:-1], max(1, a[-1] - 1)), [*b_in, page], [blist, page])
        nxt.click(lambda *a: browse(*a[:-1], a[-1] + 1), [*b_in, page], [blist, page])
        demo.load(on_load, None, [header, y_from, y_to, depts, by_from, by_to, bdept, blist, page])
    demo.queue(default_concurrency_limit=CONCURRENCY)
    return demo


def _open_fn(backend: Any):
    def open_reply(evt: gr.EventData):
        return _open_reply(backend, getattr(evt, "_data", None) or {})
    return open_reply


def mount_ui(fastapi_app: Any, backend: Any, path: str = "/") -> Any:
    """Mount the web chat on `fastapi_app` at `path` (call it after the /api routes are added)."""
    kw = {**LAUNCH_KW, "app_kwargs": dict(LAUNCH_KW["app_kwargs"])}  # Gradio writes into app_kwargs: one per app
    return gr.mount_gradio_app(fastapi_app, build_ui(backend), path=path, theme=theme(), **kw)
