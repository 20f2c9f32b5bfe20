"""Questions about a reply's own record: who proposed it, its number, the lead and co-handling units,
the reply date, the 办复类别. Answered from the record, each fact cited at the place in the letter
that states it (the labelled field line, the salutation or the signature)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.dates import parse_date
from index.parse import find_signature
from index.records import Reply, number_label
from service.units import written_units

CATEGORY_RE = re.compile(r"[^。\n]{0,30}(?:办复类别|答复类别|办理类别|办理结果|类别)[^。\n]{0,30}[ABC]\s*类[^。\n]{0,40}|"
                         r"[^。\n]{0,20}按\s*[ABC]\s*类\s*(?:办复|答复|办理)[^。\n]{0,40}|"
                         r"[^。\n]{0,20}(?:本件|此件|该件)?(?:答复|办理|办复)(?:结果)?(?:为|属于?|列为)\s*[ABC]\s*类[^。\n]{0,40}|"
                         r"[^。\n]{0,20}(?:本件|此件|该件|本提案|本建议|该提案|该建议)(?:为|属于?|列为|按)\s*[ABC]\s*类[^。\n]{0,40}")
CATEGORY_VALUE_RE = re.compile(r"([ABC])\s*类")
# "办理结果：A", "答复类型: B" (no 类), "办理结果：已解决（A）", or the letter's top line holding only "A类" / "（B）"
CATEGORY_LABEL_RE = re.compile(r"(?:办复类别|答复类别|办理类别|办理结果|答复类型|办复类型)\s*[:：]\s*(?:[^\nABC]{0,12}[（(]\s*)?([ABC])(?![A-Za-z])")
CATEGORY_TOP_RE = re.compile(r"^[ \t\u3000]*[（(]?\s*([ABC])\s*类?\s*[)）]?[ \t\u3000]*$", re.M)
FIELD_WORDS = {"lead_unit": "主办单位", "co_units": "协办单位", "reply_date": "答复日期", "proposer": "提出者",
               "number": "编号", "category": "办复类别", "title": "标题", "contact": "联系人", "issuer": "签发人",
               "doc_number": "文号", "kind": "类别（提案或建议）"}
# lines a letter labels itself: 联系人：赵鸿飞 联系电话：…, 签发人：邵景明, 桐教体函〔2023〕31号
_LABELLED = {"contact": r"(?:^|[（(\s])(?:联系人|联系电话)\s*[:：]\s*([^\s，,；;）)]+)",
             "issuer": r"签发人\s*[:：]\s*([^\s，,；;]+)",
             "doc_number": r"([\u4e00-\u9fff]{1,12}〔(?:19|20)\d{2}〕\s*\d+\s*号)"}


@dataclass
class FieldFact:
    field: str  # lead_unit | co_units | reply_date | proposer | number | category
    value: str  # for the sentence
    start: int  # span of the letter that states it
    end: int


def _line_span(text: str, pattern: str, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
    m = re.search(pattern, text[start:end] if end else text[start:])
    if not m:
        return None
    s = start + m.start()
    ls = text.rfind("\n", 0, s) + 1
    le = text.find("\n", s)
    le = len(text) if le < 0 else le
    # a labelled header can hold two fields on one line (提出者 … 提案号 …): keep to this field
    return ls, le


def _mention_span(text: str, start: int, end: int, units: list[str]) -> tuple[int, int] | None:
    """The sentence of the letter that first names one of `units` (or a short name of one: 区财政局, 区卫健委)."""
    from index.departments import department_table

    table = department_table()
    best = None
    for u in units:
        for name in {u, *table.aliases.get(table.canonical(u), [])}:
            if len(name) < 2:
                continue
            i = text.find(name, start, end)
            if i >= 0 and (best is None or i < best):
                best = i
    if best is None:
        return None
    a = max(text.rfind(c, start, best) for c in "。！；\n") + 1
    b = min([j for j in (text.find(c, best, end) for c in "。！；\n") if j >= 0] or [end])
    return max(a, start), min(b + 1, end)


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def _date_words(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日"


def facts(reply: Reply, wanted: list[str]) -> list[FieldFact]:
    """The asked fields of `reply` with the span of the letter that states each (skipped when unstated)."""
    t = reply.text
    rs, re_ = reply.reply_span
    head_end = reply.proposal_span[0] if reply.proposal_span[1] > reply.proposal_span[0] else rs
    out: list[FieldFact] = []
    units = written_units(reply) if {"lead_unit", "co_units"} & set(wanted) else ("", [])
    for f in wanted:
        span = None
        value = ""
        if f in ("lead_unit", "co_units"):
            value = units[0] if f == "lead_unit" else "、".join(units[1])
            if not value:
                continue
            span = None
            if rs and f == "co_units":  # its own line when the header has one (协办：…)
                span = _line_span(t, r"(?:协办|会办)(?:单位)?\s*[:：]", 0, rs)
            if span is None and rs:
                span = _line_span(t, r"(?:承办单位|办理单位|主办|协办)\s*[:：]", 0, rs)
            if span is None and f == "co_units":  # an unlabelled letter names them in its text (会同区财政局…)
                span = _mention_span(t, rs, re_ or len(t), reply.co_units)
            signed = None  # the signature, when it names the lead unit in full (霏川市商务局 under 主办：市商务局)
            if f == "lead_unit" and reply.signer and reply.signer.replace(" ", "") == value:
                i = t.rfind(value, rs, re_ or None)
                if i >= 0:
                    signed = (i, i + len(value))
            if signed is not None and (span is None or value not in t[slice(*span)]):
                if span is not None:
                    out.append(FieldFact(f, value, *_trim(t, *span)))  # both: the header's line and the signature
                span = signed
        elif f == "reply_date":
            value = reply.reply_date or reply.signed_date
            if not value:
                continue
            span = _line_span(t, r"(?:答复日期|答复时间|办复日期)\s*[:：]", 0, rs) if rs else None
            signed = None  # the date under the signature, as the letter writes it (二〇二三年六月三十日)
            _, _, sig = find_signature(t, rs, re_)
            for m in re.finditer(r"[^\n]+", t[sig:re_]):
                if parse_date(m.group(0)) == value:
                    signed = (sig + m.start(), sig + m.end())
                    break
            value = _date_words(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else value
            if span is not None and signed is not None and t[slice(*signed)].strip() not in t[slice(*span)]:
                out.append(FieldFact(f, value, *_trim(t, *signed)))  # both: the header's line and the signature's
            span = span or signed
        elif f == "proposer":
            value = reply.proposer
            if not value:
                continue
            span = _line_span(t, r"(?:提出者|提出人|提案人)\s*[:：]", 0, head_end)
            if span is None:
                i = t.find(value.split("、")[0], rs)
                if i >= 0:
                    span = _line_span(t, re.escape(value.split("、")[0]), rs, min(len(t), rs + 400))
            if span is not None:  # "葛婉清等4位委员" as the letter writes it, not the bare first name
                m = re.search(re.escape(value) + r"\s*等\s*(?:\d+|[一二三四五六七八九十]+)?\s*[位名人]?(?:委员|代表)?", t[span[0]:span[1]])
                if m:
                    value = m.group(0).strip()
        elif f == "number":
            value = reply.number
            if not value:
                continue
            span = _line_span(t, r"(?:提案号|建议号|编号)\s*[:：]", 0, head_end)
            digits = re.findall(r"\d+", value)
            if span is None and digits:  # "关于…第12号提案的答复", "（第12号）" in an unlabelled letter
                span = _line_span(t, rf"第\s*0*{digits[-1].lstrip('0') or '0'}\s*号|〔\d{{4}}〕\s*0*{digits[-1].lstrip('0') or '0'}\s*号",
                                  0, min(len(t), (rs or 0) + 600))
        elif f in _LABELLED:
            m = re.search(_LABELLED[f], t, re.M)
            if not m:
                continue
            value = m.group(1).strip()
            span = _line_span(t, re.escape(m.group(0).strip()), max(0, m.start()), None)
            if f == "contact" and span:  # the name and the telephone as the line gives them
                line = re.sub(r"^[（(\s]*|[）)\s。]*$", "", t[span[0]:span[1]])
                value = re.sub(r"^联系人\s*[:：]\s*", "", line) or value
        elif f == "kind":
            value = reply.kind
            if not value:
                continue
            ts, te = reply.title_span
            span = (ts, te) if te > ts else _line_span(t, r"提案|建议", 0, rs or None)
        elif f == "title":
            value = reply.title
            if not value:
                continue
            ts, te = reply.title_span
            span = (ts, te) if te > ts else _line_span(t, re.escape(value[:12]), 0, rs or None)
        elif f == "category":
            m = CATEGORY_RE.search(t, rs, re_ or len(t)) if rs else CATEGORY_RE.search(t)
            if m:
                v = CATEGORY_VALUE_RE.search(m.group(0))
                value = f"{v.group(1)}类" if v else m.group(0).strip()
                span = (m.start(), m.end())
            else:
                m = CATEGORY_LABEL_RE.search(t) or CATEGORY_TOP_RE.search(t, 0, min(len(t), 80))
                if not m:
                    continue
                value = f"{m.group(1)}类"
                span = _line_span(t, re.escape(m.group(0)), m.start(), m.end() + 1) or (m.start(), m.end())  # the whole line
        if span is None:
            continue
        s, e = _trim(t, *span)
        out.append(FieldFact(f, value, s, e))
    return out


# fields told as "办复类别为A类", in this order
_STATED_AS = (("category", "办复类别"), ("doc_number", "答复文号"), ("issuer", "签发人"), ("contact", "联系人"))


def sentence(reply: Reply, found: list[FieldFact], where: str = "") -> str:
    """One sentence from the record: 第28号提案由教育体育局主办，人力资源和社会保障局协办，2023年6月30日答复。
    `where` ("通州区2023年") goes in front of the number when letters of several years or places share it."""
    by = {f.field: f.value for f in found}
    kind = reply.kind or "提案/建议"
    subject = f"{where}{number_label(reply.number)}{kind}" if reply.number else f"《{reply.title}》" if reply.title else "这件答复"
    parts: list[str] = []
    if "proposer" in by:
        parts.append(f"由{by['proposer']}提出")
    if "lead_unit" in by:
        parts.append(f"由{by['lead_unit']}主办")
    if "co_units" in by:
        parts.append(f"{by['co_units']}协办" if "lead_unit" in by else f"由{by['co_units']}协办")
    if "reply_date" in by:
        parts.append(f"{by['reply_date']}答复")
    if "kind" in by:
        parts.append({"提案": "是政协委员的提案", "建议": "是人大代表的建议"}.get(by["kind"], f"是{by['kind']}"))
    parts += [f"{word}为{by[f]}" for f, word in _STATED_AS if f in by]
    if "title" in by and reply.title:  # 第112号建议是《关于…的建议》，由…提出
        head = f"{subject}是《{reply.title}》" if not subject.startswith("《") else f"这件答复回复的是{subject}"
        return head + ("，" + "，".join(parts) if parts else "") + "。"
    if "number" in by and subject.startswith("《"):
        parts.insert(0, f"编号为{by['number']}")
    elif "number" in by and reply.title:  # 《关于…的建议》是第56号建议，…
        head = f"《{reply.title}》是{subject}"
        return head + ("，" + "，".join(parts) if parts else "") + "。"
    elif "number" in by:
        return f"这件答复回复的是{subject}" + ("，" + "，".join(parts) if parts else "") + "。"
    if not parts:
        return ""
    title = f"（《{reply.title}》）" if reply.title and not subject.startswith("《") else ""
    return f"{subject}{title}" + "，".join(parts) + "。"
