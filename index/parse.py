"""Parser for the labelled text layout of the seed (建议/提案提出者, 标题, 答复内容 …)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from index.dates import parse_date
from index.departments import department_table, split_units
from index.salutation import kind_of_role, match_salutation
from index.errors import ParseError
from index.records import Reply

_PFX = r"(?:建议\s*/\s*提案|提案\s*/\s*建议|建议|提案)"
LABELS: dict[str, str] = {
    "proposer": _PFX + r"(?:提出者|提出人|人|者)",
    "number": _PFX + r"(?:号|编号)",
    "title": r"(?:" + _PFX + r")?(?:标\s*题|题\s*目|案\s*由)",  # 标题, 提案题目, 建议标题
    "proposal": _PFX + r"(?:内容|正文)",
    "units": r"(?:承办单位|办理单位)",
    "reply_date": r"(?:答复日期|答复时间|办复日期)",
    "reply": r"(?:答复内容|答复正文|答复意见)",
}
_COLON = r"[ \t\u3000]*[:：][ \t\u3000]*"
_LABEL_RE = re.compile(
    r"(?:(?<=^)|(?<=[\n \t\u3000]))(?P<label>" + "|".join(f"(?P<{k}>{v})" for k, v in LABELS.items()) + ")" + _COLON,
    re.M,
)
# 主办：/协办： on lines of their own (a form header: 主办：苇塘县民政局 / 协办：县卫健委); inside a 承办单位 line they
# belong to it (承办单位: 主办: 教体局 协办: 人社局)
_UNIT_LINE_RE = re.compile(r"^[ \t\u3000]*(?P<label>(?P<lead>主办单位|主办)|(?P<co>协办单位|会办单位|协办|会办)|"
                           r"(?P<who>领衔代表|领衔委员|领衔人|代表|委员))" + _COLON, re.M)
_UNIT_SUFFIX = r"(?:局|委|办|委员会|政府|中心|院|室|公司|处|厅|部|会|所|馆|站|队|集团|分局|办公室)"
SIGNER_RE = re.compile(r"^[\u4e00-\u9fff（）()·]{2,40}" + _UNIT_SUFFIX + r"$")
SEAL_RE = re.compile(r"[（(](?:盖章|印章|公章|签章|章)[)）]$")


@dataclass
class ParsedFields:
    values: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # name -> (value, start, end)


def has_labels(text: str) -> bool:
    """True when `text` looks like the labelled layout (an 答复内容 label at least)."""
    head = text[:4000]
    found = {next(k for k in LABELS if m.group(k)) for m in _LABEL_RE.finditer(head)}
    return "reply" in found or len(found) >= 2


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _label_fields(text: str, source: str) -> dict[str, tuple[int, int]]:
    found = [(m.start(), next(k for k in LABELS if m.group(k)), m) for m in _LABEL_RE.finditer(text)]
    found += [(m.start(), "lead" if m.group("lead") else "co" if m.group("co") else "who", m) for m in _UNIT_LINE_RE.finditer(text)]
    matches = []
    for _, name, m in sorted(found, key=lambda x: x[0]):
        matches.append((name, m))
        if name == "reply":
            break  # 答复内容 runs to the end: labels inside the letter are text
    if not any(n == "reply" for n, _ in matches):
        got = text.strip().splitlines()[0][:40] if text.strip() else "an empty file"
        raise ParseError(source, _line_of(text, len(text)), "a field '答复内容:' followed by the reply letter", got)
    spans: dict[str, tuple[int, int]] = {}
    for i, (name, m) in enumerate(matches):
        end = matches[i + 1][1].start() if i + 1 < len(matches) else len(text)
        if name in spans:
            raise ParseError(source, _line_of(text, m.start()), f"one '{m.group('label')}' field", "a second one")
        spans[name] = _strip_span(text, m.end(), end)
    return spans


def parse_units(value: str) -> tuple[str, list[str]]:
    """'主办: 教体局 协办: 人社局;发改委' -> ('教育体育局', ['人力资源和社会保障局', '发展和改革委员会']); 会办 is 协办."""
    table = department_table()
    m = re.search(r"主办(?:单位)?" + _COLON + r"(?P<lead>.*?)(?:[协会]办(?:单位)?" + _COLON + r"(?P<co>.*))?$", value, re.S)
    if m:
        lead_units = split_units(m.group("lead"))
        co = split_units(m.group("co") or "")
        co = lead_units[1:] + co
        lead = lead_units[0] if lead_units else ""
    else:
        m2 = re.search(r"[协会]办(?:单位)?" + _COLON + r"(?P<co>.*)$", value, re.S)
        head = value[: m2.start()] if m2 else value
        units = split_units(head)
        lead = units[0] if units else ""
        co = units[1:] + (split_units(m2.group("co")) if m2 else [])
    lead_c = table.canonical(lead)
    co_c: list[str] = []
    for u in co:
        c = table.canonical(u)
        if c and c != lead_c and c not in co_c:
            co_c.append(c)
    return lead_c, co_c


def find_signature(text: str, start: int, end: int) -> tuple[str, str, int]:
    """Signing unit and date at the foot of a letter within text[start:end].

    Returns (signer, iso_date, offset where the signature block starts) or ("", "", end).
    """
    lines = []
    pos = end
    body = text[start:end]
    for line in reversed(body.split("\n")):
        line_end = pos
        pos -= len(line) + 1
        if line.strip():
            lines.append((line.strip(), pos + 1, line_end))
        if len(lines) >= 4:
            break
    signer, sdate, sig_start = "", "", end
    for s, ls, _ in lines:
        if not sdate and (d := parse_date(s)) and len(s) <= 20:
            sdate, sig_start = d, min(sig_start, ls)
            continue
        unit = SEAL_RE.sub("", s.replace(" ", "").replace("\u3000", ""))  # 临江区卫生健康局（盖章）
        if not signer and SIGNER_RE.match(unit):
            signer, sig_start = unit, min(sig_start, ls)
            continue
        if sdate or signer:
            break
    return signer, sdate, max(sig_start, start)


def detect_kind(text: str, reply_start: int) -> tuple[str, str]:
    """(kind, proposer-from-salutation) from the salutation 'XX委员:' / 'XX代表:'."""
    for line in text[reply_start: reply_start + 400].split("\n")[:6]:
        if found := match_salutation(line):
            return kind_of_role(found[1]), found[0]
    head = text[reply_start: reply_start + 300]
    if re.search(r"提案(?:收悉|已收悉)", head) or "政协" in text[:reply_start + 300]:
        return "提案", ""
    if re.search(r"建议(?:收悉|已收悉)", head) or "人大" in text[:reply_start + 300]:
        return "建议", ""
    return "", ""


QUOTED_TITLE_RE = re.compile(r"《\s*(关于[^《》\n]{4,100}?)\s*》|[“\"「]\s*(关于[^”\"》」\n]{4,80}?)\s*[”\"」]")  # 《》 may hold “”
# unquoted: 您提出的关于加强…的建议收悉 / 您领衔提出的关于…的提案已收悉
BARE_TITLE_RE = re.compile(r"提出的(?:第\s*\d+\s*号)?(关于[^\n“”《》。；;]{4,80}?的(?:建议|提案|议案))(?=\s*(?:已\s*)?收悉|[，,。]|\s*的(?:提案|建议))")


_REPLY_TITLE = re.compile(r"(?:对|关于对)?《?(关于.{4,120}?的(?:提案|建议|议案))》?的(?:答复|复函|办理答复|答复函|办理情况(?:的)?答复)(?:函)?")


def title_from_letter(text: str, start: int, end: int) -> tuple[str, int, int] | None:
    """The proposal title named in the first lines of a letter: 您提出的“关于…的建议”… -> (title, start, end)."""
    stop = min(end, start + 600)
    m = QUOTED_TITLE_RE.search(text, start, stop) or BARE_TITLE_RE.search(text, start, stop)
    if not m:
        return None
    g = m.lastindex  # the alternative that matched (《…》 or “…”)
    return m.group(g), m.start(g), m.end(g)


def make_reply_id(number: str, reply_date: str, text: str) -> str:
    """Stable id: proposal number + reply date, else a content hash."""
    if number and reply_date:
        slug = re.sub(r"[^0-9A-Za-z]+", "-", number).strip("-")
        if not slug or slug != number.strip():
            h = hashlib.sha1(number.strip().encode("utf-8")).hexdigest()[:6]
            slug = f"{slug}-{h}" if slug else h
        return f"{slug}_{reply_date.replace('-', '')}"
    return "h" + hashlib.sha1(re.sub(r"\s+", "", text).encode("utf-8")).hexdigest()[:16]


def parse_labelled(text: str, source: str = "") -> tuple[Reply, list[str]]:
    """Parse a reply in the seed layout. Returns the record and warnings (fields missing or odd).

    Raises ParseError (file, line, what was expected) when the text is not in that layout.
    """
    spans = _label_fields(text, source)
    warnings: list[str] = []
    for k in ("number", "reply_date", "proposer", "who"):  # one-line fields end at the line's end
        if k in spans and (nl := text.find("\n", *spans[k])) >= 0:
            spans[k] = (spans[k][0], nl)
    if "proposer" not in spans and "who" in spans:  # 代表：彭怀安等5位代表 / 领衔委员：…
        spans["proposer"] = spans["who"]
    val = {k: text[s:e] for k, (s, e) in spans.items()}
    rs, re_ = spans["reply"]
    if rs >= re_:
        raise ParseError(source, _line_of(text, rs), "the reply letter after '答复内容:'", "nothing")
    number = re.sub(r"\s+", "", val.get("number", ""))
    raw_date = val.get("reply_date", "").strip()
    reply_date = parse_date(raw_date) or ""
    if raw_date and not reply_date:
        warnings.append(f"{source}:{_line_of(text, spans['reply_date'][0])}: 答复日期 {raw_date!r} is not a date like 2023-06-30; left empty")
    units = val.get("units", "")
    if not units.strip() and (val.get("lead", "").strip() or val.get("co", "").strip()):
        units = f"主办: {val.get('lead', '')} 协办: {val.get('co', '')}"
        val["units"] = units
    lead, co = parse_units(units)
    signer, sdate, _ = find_signature(text, rs, re_)
    kind, salut_name = detect_kind(text, rs)
    proposer = re.sub(r"\s+", "", val.get("proposer", "")) or salut_name
    if "who" in spans and spans.get("proposer") == spans["who"]:
        proposer = re.sub(r"(?<=.)(?:代表|委员)$", "", proposer)  # 代表：彭怀安等5位代表 → 彭怀安等5位
    sources = {k: "label" for k in ("proposer", "number", "title", "units", "reply_date") if val.get(k, "").strip()}
    if not val.get("proposer", "").strip() and salut_name:
        sources["proposer"] = "pattern:salutation"
    if not reply_date and sdate:
        reply_date = sdate
        sources["reply_date"] = "pattern:signature"
    if not lead and signer:
        lead = department_table().canonical(signer)
        sources["lead_unit"] = "pattern:signature"
    title = re.sub(r"\s+", " ", val.get("title", "")).strip()
    title_span = spans.get("title", (0, 0))
    if m := _REPLY_TITLE.fullmatch(title):  # 标题：关于X的提案的答复 — the title of the reply, naming the proposal's
        title = m.group(1)
        if title_span != (0, 0):
            at = text.find(title, title_span[0], title_span[1])
            title_span = (at, at + len(title)) if at >= 0 else title_span
    if not title and (found := title_from_letter(text, rs, re_)):
        title, title_span = found[0], (found[1], found[2])
        sources["title"] = "pattern:quoted-title"
    for k in ("number", "title", "reply_date"):
        if not locals().get(k) and not val.get(k, "").strip():
            warnings.append(f"{source}: field {k} is missing or empty")
    reply = Reply(
        id=make_reply_id(number, reply_date, text),
        text=text,
        source=source,
        proposer=proposer,
        number=number,
        kind=kind,
        title=title,
        proposal=val.get("proposal", ""),
        lead_unit=lead,
        co_units=co,
        reply_date=reply_date,
        reply_text=text[rs:re_],
        signer=signer,
        signed_date=sdate,
        proposal_span=spans.get("proposal", (0, 0)),
        reply_span=(rs, re_),
        title_span=title_span,
        field_sources=sources,
        content_hash=hashlib.sha1(text.encode("utf-8")).hexdigest(),
    )
    return reply, warnings
