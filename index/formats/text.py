"""Plain text and Markdown replies; the one place that decides labelled vs. unlabelled text."""
from __future__ import annotations

import re
from pathlib import Path

from index.errors import ParseError
from index.ingest_limits import check_reply_chars
from index.formats.layout import unwrap_text
from index.extract import complete_reply, extract_reply, read_meta_header, split_letters
from index.parse import LABELS, has_labels, parse_labelled
from index.records import Reply
from index.textio import decode_bytes

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ""}
_REPLY_LABEL = re.compile(r"(?:^|[\n \t\u3000])" + LABELS["reply"] + r"[ \t\u3000]*[:：]")
_MD = re.compile(r"^(?:#{1,6}[ \t]+|>[ \t]?)|\*\*|__", re.M)


def reply_from_text(text: str, source: str, meta: dict | None = None) -> tuple[Reply, list[str]]:
    """Labelled text (seed layout, 答复内容: …) -> parse_labelled; anything else -> extract_reply.

    A metadata block at the top (索引号：/发布机构：… from a portal page) is used to fill fields the
    labels leave empty. Raises ParseError when the text is not a reply letter at all.
    """
    head_meta, body_start = read_meta_header(text)
    meta_all = {**head_meta, **(meta or {})}
    body = text[body_start:].lstrip("\n") if body_start else text
    if has_labels(body) and _REPLY_LABEL.search(body):
        reply, warns = parse_labelled(body, source)
        return reply, complete_reply(reply, meta_all, warns)
    if not has_labels(body):
        return extract_reply(text, source, meta)
    try:
        reply, warns = extract_reply(text, source, meta)
    except ParseError:
        parse_labelled(body, source)  # raises the labelled layout's own error (expected '答复内容:' …)
        raise
    warns.insert(0, f"{source}: has field labels but no '答复内容:'; read as an unlabelled letter")
    return reply, warns


def replies_from_text(text: str, source: str, meta: dict | None = None) -> tuple[list[Reply], list[str]]:
    """Like :func:`reply_from_text`, for a file that may hold several signed letters one after another (a
    compilation): each becomes a reply of its own, with source ``file#letter2`` and offsets into its own text."""
    body = text[read_meta_header(text)[1]:]
    spans = [] if has_labels(body) and _REPLY_LABEL.search(body) else split_letters(text)  # the seed layout: one
    if len(spans) <= 1:
        reply, warns = reply_from_text(text, source, meta)
        return [reply], warns
    replies, warns = [], [f"{source}: {len(spans)} signed letters one after another; indexed as {len(spans)} replies"]
    for k, (a, b) in enumerate(spans, 1):
        try:
            reply, w = reply_from_text(text[a:b], f"{source}#letter{k}", meta)
        except ParseError as e:
            warns.append(f"{source}#letter{k}: skipped ({e})")
            continue
        replies.append(reply)
        warns.extend(w)
    return replies, warns


def read_text_reply(path: Path, data: bytes, options: dict) -> list[Reply]:
    text = decode_bytes(data, str(path))
    if not text.strip():
        raise ParseError(str(path), 1, "a reply letter (labelled fields such as '答复内容:' or a letter such as 'XX委员：…')", "an empty file")
    if path.suffix.lower() in (".md", ".markdown"):
        # markup blanked with spaces of the same length: '## 标题' -> '   标题', '**戴红玲委员：**' -> '  戴红玲委员：  '
        text = _MD.sub(lambda m: " " * len(m.group(0)), text)
    else:  # a PDF saved as text: page numbers, running headers and mid-sentence line breaks
        text = unwrap_text(text)
    check_reply_chars(text, str(path), options)
    replies, warns = replies_from_text(text, str(path))
    options.setdefault("_warnings", []).extend(warns)
    return replies
