"""Structure-aware chunking: headings 一、 (一) 1., sentence ends 。！？；, offsets into Reply.text."""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.labels import has_facts, heading_level, is_item, is_table_header, label_sentence, opens_list, restates
from index.extract import body_end, salutation_start
from index.parse import find_signature
from index.records import Chunk, Reply, Sentence

SENT_END = "。！？；!?;"
_SENT_RE = re.compile(r"[^。！？；!?;\n]*(?:[。！？；!?;]+[”’」』)）]*|\n|$)")
_INLINE_ITEM_RE = re.compile(r"^\s*(?:[一二三四五六七八九十]是|第[一二三四五六七八九十]{1,3}[，,、])")
_HEAD_TITLE_RE = re.compile(r"^[^。！？；!?;：:]{1,40}?(?=[。：:]|$)")


@dataclass
class _Sent:
    start: int
    end: int
    label: str
    path: tuple[str, ...]
    heading_only: bool = False


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans in text[start:end], whitespace trimmed; never empty."""
    out = []
    for m in _SENT_RE.finditer(text, start, end):
        s, e = m.start(), min(m.end(), end)
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def _heading_title(line: str) -> str:
    m = _HEAD_TITLE_RE.match(line.strip())
    t = (m.group(0) if m else line.strip()[:40]).strip()
    return re.sub(r"\s+", "", t)


def _sentences(reply: Reply, part: str, start: int, end: int) -> list[_Sent]:
    text = reply.text
    sig_start = end
    head_end = -1  # the salutation's offset; above it, the letter's head: title line, letterhead, 主办单位：…, 签发人：…
    if part == "reply":
        _, _, sig_start = find_signature(text, start, body_end(text, start, end))
        head_end = salutation_start(text, start, end)
    path: list[tuple[int, str]] = []
    out: list[_Sent] = []
    pos = start
    # a plan sentence that opens a list ("下一步将采取以下措施:一是…") makes its items plans too: the rest
    # of its paragraph, and the enumerated lines after it (until a heading at its own level or a plain paragraph)
    # the same for a restated list ("您在提案中提出三点建议：一是…"): its items are the proposal's, not the reply's
    item_list: tuple[int, int | None, str] | None = None  # (line start of the intro, its heading level, the items' label)
    lines = text[start:end].split("\n")
    for li, line in enumerate(lines):
        ls, le = pos, pos + len(line)
        pos = le + 1
        if not line.strip():
            continue
        lvl = heading_level(line)
        nxt = next((x for x in lines[li + 1:] if x.strip()), "")
        # an item whose title stands alone on its line and whose body is the next paragraph ("1.统一人员管理。")
        nlvl = heading_level(nxt) if nxt else None
        titled = lvl is not None and bool(nxt) and (
            (nlvl is None and not is_item(nxt.strip())) or (nlvl is not None and nlvl > lvl))
        if lvl is not None:
            path = [p for p in path if p[0] < lvl] + [(lvl, _heading_title(line))]
        hp = tuple(t for _, t in path)
        if item_list is not None and item_list[0] != ls:
            intro_lvl = item_list[1]
            if lvl is not None and (intro_lvl is None or lvl <= intro_lvl):
                item_list = None  # a heading at the intro's own level or above ends its list
            elif lvl is None and not is_item(line.strip()):
                item_list = None
        spans = split_sentences(text, ls, le)
        for i, (s, e) in enumerate(spans):
            sent = text[s:e]
            if part != "reply":
                label = part
            elif 0 <= s < head_end:
                label = "heading"  # names the letter; it is not evidence
            elif 0 <= head_end and ls <= head_end < le:
                label = "courtesy"  # the salutation (致公党青川市委员会：)
            else:
                label = label_sentence(sent, list(hp), is_signature=s >= sig_start)
                if item_list is not None and item_list[2] == "courtesy" and item_list[0] == ls and not is_item(sent):
                    item_list = None  # "…五是纳入医保。我们对照建议逐条研究，前四条已落实": the reply's own voice again
                if label in ("done", "plan") and item_list is not None:
                    label = item_list[2]
                intro = re.split(r"[:：]", sent, maxsplit=1)[0]
                level = lvl if lvl is not None else (path[-1][0] if path else None)
                if opens_list(sent) and restates(intro):
                    # "你们在提案中提出了四个方面的建议：一是…": the proposal's asks told back, item by item; none is
                    # work done or planned
                    label = "courtesy"
                    item_list = (ls, level, "courtesy")
                elif label == "plan" and opens_list(sent) and label_sentence(intro, list(hp)) == "plan":
                    # the items inherit the plan only when the intro itself promises ("下一步将采取以下措施:")
                    item_list = (ls, level, "plan")
            heading_only = lvl is not None and i == 0 and len(spans) == 1 and len(sent) <= 40 and not sent.endswith("。")
            if part == "reply" and label != "courtesy" and re.search(r"(?:以下|如下)[^。]{0,10}[:：]$", sent) and (
                    len(sent) <= 24 or not has_facts(re.sub(r"(?:19|20)\d{2}\s*年(?:度)?", "", sent))):
                label = "heading"  # '…形成以下做法:' introduces a list; it is not evidence itself
            inline = bool(_INLINE_ITEM_RE.match(sent)) and i + 1 < len(spans) and not (
                _INLINE_ITEM_RE.match(text[spans[i + 1][0]:spans[i + 1][1]]))
            short_title = len(sent) <= 18 and not re.search(r"[，,、；;]", sent)
            inline = inline and not re.search(r"[，,；;]|已", sent)  # a title has no clause and reports nothing
            if ((lvl is not None and i == 0 and (len(spans) > 1 or heading_only or (titled and short_title))) or inline) \
                    and len(sent) <= 30 \
                    and label != "courtesy" and part == "reply":
                label = "heading"  # '(一)党委政府高度重视。…' / '一是加强监管。…' names an item; it is not evidence (a one-sentence item is)
            if part == "reply" and label != "courtesy" and len(spans) == 1 and is_table_header(line):
                label = "heading"  # '序号 项目名称 建设内容 …
            out.append(_Sent(s, e, label, hp, heading_only))
    return out


def _dominant(labels: list[str]) -> str:
    for lab in ("done", "plan", "proposal", "title", "heading"):
        if lab in labels:
            return lab
    return "courtesy"


def chunk_reply(reply: Reply, target: int = 300, max_chars: int = 400, overlap: int = 1) -> list[Chunk]:
    """Chunks for the title, the proposal text and the reply letter of one reply.

    Sentences are packed within one section (same heading path) up to `target` characters
    (never beyond `max_chars` unless a single sentence is longer); neighbouring chunks of a
    section share `overlap` sentences. Courtesy sentences are chunked apart from evidence.
    """
    chunks: list[Chunk] = []
    ts, te = reply.title_span
    if te > ts:
        chunks.append(Chunk(f"{reply.id}#0", reply.id, reply.text[ts:te], ts, te, "title", [], "title",
                            [Sentence(ts, te, "title")]))
    for part, (s, e) in (("proposal", reply.proposal_span), ("reply", reply.reply_span)):
        if e <= s:
            continue
        sents = _sentences(reply, part, s, e)
        groups: list[list[_Sent]] = []
        for st in sents:
            kind = "courtesy" if st.label == "courtesy" else "evidence"
            if groups and groups[-1][-1].path == st.path and (
                "courtesy" if groups[-1][-1].label == "courtesy" else "evidence") == kind:
                groups[-1].append(st)
            elif groups and groups[-1][-1].heading_only and kind == "evidence" and st.path[: len(groups[-1][-1].path)] == groups[-1][-1].path:
                groups[-1].append(st)  # a heading line joins the text under it
            else:
                groups.append([st])
        for g in _merge_small(groups, target, max_chars):
            for window in _pack(g, target, max_chars, overlap):
                cs, ce = window[0].start, window[-1].end
                n = len(chunks)
                labels = [w.label for w in window]
                chunks.append(Chunk(
                    id=f"{reply.id}#{n}", reply_id=reply.id, text=reply.text[cs:ce], start=cs, end=ce,
                    part=part, heading_path=_common_path(window), label=_dominant(labels),
                    sentences=[Sentence(w.start, w.end, "heading" if w.heading_only and part == "reply" else w.label) for w in window],
                ))
    return chunks


def _common_path(window: list[_Sent]) -> list[str]:
    path = list(window[0].path)
    for w in window[1:]:
        n = 0
        while n < min(len(path), len(w.path)) and path[n] == w.path[n]:
            n += 1
        path = path[:n]
    return path


def _merge_small(groups: list[list[_Sent]], target: int, max_chars: int) -> list[list[_Sent]]:
    """Short neighbouring sections under the same top heading are packed together (up to `target`),
    so a letter of many one-paragraph sections does not become dozens of tiny chunks."""
    out: list[list[_Sent]] = []
    for g in groups:
        if out:
            prev = out[-1]
            same_kind = (prev[-1].label == "courtesy") == (g[0].label == "courtesy")
            same_top = prev[-1].path[:1] == g[0].path[:1] or g[0].label == "proposal"
            size = g[-1].end - prev[0].start
            if same_kind and same_top and prev[-1].end - prev[0].start < target // 2 and size <= max_chars:
                prev.extend(g)
                continue
        out.append(list(g))
    return out


def _pack(sents: list[_Sent], target: int, max_chars: int, overlap: int) -> list[list[_Sent]]:
    windows: list[list[_Sent]] = []
    i = 0
    while i < len(sents):
        j = i
        while j < len(sents):
            length = sents[j].end - sents[i].start
            if j > i and (length > max_chars or (sents[j - 1].end - sents[i].start) >= target):
                break
            j += 1
        windows.append(sents[i:j])
        if j >= len(sents):
            break
        i = max(j - overlap, i + 1)
    return windows
