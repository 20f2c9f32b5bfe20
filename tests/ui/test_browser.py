"""The web chat in a real browser (Debian's chromium driven by Playwright).

* `dafu serve` over an index of the seed: ask, wait for the streamed answer, click a citation mark and check the
  highlighted passage; screenshots at 1280 px and 390 px go to $DAFU_TEST_ARTIFACTS (default ./artifacts/).
  What is highlighted: a point's mark [n] opens the reply with the point's own sentence in <mark> (it is an exact
  sentence of the letter: ``text[point.start:point.end]``), inside the cited passage (``<span class="ctx">``,
  ``text[citation.start:citation.end]`` == citation.passage); a source in the sources panel marks the whole
  cited passage.
* A fake backend whose letter contains ``<script>alert(1)</script>`` and ``<b>``: shown as text, never run;
  filters, follow-up history, copy, feedback, the not-found answer and the reply browser.
"""
from __future__ import annotations

import threading

import httpx
import pytest
from ui_backends import EVIL, FakeBackend

from tests.browser_support import (
    ARGS,
    CHROMIUM,
    ROOT,
    T,
    artifacts,
    free_port,
    need_chromium,
    wait_http,
)
from tests.browser_support import dafu_serve as serve_index

pytestmark = [pytest.mark.slow,  # gradio's queue calls a pandas option that pandas 3 deprecates
              pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword is deprecated")]

SEED_DIR = ROOT / "index" / "data" / "sample"
QUESTION = "通州在产教融合方面做了哪些工作？"
@pytest.fixture(scope="module")
def context(tmp_path_factory):
    need_chromium()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(profile), executable_path=str(CHROMIUM), headless=True,
                                                   args=ARGS, viewport={"width": 1280, "height": 900}, locale="zh-CN")
        ctx.set_default_timeout(T)
        yield ctx
        ctx.close()


@pytest.fixture(scope="module")
def dafu_serve(tmp_path_factory):
    """`dafu serve` over a fresh index of the seed, built with `dafu index build` (fake encoder)."""
    with serve_index(tmp_path_factory.mktemp("dafu-serve"), SEED_DIR) as base:
        yield base


@pytest.fixture(scope="module")
def fake_server():
    import uvicorn
    from fastapi import FastAPI

    from ui.app import mount_ui

    backend, app = FakeBackend(), FastAPI()
    mount_ui(app, backend)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    base = f"http://127.0.0.1:{server.config.port}/"
    wait_http(base)
    yield base, backend
    server.should_exit = True
    th.join(15)


def ask(page, question: str) -> None:
    n = page.locator("#chat-log .answer .actions").count()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll('#chat-log .answer .actions').length > {n}", timeout=T)


def mark_in_view(page, scope: str) -> bool:
    return page.evaluate("""(scope) => {
        const m = document.querySelector(scope + ' mark'), box = document.querySelector(scope + ' .reply-text');
        const r = m.getBoundingClientRect(), b = box.getBoundingClientRect();
        return r.bottom > b.top && r.top < b.bottom && r.bottom > 0 && r.top < window.innerHeight;
    }""", scope)


def test_dafu_serve_answer_citation_highlight_and_screenshots(context, dafu_serve):
    base, out = dafu_serve, artifacts()
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base)
    page.wait_for_selector("#question textarea")
    ask(page, QUESTION)
    assert page.locator("#chat-log .notfound-answer").count() == 0
    assert page.locator("#chat-log .group.done").count() >= 1
    cite = page.locator("#chat-log li.point a.cite").first
    point_text = cite.locator("xpath=..").locator(".ptext").text_content()
    d = cite.evaluate("a => ({...a.dataset})")
    reply = httpx.get(f"{base}api/replies/{d['reply']}", trust_env=False).json()
    assert reply["text"][int(d["start"]):int(d["end"])] == point_text
    api_answer = httpx.post(f"{base}api/ask", json={"question": QUESTION}, trust_env=False, timeout=60).json()
    passage = next(c["passage"] for c in api_answer["citations"] if str(c["n"]) == d["n"])

    cite.click()
    page.wait_for_selector("#reply-view mark")
    mark = page.locator("#reply-view mark").text_content()
    assert mark == point_text  # the point's sentence is what is highlighted …
    assert page.locator("#reply-view .ctx").text_content() == passage  # … inside the cited passage
    assert mark in passage
    view_text = page.locator("#reply-view .reply-text").text_content()
    rs, re_ = reply["reply_span"]
    assert view_text == reply["text"][rs:re_].strip() and len(view_text) > len(passage)  # the whole letter …
    assert "建议/提案提出者" not in view_text and "答复内容" not in view_text  # … not the labelled file around it
    page.wait_for_function("() => { const m = document.querySelector('#reply-view mark'); "
                           "const b = document.querySelector('#reply-view .reply-text'); "
                           "return m && b && m.getBoundingClientRect().top >= b.getBoundingClientRect().top - 1; }")
    assert mark_in_view(page, "#reply-view")
    for s in ("提出者", "主办", "答复日期"):
        assert s in page.locator("#sources").text_content()
    page.screenshot(path=str(out / "chat_1280.png"))
    page.screenshot(path=str(out / "chat_1280_full.png"), full_page=True)

    # a source in the sources panel marks the whole cited passage
    page.locator(f"#sources a.src-passage[data-n='{d['n']}']").click()
    page.wait_for_function("(p) => document.querySelector('#reply-view mark')?.textContent === p", arg=passage)
    assert mark_in_view(page, "#reply-view")

    # a question about the record: the sentence made from its fields leads, the field line is its evidence
    ask(page, "第28号提案是哪个部门主办的？")
    last = page.locator("#chat-log .answer").last
    lead = last.locator(".group.direct .ptext").first.text_content()
    assert "教育体育局主办" in lead and "协办" in lead
    assert "依据" in last.locator(".group.field .group-h").text_content()
    last.locator(".group.direct a.cite").first.click()
    page.wait_for_selector("#reply-view mark")
    assert "主办" in page.locator("#reply-view mark").text_content()  # the cited field line, in the letter
    page.screenshot(path=str(out / "field_1280.png"))

    # phone width: no horizontal scrolling; the mark is scrolled into view after a click
    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(base)
    phone.wait_for_selector("#question textarea")
    ask(phone, QUESTION)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 392
    phone.screenshot(path=str(out / "chat_390.png"), full_page=True)
    phone.locator("#chat-log li.point a.cite").first.click()
    phone.wait_for_selector("#reply-view mark")
    phone.wait_for_function("() => { const r = document.querySelector('#reply-view mark').getBoundingClientRect(); "
                            "return r.top >= 0 && r.bottom <= window.innerHeight; }")
    assert phone.locator("#reply-view mark").text_content() == point_text
    phone.screenshot(path=str(out / "reply_390.png"))
    phone.close()
    page.close()


def test_hostile_markup_shown_as_text_and_chat_features(context, fake_server):
    base, backend = fake_server
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dlg: (dialogs.append(dlg.message), dlg.dismiss()))
    page.goto(base)
    page.wait_for_selector("#question textarea")
    page.fill("#f-proposer textarea, #f-proposer input", "张三")
    page.click("#f-year-from input")
    page.get_by_role("option", name="2023", exact=True).click()
    page.click("#f-depts input")
    page.keyboard.type("人社局")  # an alias: the option shows it beside the canonical name
    page.get_by_role("option", name="人力资源和社会保障局（人社局） · 1").click()
    page.keyboard.press("Escape")
    ask(page, "人社局做了哪些培训？")
    kind, call = backend.calls[-1]
    assert kind == "ask_stream" and not call["history"]
    assert call["filters"] == {"proposer": "张三", "year_from": 2023, "departments": ["人力资源和社会保障局"]}
    page.screenshot(path=str(artifacts() / "filters_1280.png"))
    ptext = page.locator("#chat-log .ptext").first.text_content()
    assert EVIL in ptext  # the document's markup is visible text …
    assert page.locator("#chat-log script, #chat-log b, #sources b, #sources i").count() == 0  # … and not markup
    page.locator("#chat-log li.point a.cite").first.click()
    page.wait_for_selector("#reply-view mark")
    assert page.locator("#reply-view mark").text_content() == ptext
    assert page.locator("#reply-view script, #reply-view b, #reply-view i").count() == 0
    assert "<b>培训</b>" in page.locator("#reply-view .reply-text").text_content()
    assert "<i>" in page.locator("#reply-view .reply-title").text_content()
    assert page.locator("#chat-log .group.done .badge.done").count() == 1
    assert page.locator("#chat-log .group.plan .badge.plan").count() == 1
    page.screenshot(path=str(artifacts() / "escaping_1280.png"))

    # copy: the answer with its citations as plain text
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base.rstrip("/"))
    page.locator("#chat-log .copy-btn").first.click()
    page.wait_for_selector("#chat-log .copy-btn:has-text('已复制')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "来源：" in copied and EVIL in copied and "[1]" in copied

    # feedback on the latest answer, with a comment
    first_id = page.locator("#chat-log .answer").first.get_attribute("data-answer")
    page.fill("#fb-comment textarea, #fb-comment input", "引用准确")
    page.click("#fb-up")
    page.wait_for_selector("#fb-status:has-text('谢谢')")
    assert backend.feedbacks[-1] == (first_id, "up", "引用准确")

    # follow-up: the earlier turn is sent as history
    ask(page, "那下一步呢？")
    assert backend.calls[-1][1]["history"] == [{"question": "人社局做了哪些培训？", "answer_id": first_id}]

    # not found: looks different and offers related replies that open
    ask(page, "火星探测器的发射计划是什么？")
    nf = page.locator("#chat-log .notfound-answer")
    assert nf.count() == 1 and "未找到" in nf.text_content()
    nf.locator("a.open-reply").first.click()  # the same letter as before, now opened without a highlight
    page.wait_for_selector("#reply-view mark", state="detached")
    assert "第12号建议" in page.locator("#reply-view .reply-title").text_content()

    # reply browser
    page.get_by_role("tab", name="答复浏览").click()
    page.wait_for_selector("#b-list a.open-reply")
    page.locator("#b-list a.open-reply").first.click()
    page.wait_for_selector("#b-view .reply-title")
    assert "第12号建议" in page.locator("#b-view").text_content()
    assert any(k == "list_replies" for k, _ in backend.calls)
    assert dialogs == []  # no <script> from a document ever ran
    page.close()
