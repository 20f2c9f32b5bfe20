"""Web pages saved from government portals (建议提案办理 / 政协提案答复): the letter and the metadata block.

The metadata block (索引号 / 发布机构 / 名称 / 生成日期 / 发布日期 …) is read into ``meta`` and written
as the first lines of ``Reply.text``; the letter follows. The letter is the page block with the
most Chinese prose (lxml); trafilatura is the fallback when no such block is found.
"""
from __future__ import annotations

import re
from pathlib import Path

from index.errors import UnsupportedFormatError
from index.ingest_limits import check_reply_chars
from index.extract import META_KEYS
from index.records import Reply
from index.textio import decode_bytes, normalize_newlines

_BLOCK = {
    "p", "div", "li", "ul", "ol", "tr", "table", "tbody", "thead", "h1", "h2", "h3", "h4", "h5", "h6", "section",
    "article", "main", "header", "footer", "blockquote", "pre", "center", "dl", "dt", "dd", "form", "td", "th", "body",
}
_DROP = {"script", "style", "noscript", "template", "iframe", "svg", "button", "select", "input", "textarea", "nav"}
_INLINE_PROSE = {"p", "span", "font", "strong", "b", "i", "em", "u", "br", "a", "sub", "sup", "label", "center"}
_NESTED = {"div", "table", "section", "article", "ul", "ol", "p"}  # a child div with these inside is a container, not a paragraph
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.I)
_KEY_ONLY = re.compile(rf"^({'|'.join(META_KEYS)})[ \t\u3000]*[:：]?$")
_KEY_VALUE = re.compile(rf"({'|'.join(META_KEYS)})[ \t\u3000]*[:：][ \t\u3000]*(.*?)(?=[ \t\u3000]+(?:{'|'.join(META_KEYS)})[ \t\u3000]*[:：]|$)")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def decode_html(data: bytes, source: str) -> str:
    m = _CHARSET.search(data[:4096])
    if m:
        enc = m.group(1).decode("ascii").lower()
        enc = "gb18030" if enc in ("gb2312", "gbk", "gb18030", "x-gbk") else enc
        try:
            return normalize_newlines(data.decode(enc))
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_bytes(data, source)


def block_text(el, cell_sep: str = "\n") -> str:
    """Text of an element with a line break at every block boundary; whitespace inside lines collapsed."""
    out: list[str] = []

    def walk(e) -> None:
        tag = e.tag.lower() if isinstance(e.tag, str) else ""
        if tag and tag not in _DROP:
            if tag in _BLOCK and tag not in ("td", "th"):
                out.append("\n")
            if e.text:
                out.append(e.text)
            for c in e:
                walk(c)
            if tag == "br":
                out.append("\n")
            elif tag in ("td", "th"):
                out.append(cell_sep)
            elif tag in _BLOCK:
                out.append("\n")
        if e.tail:
            out.append(e.tail)

    walk(el)
    lines = (re.sub(r"[ \t\r\f\v\xa0]+", " ", ln).strip() for ln in "".join(out).split("\n"))
    return "\n".join(ln for ln in lines if ln)


def read_meta(lines: list[str]) -> dict[str, str]:
    """索引号：xxx / 发布机构 | value cells -> {key: value}; the first value of each key wins."""
    meta: dict[str, str] = {}
    for i, line in enumerate(lines):
        k = _KEY_ONLY.match(line)
        if k and i + 1 < len(lines) and not _KEY_ONLY.match(lines[i + 1]) and not _KEY_VALUE.match(lines[i + 1]):
            meta.setdefault(k.group(1), lines[i + 1].strip()[:200])
            continue
        if _KEY_VALUE.match(line):
            for m in _KEY_VALUE.finditer(line):
                if m.group(2).strip():
                    meta.setdefault(m.group(1), m.group(2).strip()[:200])
    return meta


def _meta_blocks(root) -> list:
    """The smallest-enough elements holding the metadata block (≥2 keys, short), outermost only."""
    found = []
    for el in root.iter("table", "div", "ul", "dl", "section"):
        t = el.text_content()
        if len(t) >= 1200 or re.search(r"收悉|现答复如下|委员[:：]|代表[:：]", t):
            continue
        keys = {k for k in META_KEYS if re.search(k + r"[ \t\u3000\xa0]*[:：]", t)}
        keys |= {m.group(1) for c in el.iter("td", "th", "span", "b", "strong", "dt", "label", "em") if (m := _KEY_ONLY.match(c.text_content().strip()))}
        if len(keys) >= 2 and not any(a in found for a in el.iterancestors()):
            found.append(el)
    return found


def _score(el) -> int:
    """Chinese characters in the element's own prose (text, paragraphs, leaf divs), not in nested blocks."""
    n = len(_CJK.findall(el.text or ""))
    for c in el:
        tag = c.tag.lower() if isinstance(c.tag, str) else ""
        if tag in _INLINE_PROSE or (tag == "div" and not any(isinstance(g.tag, str) and g.tag.lower() in _NESTED for g in c.iterdescendants())):
            n += len(_CJK.findall(c.text_content()))
        n += len(_CJK.findall(c.tail or ""))
    return n


def _climb(best):
    """One paragraph per <div class=x> (x repeated): the letter is their parent, not the one div."""
    while (parent := best.getparent()) is not None:
        same = [c for c in parent if c.tag == best.tag and c.get("class") == best.get("class") and _CJK.search(c.text_content())]
        total = len(_CJK.findall(parent.text_content())) or 1
        if len(same) < 3 or sum(len(_CJK.findall(c.text_content())) for c in same) < 0.5 * total:
            return best
        best = parent
    return best


def _page_title(root, body_text: str) -> str:
    for el in root.iter("h1", "h2", "h3"):
        t = re.sub(r"\s+", "", el.text_content())
        if re.search(r"答复|提案|建议|复函", t) and t not in re.sub(r"\s+", "", body_text):
            return t
    title = root.find(".//title")
    if title is not None and title.text:
        t = re.split(r"[_|｜]| - ", title.text.strip())[0].strip()
        if re.search(r"答复|提案|建议|复函", t) and t not in body_text:
            return t
    return ""


def html_letter(data: bytes, source: str = "<html>") -> tuple[str, dict[str, str]]:
    """(text of the letter with the page title on top, metadata block)."""
    import lxml.html

    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", decode_html(data, source))
    if "<" not in html:
        raise UnsupportedFormatError(f"{source}: not an HTML page (no tags found); expected a web page saved as .html")
    try:
        root = lxml.html.document_fromstring(html)
    except Exception as e:
        raise UnsupportedFormatError(f"{source}: cannot parse the HTML ({type(e).__name__}: {e}); save the page again as 'HTML only'") from e
    for el in list(root.iter(*_DROP)):
        el.drop_tree()
    meta = read_meta(block_text(root).split("\n"))
    for el in _meta_blocks(root):
        el.drop_tree()
    candidates = [el for el in root.iter("div", "td", "article", "section", "main", "body")]
    best = max(candidates, key=_score, default=None)
    text = block_text(_climb(best), cell_sep="  ") if best is not None and _score(best) >= 30 else ""
    if len(_CJK.findall(text)) < 30:
        import trafilatura

        text = trafilatura.extract(html, include_tables=True, favor_recall=True, deduplicate=False) or ""
    if not text.strip():
        raise UnsupportedFormatError(f"{source}: no letter text found in the page; expected a page with the reply letter in it")
    title = _page_title(root, text)
    return (f"{title}\n{text}" if title else text), meta


def read_html(path: Path, data: bytes, options: dict) -> list[Reply]:
    from index.formats.text import reply_from_text

    letter, meta = html_letter(data, str(path))
    pairs = [(k, meta[k]) for k in META_KEYS if meta.get(k)]
    header = "".join(f"{k}：{v}\n" for k, v in pairs) if len(pairs) >= 2 else ""  # read back by read_meta_header
    text = f"{header}\n{letter}\n" if header else f"{letter}\n"
    check_reply_chars(text, str(path), options)
    reply, warns = reply_from_text(text, str(path), meta)
    options.setdefault("_warnings", []).extend(warns)
    return [reply]
