"""Page layout left in extracted text: page numbers, running headers and footers, lines wrapped inside a
paragraph. Used by the PDF reader (pages known) and by the text reader (a PDF saved as .txt, pages lost)."""
from __future__ import annotations

import re
from collections import Counter

# "— 2 —", "- 2 -", "2", "第2页", "2/4", "第 2 页 共 4 页", "第2页/共4页", "Page 2 of 4"
PAGE_NO = re.compile(
    r"^[-—－–\s]*(?:(?:第\s*)?\d+\s*页?\s*(?:(?:[/／]|，|,)?\s*共\s*\d+\s*页|[/／]\s*\d+\s*页?)?|"
    r"[Pp]age\s*\d+(?:\s*(?:of|/)\s*\d+)?)[-—－–\s]*$"
)
_ENDS_SENTENCE = tuple("。！？：:；;）)”\"》")
_STARTS_ITEM = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．](?!\d)|[①-⑩])")  # not 1.26亿元
_MAX_RUNNING = 40  # a running header or footer is one short line


def unwrap_lines(lines: list[str]) -> list[str]:
    """Join lines wrapped inside a paragraph: a full-width line not ending a sentence continues on the next.

    The width is the 90th percentile of the line lengths, so that one long table row does not set it."""
    lengths = sorted(len(s.strip()) for s in lines if s.strip())
    full = lengths[int(0.9 * (len(lengths) - 1))] if lengths else 0
    out: list[str] = []
    for line in lines:
        s = line.strip()
        prev = out[-1].strip() if out else ""
        if (
            out and s and prev and full >= 15 and len(prev) >= 0.85 * full
            and not prev.endswith(_ENDS_SENTENCE) and not _STARTS_ITEM.match(s)
            and len(prev.split()) < 4  # a flattened table row (cells apart) is a line of its own
        ):
            out[-1] = out[-1].rstrip() + s
        else:
            out.append(line)
    return out


def looks_hard_wrapped(lines: list[str]) -> bool:
    """True when the text was wrapped at a fixed width (a PDF or e-mail saved as text): many lines of about
    the same, greatest length break mid-sentence. A letter written one paragraph per line is not."""
    body = [s.strip() for s in lines if s.strip()]
    if len(body) < 10:
        return False
    lengths = sorted(len(s) for s in body)
    full = lengths[int(0.9 * (len(lengths) - 1))]
    if full < 15 or full > 120:
        return False
    broken = sum(1 for s in body if len(s) >= 0.85 * full and not s.endswith(_ENDS_SENTENCE))
    return broken >= 5 and broken >= 0.3 * len(body)


def running_lines(pages: list[list[str]]) -> set[str]:
    """Short lines, not sentences, that open or close several pages, one of them after the first: a running
    header or footer (on page one it may be the letterhead, which is kept)."""
    edges: Counter[str] = Counter()
    later: set[str] = set()
    for k, page in enumerate(pages):
        body = [s.strip() for s in page if s.strip()]
        for s in {*body[:1], *body[-1:]}:
            if len(s) <= _MAX_RUNNING and not s.endswith(_ENDS_SENTENCE):
                edges[s] += 1
                if k:
                    later.add(s)
    need = 2 if len(pages) <= 3 else max(2, len(pages) // 2)
    return {s for s, n in edges.items() if n >= need and s in later}


def pages_by_number_lines(lines: list[str]) -> list[list[str]]:
    """Split text that lost its page breaks at its page-number lines (the numbers themselves dropped)."""
    pages: list[list[str]] = [[]]
    for ln in lines:
        if PAGE_NO.match(ln) and ln.strip():
            pages.append([])
        else:
            pages[-1].append(ln)
    return pages


def clean_pages(pages: list[list[str]]) -> list[str]:
    """Lines of all pages with page numbers and running headers/footers (after page one) dropped, wrapped
    lines joined; a paragraph may continue overleaf."""
    pages = [[ln for ln in page if not (PAGE_NO.match(ln) and ln.strip())] for page in pages]
    running = running_lines(pages)
    kept: list[str] = []
    for k, page in enumerate(pages):
        body = list(page)
        if k and running:
            idx = [i for i, ln in enumerate(body) if ln.strip()]
            edge = {*idx[:1], *idx[-1:]}
            body = [ln for i, ln in enumerate(body) if not (i in edge and ln.strip() in running)]
        kept.extend(body)
    return unwrap_lines(kept)


def unwrap_text(text: str) -> str:
    """A hard-wrapped text (a PDF saved as .txt) as paragraphs; any other text unchanged."""
    lines = text.split("\n")
    if not looks_hard_wrapped(lines):
        return text
    pages = pages_by_number_lines(lines)
    return "\n".join(clean_pages(pages)).strip("\n") + "\n"
