"""A delegate's session in a real browser at 1280 and 390 px, against `dafu serve` over replies of three districts
(eval/dev/corpus, fake encoder): ask, follow up, filter by a short department name, a filter that empties the
result (and dropping it), open a citation and come back, browse. Screenshots of every step go to
$DAFU_TEST_ARTIFACTS (default ./artifacts/session/). Also: /docs renders with every non-local request blocked.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.browser_support import ARGS, CHROMIUM, ROOT, T, artifacts, need_chromium
from tests.browser_support import dafu_serve as serve_index

pytestmark = [pytest.mark.slow,
              pytest.mark.filterwarnings("ignore:.*no_silent_downcasting", "ignore:The copy keyword is deprecated")]

CORPUS = ROOT / "eval" / "dev" / "corpus"
FILES = ["000_seed_tongzhou_28.txt", "003_tongzhou_rsj_2021_zhiyepeixun.txt", "004_haimen_rsj_2023_zhiyepeixun.txt",
         "006_tongzhou_mzj_2020_jujiayanglao.txt", "007_haimen_mzj_2022_laonianzhucan.txt",
         "008_chongchuan_mzj_2024_qianrushiyanglao.txt", "009_tongzhou_mzj_2023_nongcunhuzhuyanglao.txt",
         "011_tongzhou_zjj_2022_laojiuxiaoqu.txt"]
Q1 = "职业技能培训方面做了哪些工作？"
Q2 = "那海门区呢？"
Q3 = "养老服务方面做了哪些工作？"
TOKEN = "staff-token"


def shots() -> Path:
    return artifacts("session")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("session")
    corpus = tmp / "corpus"
    corpus.mkdir()
    for f in FILES:
        shutil.copy(CORPUS / f, corpus / f)
    with serve_index(tmp, corpus, DAFU_ADMIN_TOKEN=TOKEN) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def ask(page, question: str) -> None:
    n = page.locator("#chat-log .answer .actions").count()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(f"document.querySelectorAll('#chat-log .answer .actions').length > {n}", timeout=T)


def last_answer(page):
    return page.locator("#chat-log .answer").last


def viewer_reply(page) -> str:
    page.wait_for_function("document.querySelector('#reply-view .reply-view[data-reply]')", timeout=T)
    return page.locator("#reply-view .reply-view").get_attribute("data-reply")


def set_dept(page, name: str) -> None:
    page.click("#f-depts input")
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def open_filters(page) -> None:
    if page.locator("#f-depts").is_hidden():
        page.click("#filters .label-wrap")
        page.wait_for_selector("#f-depts", state="visible")


def pick_year(page, which: str, year: str) -> None:
    page.click(f"{which} input")
    page.locator(f"li[role=option][aria-label='{year}']").locator("visible=true").first.click()
    page.keyboard.press("Escape")


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_delegate_session(browser, server, width, height):
    out, tag = shots(), f"{width}"
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    ctx.set_default_timeout(T)
    page = ctx.new_page()
    page.goto(server)
    page.wait_for_selector("#question textarea")
    phone = width < 720
    page.wait_for_function("document.querySelector('#dafu-header')?.textContent.includes('已收录')")
    page.wait_for_timeout(600)
    # phones start with the filters folded into one line; desktops show them
    assert page.locator("#f-depts").is_hidden() is phone
    widths = [page.evaluate("document.querySelector('.gradio-container').getBoundingClientRect().width")]
    page.screenshot(path=str(out / f"01_start_{tag}.png"))

    # 1. ask: the answer, the sources, and the reply viewer follows the answer
    ask(page, Q1)
    a1 = last_answer(page)
    assert a1.locator(".group.done li.point").count() >= 1
    first_cite = a1.locator("a.cite").first.get_attribute("data-reply")
    assert viewer_reply(page) == first_cite
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 2
    widths.append(page.evaluate("document.querySelector('.gradio-container').getBoundingClientRect().width"))
    page.screenshot(path=str(out / f"02_answer_{tag}.png"), full_page=phone)
    if phone:  # the answer is in the page flow: no scrolling box inside the page
        assert page.evaluate("""() => { const l = document.querySelector('#chat-log');
            return [...l.querySelectorAll('*')].concat([l]).every(e => !/(auto|scroll)/.test(getComputedStyle(e).overflowY)
                   || e.scrollHeight <= e.clientHeight + 1); }""")

    # 2. follow-up: the viewer shows a reply of the NEW answer, not the previous one
    ask(page, Q2)
    a2 = last_answer(page)
    assert "海门" in (a2.locator(".rewritten").text_content() or Q2) or a2.locator(".point").count() >= 1
    new_cite = a2.locator("a.cite").first.get_attribute("data-reply")
    page.wait_for_function("(r) => document.querySelector('#reply-view .reply-view')?.dataset.reply === r", arg=new_cite)
    assert new_cite in [s.get_attribute("data-reply") for s in page.locator("#sources a.src-title").all()]
    widths.append(page.evaluate("document.querySelector('.gradio-container').getBoundingClientRect().width"))
    page.screenshot(path=str(out / f"03_followup_{tag}.png"), full_page=phone)

    # 3. filter by a short department name: the filter area says what it matched
    page.click("#clear")
    open_filters(page)
    set_dept(page, "民政")
    page.wait_for_function("document.querySelector('#filter-note')?.textContent.includes('民政 →')")
    note = page.locator("#filter-note").text_content()
    assert "海门区民政局" in note and "通州区民政局" in note and "崇川区民政局" in note
    label = page.locator("#filters .label-wrap").text_content()
    assert "民政 → " in label
    page.screenshot(path=str(out / f"04_filter_{tag}.png"))
    ask(page, Q3)
    cits = httpx.get(f"{server}api/replies", params={"departments": "民政", "page_size": 50}, trust_env=False).json()
    mz = {r["id"] for r in cits["items"]}
    assert {c.get_attribute("data-reply") for c in last_answer(page).locator("a.cite").all()} <= mz
    page.screenshot(path=str(out / f"05_filtered_answer_{tag}.png"), full_page=phone)

    # 4. a filter that empties the result: which one, and a button that drops it and asks again
    open_filters(page)
    pick_year(page, "#f-year-from", "2021")
    pick_year(page, "#f-year-to", "2021")
    page.wait_for_function("document.querySelector('#filter-note')?.textContent.includes('0 件')")
    ask(page, Q3)
    nf = last_answer(page)
    assert "notfound-answer" in nf.get_attribute("class")
    assert "「年份 2021」" in nf.locator(".emptied").text_content()
    page.screenshot(path=str(out / f"06_emptied_{tag}.png"), full_page=phone)
    n = page.locator("#chat-log .answer .actions").count()
    nf.locator(".drop-filter").click()
    page.wait_for_function(f"document.querySelectorAll('#chat-log .answer .actions').length > {n}")
    assert "notfound-answer" not in last_answer(page).get_attribute("class")
    assert page.locator("#f-year-from input").input_value() == "不限"
    page.screenshot(path=str(out / f"07_dropped_{tag}.png"), full_page=phone)

    # 5. open a citation and come back
    cite = last_answer(page).locator("a.cite").first
    cite.scroll_into_view_if_needed()
    y_before = page.evaluate("window.scrollY")
    cite.click()
    page.wait_for_function("document.querySelector('#reply-view mark') && document.querySelector('#reply-view .reply-view').dataset.auto === '0'")
    page.wait_for_function("() => { const r = document.querySelector('#reply-view mark').getBoundingClientRect(); "
                           "return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }")
    view = page.locator("#reply-view .reply-text").text_content()
    assert "答复内容" not in view and "建议/提案提出者" not in view  # the letter's body, not the labelled file
    page.screenshot(path=str(out / f"08_citation_{tag}.png"))
    if phone:
        assert page.locator("#reply-view.sheet-open").count() == 1
        back = page.locator("#reply-view .back-btn")
        assert back.is_visible() and "返回回答" in back.text_content()
        back.click()
        page.wait_for_selector("#reply-view.sheet-open", state="detached")
        assert abs(page.evaluate("window.scrollY") - y_before) < 900  # back near the answer, not 1,400 px down
        assert last_answer(page).locator("a.cite.active").first.is_visible()
        page.screenshot(path=str(out / f"09_back_{tag}.png"))
    else:
        assert page.locator("#reply-view .back-btn").is_hidden()

    # feedback icons are drawn without an emoji font
    bg = page.evaluate("getComputedStyle(document.querySelector('#fb-up'), '::before').backgroundImage")
    assert bg.startswith('url("data:image/svg+xml') and "👍" not in page.locator("#fb-up").text_content()

    # 6. browse: its own empty state, a reply opens (on a phone as a sheet with 返回列表)
    page.get_by_role("tab", name="答复浏览").click()
    page.wait_for_selector("#b-list a.open-reply")
    assert "[n]" not in page.locator("#b-view").text_content() and "左侧列表" in page.locator("#b-view").text_content()
    page.screenshot(path=str(out / f"10_browse_{tag}.png"), full_page=phone)
    page.locator("#b-list a.open-reply").first.click()
    page.wait_for_selector("#b-view .reply-title", state="visible")
    page.screenshot(path=str(out / f"11_browse_reply_{tag}.png"))
    if phone:
        assert "返回列表" in page.locator("#b-view .back-btn").text_content()
        page.locator("#b-view .back-btn").click()
        page.wait_for_selector("#b-view.sheet-open", state="detached")
    widths.append(page.evaluate("document.querySelector('.gradio-container').getBoundingClientRect().width"))
    assert max(widths) - min(widths) < 1, widths  # the layout width does not jump between states
    ctx.close()


def test_docs_render_offline(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def route(r):
        host = httpx.URL(r.request.url).host
        if host not in ("127.0.0.1", "localhost"):
            outside.append((r.request.resource_type, r.request.url))
            return r.abort()
        return r.continue_()

    ctx.route("**/*", route)
    page = ctx.new_page()
    page.goto(server + "docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=T)
    page.screenshot(path=str(shots() / "docs_1280.png"))
    page.goto(server + "redoc")
    page.wait_for_selector("[role=menuitem], .menu-content", timeout=T)
    # what the pages need (scripts, styles, fonts, the OpenAPI document) is all local; the one outside request
    # is ReDoc's "API docs by Redocly" footer logo, an image that simply does not show offline
    assert [u for kind, u in outside if kind != "image"] == []
    assert all("redoc" in u for _, u in outside)
    ctx.close()


def test_staff_review_tab(browser, server):
    """A staff member grades an answer a user got and exports it as a gold case, behind the admin token."""
    import json

    a = httpx.post(f"{server}api/ask", json={"question": "老旧小区改造做了哪些工作？"}, trust_env=False, timeout=60).json()
    assert a["points"]
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    ctx.set_default_timeout(T)
    page = ctx.new_page()
    page.goto(server)
    page.get_by_role("tab", name="审阅").click()
    page.fill("#r-token input", "wrong")
    page.click("#r-load")
    page.wait_for_selector("#r-msg .error-box")
    assert "token" in page.locator("#r-msg").text_content()
    page.fill("#r-token input", TOKEN)
    page.click("#r-load")
    item = page.locator(f"#r-list a[data-n='{a['answer_id']}']")
    item.wait_for()
    item.click()
    page.wait_for_selector("#r-detail .review-points")
    assert page.locator("[id^=r-grade-]:visible").count() == len(a["points"])
    page.locator("#r-grade-1").get_by_label("错误").check()
    page.fill("#r-missing textarea", "新增电梯")
    page.locator("#r-verdict").get_by_label("不完整").check()
    page.click("#r-save")
    page.wait_for_selector("#r-msg .ok-box")
    page.click("#r-export")
    page.wait_for_function("document.querySelector('#r-msg')?.textContent.includes('已导出')")
    page.screenshot(path=str(shots() / "12_review_1280.png"), full_page=True)
    got = httpx.post(f"{server}api/admin/reviews/export", headers={"Authorization": f"Bearer {TOKEN}"},
                     trust_env=False).json()
    case = next(c for c in map(json.loads, got["jsonl"].splitlines()) if c["review"]["answer_id"] == a["answer_id"])
    assert case["review"]["grades"][0] == "wrong" and case["review"]["verdict"] == "incomplete"
    assert "新增电梯" in case["must_include"] and a["points"][0]["text"] not in case.get("spans", [])
    ctx.close()
