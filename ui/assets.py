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
/* page-level rules: the `css=` parameter is scoped inside .contain, so these live here */
.gradio-container { max-width: 1360px !important; margin: 0 auto !important; }
@media (max-width: 720px) { .gradio-container .main { padding: 8px 6px !important; } }
</style>
<script>
(function () {
  var fix = function () { if (document.body && document.body.classList.contains('dark')) document.body.classList.remove('dark'); };
  var start = function () {
    fix();
    new MutationObserver(fix).observe(document.body, {attributes: true, attributeFilter: ['class']});
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
    const done = () => { copy.textContent = '已复制 ✓'; setTimeout(() => { copy.textContent = '复制答案和出处'; }, 1600); };
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
  const a = ev.target.closest('a[data-reply]');
  if (!a || !element.contains(a)) return;
  ev.preventDefault();
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
  if (!box || box === document.body) return;
  box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 6;
}));
"""

# js_on_load of the reply viewer: after each new value, scroll the <mark> into view inside the letter.
REPLY_JS = r"""
const focusMark = () => {
  const m = element.querySelector('mark');
  const box = element.querySelector('.reply-text');
  if (!m) { if (box) box.scrollTop = 0; return; }
  if (box) { box.scrollTop = Math.max(0, m.offsetTop - box.clientHeight / 3); }
  const r = m.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight) { m.scrollIntoView({block: 'center'}); }
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
@media (max-width: 720px) {
  #chat-log .chat { padding: 8px; border-radius: 10px; }
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
