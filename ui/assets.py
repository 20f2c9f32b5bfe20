"""CSS, page scripts and theme of the web chat (strings handed to gr.HTML / mount_gradio_app / launch)."""
from __future__ import annotations

import gradio as gr

FONTS = ["PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC",
         "WenQuanYi Zen Hei", "sans-serif"]


def theme() -> gr.themes.Base:
    return gr.themes.Soft(primary_hue="red", secondary_hue="amber", neutral_hue="slate", font=FONTS,
                          font_mono=["Noto Sans Mono CJK SC", "WenQuanYi Zen Hei Mono", "monospace"]).set(
        block_label_background_fill="transparent", block_label_text_color="*neutral_600",
        block_title_text_color="*neutral_600", block_label_padding="0 2px", block_title_padding="0 2px",
        block_label_text_size="*text_sm", block_title_text_size="*text_sm", body_background_fill="#f7f8fa")


# Document-level script (mount_gradio_app/launch `head=`): keep the light palette even when the phone is in
# dark mode, since the answer panels are designed on a light background.
HEAD = r"""<meta name="color-scheme" content="light">
<style>
/* page-level rules: the `css=` parameter is scoped inside .contain, so these live here. The width is fixed (not
   taken from the content), so the page does not jump between the empty state, an answer and a reply. */
.gradio-container { width: 100% !important; max-width: 1280px !important; min-width: 0 !important; margin: 0 auto !important; }
@media (max-width: 720px) { .gradio-container .main { padding: 8px 6px !important; } }
body.dafu-sheet-open { overflow: hidden; }
</style>
<script>
(function () {
  var fix = function () { if (document.body && document.body.classList.contains('dark')) document.body.classList.remove('dark'); };
  // phones: the filter panel starts collapsed (its header line says what is set)
  var collapseFilters = function (tries) {
    var btn = document.querySelector('#filters > .label-wrap, #filters button.label-wrap');
    if (!btn) { if (tries > 0) setTimeout(function () { collapseFilters(tries - 1); }, 150); return; }
    if (window.innerWidth <= 720 && btn.classList.contains('open')) btn.click();
  };
  var start = function () {
    fix();
    new MutationObserver(fix).observe(document.body, {attributes: true, attributeFilter: ['class']});
    collapseFilters(60);
  };
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
</script>"""


# js_on_load of the HTML panels that hold clickable marks/sources/reply links: one delegated listener.
# A click on <a data-reply …> becomes the component's "click" event with the link's data (see ui.app).
CLICK_JS = r"""
element.addEventListener('click', (ev) => {
  const copy = ev.target.closest('.copy-btn');
  if (copy && element.contains(copy)) {
    ev.preventDefault();
    const box = copy.closest('.answer');
    const text = box ? box.querySelector('textarea.plain').value : '';
    const done = () => { copy.textContent = '已复制'; setTimeout(() => { copy.textContent = '复制答案和出处'; }, 1600); };
    const fallback = () => {
      const t = document.createElement('textarea');
      t.value = text; t.setAttribute('readonly', ''); t.style.position = 'fixed'; t.style.opacity = '0';
      document.body.appendChild(t); t.select();
      try { document.execCommand('copy'); } catch (e) {}
      t.remove(); done();
    };
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done, fallback); }
    else { fallback(); }
    return;
  }
  const drop = ev.target.closest('.drop-filter');
  if (drop && element.contains(drop)) {
    ev.preventDefault();
    trigger('click', {drop: drop.dataset.drop || '', q: drop.dataset.q || '', t: Date.now()});
    return;
  }
  const a = ev.target.closest('a[data-reply]');
  if (!a || !element.contains(a)) return;
  ev.preventDefault();
  window.dafuOpener = a;  // where "返回" comes back to on a phone
  element.querySelectorAll('a.active').forEach((x) => x.classList.remove('active'));
  a.classList.add('active');
  const d = a.dataset;
  trigger('click', {reply: d.reply || '', start: d.start || '', end: d.end || '', cs: d.cs || '', ce: d.ce || '',
                    n: d.n || '', t: Date.now()});
});
"""

# js_on_load of the chat log: the delegated clicks above, and after each update keep the newest question at the
# top of the scrolling log while its answer streams in (Gradio's autoscroll would jump to the bottom instead).
CHAT_JS = CLICK_JS + r"""
let lastKey = '';
watch('value', () => requestAnimationFrame(() => {
  const turns = element.querySelectorAll('.turn');
  const last = turns[turns.length - 1];
  if (!last) { lastKey = ''; return; }
  const key = turns.length + ':' + !!last.querySelector('.streaming');
  if (key === lastKey && !last.querySelector('.streaming')) return;
  lastKey = key;
  let box = last.parentElement;
  while (box && box !== document.body && !/(auto|scroll)/.test(getComputedStyle(box).overflowY)) box = box.parentElement;
  if (!box || box === document.body) {  // phones: the chat is in the page flow; bring a new question to the top once
    if (last.querySelector('.streaming') && !last.dataset.shown) {
      last.dataset.shown = '1';
      window.scrollBy({top: last.getBoundingClientRect().top - 8});
    }
    return;
  }
  box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 6;
}));
"""

# js_on_load of the reply viewers: after each new value, scroll the <mark> into view inside the letter. On a phone a
# reply opened by a tap covers the page as a sheet with a "返回…" button that closes it and scrolls back to the tapped
# citation; a reply the chat opens by itself (following the latest answer) stays out of the way.
REPLY_JS = r"""
const phone = () => window.innerWidth <= 720;
const host = element.closest('#reply-view, #b-view') || element;  // the component's block (carries the elem_id)
const close = () => {
  host.classList.remove('sheet-open');
  document.body.classList.remove('dafu-sheet-open');
  const a = window.dafuOpener;
  if (a && document.body.contains(a)) { a.scrollIntoView({block: 'center'}); a.classList.add('active'); }
};
element.addEventListener('click', (ev) => {
  if (ev.target.closest('.back-btn')) { ev.preventDefault(); close(); }
});
const focusMark = () => {
  const view = element.querySelector('.reply-view');
  const opened = view && view.dataset.reply && view.dataset.auto !== '1';
  if (phone() && opened) {
    host.classList.add('sheet-open');
    document.body.classList.add('dafu-sheet-open');
    host.scrollTop = 0;
  } else if (!opened && host.classList.contains('sheet-open')) {
    close();
  }
  const m = element.querySelector('mark');
  const box = element.querySelector('.reply-text');
  if (!m) { if (box) box.scrollTop = 0; return; }
  if (host.classList.contains('sheet-open')) {
    host.scrollTop = Math.max(0, m.getBoundingClientRect().top - host.getBoundingClientRect().top - host.clientHeight / 3);
    return;
  }
  if (box) { box.scrollTop = Math.max(0, m.offsetTop - box.clientHeight / 3); }
  const r = m.getBoundingClientRect();
  if (opened && (r.top < 0 || r.bottom > window.innerHeight)) { m.scrollIntoView({block: 'center'}); }
};
watch('value', () => requestAnimationFrame(focusMark));
"""

CSS = r"""
#dafu-header { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; padding: 4px 2px 0; }
#dafu-header h1 { font-size: 1.6rem; margin: 0; color: #b42318; letter-spacing: 1px; }
#dafu-header .sub { color: #475467; font-size: .95rem; }
#dafu-header .stats { color: #667085; font-size: .85rem; margin-left: auto; }
.chat { display: flex; flex-direction: column; gap: 18px; padding: 6px 4px; font-size: 15px; line-height: 1.75; }
.welcome { background: #fff8f1; border: 1px solid #fde7d3; border-radius: 12px; padding: 14px 16px; color: #344054; }
.welcome-h { font-weight: 700; font-size: 1.05rem; margin-bottom: 4px; }
.cite-demo, a.cite { color: #b42318; font-weight: 700; font-size: .85em; vertical-align: super; line-height: 1; }
a.cite { text-decoration: none; margin-left: 2px; padding: 0 2px; border-radius: 4px; cursor: pointer; }
a.cite:hover, a.cite.active { background: #b42318; color: #fff; }
.q { display: flex; justify-content: flex-end; }
.q-bubble { background: #b42318; color: #fff; padding: 8px 14px; border-radius: 14px 14px 2px 14px; max-width: 85%;
  white-space: pre-wrap; word-break: break-word; }
.answer { background: #fff; border: 1px solid #e4e7ec; border-radius: 4px 14px 14px 14px; padding: 12px 16px;
  box-shadow: 0 1px 2px rgba(16,24,40,.05); word-break: break-word; }
.rewritten { font-size: .85rem; color: #475467; background: #f2f4f7; border-radius: 6px; padding: 3px 8px;
  display: inline-block; margin-bottom: 8px; }
.group { margin: 4px 0 10px; padding-left: 10px; border-left: 4px solid #12b76a; }
.group.plan { border-left-color: #2e90fa; }
.group-h { font-weight: 700; font-size: .95rem; margin-bottom: 2px; color: #027a48; }
.group-h.plan { color: #175cd3; }
.group.direct { border-left-color: #b42318; background: #fff8f6; border-radius: 0 8px 8px 0; padding: 4px 10px; }
.group-h.direct { color: #b42318; }
.src-tag { display: inline-block; font-size: .75rem; color: #b42318; background: #fee4e2; border-radius: 6px; padding: 0 6px;
  margin-right: 6px; line-height: 1.6; vertical-align: 1px; }
.group.reply { border-left-color: #98a2b3; }
.group-h.reply { color: #344054; }
ul.points { list-style: none; margin: 0; padding: 0; }
li.point { margin: 6px 0; }
.badge { display: inline-block; font-size: .72rem; font-weight: 700; border-radius: 10px; padding: 0 7px; margin-right: 6px;
  line-height: 1.6; vertical-align: 1px; }
.badge.done { background: #d1fadf; color: #05603a; }
.badge.plan { background: #d1e9ff; color: #1849a9; }
.notfound-answer { background: #fffaeb; border-color: #fedf89; }
.notfound-h { font-weight: 700; color: #b54708; }
.notfound-t { color: #6b4f1d; font-size: .92rem; }
.related { margin-top: 10px; }
.related-h { font-weight: 600; font-size: .9rem; color: #475467; }
.related ul, .reply-list ul { margin: 4px 0 0; padding-left: 0; list-style: none; }
.related li { padding: 4px 0; border-bottom: 1px dashed #eaecf0; }
a.open-reply, a.src-title, a.src-passage { color: #1d2939; text-decoration: none; cursor: pointer; }
a.open-reply:hover, a.src-title:hover, a.src-passage:hover { color: #b42318; text-decoration: underline; }
.meta { color: #667085; font-size: .85rem; }
.actions { margin-top: 10px; display: flex; gap: 8px; }
.copy-btn { font-size: .82rem; border: 1px solid #d0d5dd; border-radius: 8px; padding: 2px 10px; background: #fff;
  color: #344054; cursor: pointer; }
.copy-btn:hover { background: #f9fafb; }
.thinking, .streaming { color: #98a2b3; font-size: .85rem; }
.error-box { color: #b42318; background: #fef3f2; border-radius: 8px; padding: 8px 10px; }
.panel-h { font-weight: 700; font-size: 1rem; color: #101828; margin-bottom: 8px; }
.sources, .reply-view, .reply-list { font-size: 14px; line-height: 1.7; }
.sources.empty, .reply-view.empty, .reply-list.empty { color: #98a2b3; padding: 10px 2px; }
.src-card { border: 1px solid #e4e7ec; border-radius: 10px; padding: 10px 12px; margin-bottom: 10px; background: #fcfcfd; }
.src-title { font-weight: 600; display: block; text-align: left; line-height: 1.6; }
.num { display: inline-block; background: #fef3f2; color: #b42318; border-radius: 6px; padding: 0 6px; margin-right: 4px;
  font-size: .82rem; font-weight: 700; }
.src-meta, .reply-meta { display: flex; flex-wrap: wrap; gap: 2px 14px; margin: 6px 0; font-size: .85rem; color: #344054; }
.src-meta .k, .reply-meta .k { font-weight: 400; color: #667085; margin-right: 4px; }
ul.src-passages { list-style: none; margin: 4px 0 0; padding: 0; font-size: .85rem; }
ul.src-passages .n { color: #b42318; font-weight: 700; }
a.src-passage.active, a.src-title.active { color: #b42318; }
.reply-title { font-weight: 700; font-size: 1.02rem; }
.reply-text { position: relative; white-space: pre-wrap; word-break: break-word; max-height: 58vh; overflow-y: auto;
  background: #fff; border: 1px solid #e4e7ec; border-radius: 10px; padding: 12px 14px; font-size: 15px; line-height: 1.85; }
.reply-text .ctx { background: #fff7d6; }
.reply-text mark { background: #fde272; color: #101828; padding: 1px 0; border-bottom: 2px solid #f79009; }
.reply-list li { padding: 8px 0; border-bottom: 1px solid #eaecf0; }
#dafu-side { gap: 10px; }
#fb-row { align-items: center; }
#fb-status { min-height: 0; font-size: .85rem; color: #027a48; }
#examples-row button { font-size: .85rem; }
#chat-log .chat { background: #fff; border: 1px solid #e4e7ec; border-radius: 12px; padding: 12px; }
/* icons drawn as inline SVG (no emoji font needed) */
#fb-up::before, #fb-down::before { content: ""; display: inline-block; width: 15px; height: 15px; margin-right: 5px;
  vertical-align: -2px; background: no-repeat center / contain; }
#fb-up::before { background-image: url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' stroke='%23027a48' stroke-width='2' stroke-linecap='round' stroke-linejoin='round'%3E%3Cpath d='M7 10v12'/%3E%3Cpath d='M15 5.88 14 10h5.83a2 2 0 0 1 1.92 2.56l-2.33 8A2 2 0 0 1 17.5 22H4a2 2 0 0 1-2-2v-8a2 2 0 0 1 2-2h2.76a2 2 0 0 0 1.79-1.11L12 2a3.13 3.13 0 0 1 3 3.88Z'/%3E%3C/svg%3E"); }
#fb-down::before { background-image: url("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' stroke='%23b42318' stroke-width='2' stroke-linecap='round' stroke-linejoin='round'%3E%3Cpath d='M17 14V2'/%3E%3Cpath d='M9 18.12 10 14H4.17a2 2 0 0 1-1.92-2.56l2.33-8A2 2 0 0 1 6.5 2H20a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2h-2.76a2 2 0 0 0-1.79 1.11L12 22a3.13 3.13 0 0 1-3-3.88Z'/%3E%3C/svg%3E"); }
.nw { white-space: nowrap; }
#b-search, #r-load { align-self: flex-end; flex-grow: 0; height: 42px; min-height: 0; }
#main-row > *, #browse-row > * { min-width: 0; }
#filter-note { min-height: 0; font-size: .85rem; color: #475467; padding: 0 10px 6px; }
#filter-note .f-match b { color: #101828; }
#filter-note .f-count.warn { color: #b54708; font-weight: 600; }
.hint { background: #fffaeb; color: #93370d; border-radius: 6px; padding: 4px 8px; margin: 4px 0; font-size: .9rem; }
.emptied { color: #93370d; font-size: .92rem; margin: 4px 0; }
.drop-filter { font-size: .85rem; border: 1px solid #b42318; color: #b42318; background: #fff; border-radius: 8px;
  padding: 2px 10px; cursor: pointer; margin: 2px 0 6px; }
.drop-filter:hover { background: #fef3f2; }
.reply-top { display: flex; align-items: center; gap: 10px; }
.back-btn { display: none; }
details.proposal { margin: 4px 0 8px; font-size: .88rem; color: #344054; }
details.proposal summary { cursor: pointer; color: #475467; }
.proposal-text { white-space: pre-wrap; max-height: 30vh; overflow-y: auto; background: #f9fafb; border-radius: 8px;
  padding: 8px 10px; margin-top: 4px; }
.ok-box { color: #027a48; background: #ecfdf3; border-radius: 8px; padding: 8px 10px; }
ol.review-points li { margin: 6px 0; }
@media (max-width: 720px) {
  #chat-log .chat { padding: 8px; border-radius: 10px; }
  /* the answer flows with the page: no scrolling box inside the scrolling page */
  #chat-log, #chat-log > *, #chat-log .html-container { max-height: none !important; overflow: visible !important; }
  /* a tapped citation opens the reply as a sheet over the page, with 返回回答 */
  #reply-view:not(.sheet-open), #b-view:not(.sheet-open) { display: none !important; }
  #filters .label-wrap { text-align: left; }
  #reply-view.sheet-open, #b-view.sheet-open { position: fixed !important; inset: 0; z-index: 1000; background: #fff;
    overflow-y: auto !important; padding: 10px 12px 24px !important; margin: 0 !important; max-height: none !important; }
  .sheet-open .reply-text { max-height: none; overflow: visible; }
  .sheet-open .reply-top { position: sticky; top: -10px; background: #fff; padding: 8px 12px; margin: -10px -12px 4px;
    z-index: 1; border-bottom: 1px solid #eaecf0; }
  .sheet-open .back-btn { display: inline-block; font-size: .95rem; border: 1px solid #d0d5dd; border-radius: 8px;
    background: #fff; color: #b42318; padding: 4px 12px; }
  #dafu-header h1 { font-size: 1.3rem; }
  #dafu-header .stats { margin-left: 0; width: 100%; }
  .chat { font-size: 14.5px; }
  .q-bubble { max-width: 92%; }
  .answer { padding: 10px 11px; }
  .reply-text { max-height: 70vh; font-size: 14.5px; padding: 10px; }
  #main-row { flex-direction: column; }
  #main-row > * { width: 100% !important; min-width: 0 !important; }
  #examples-row { flex-wrap: wrap; }
  #examples-row button { flex: 1 1 100%; }
}
"""
