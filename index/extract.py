"""Field extraction from UNLABELLED reply letters (Word, PDF, web pages, plain text).

Rules, not models: the proposal number, kind (提案/建议), proposer (from the salutation),
the proposal title, the replying department (letterhead or signature), the reply date and
the co-units are found with patterns; each found field records where it came from in
``Reply.field_sources`` ("pattern:salutation", "pattern:number", "meta:发布机构", …).

A metadata block at the top of the text (索引号：… / 发布机构：… / 名称：… as on government
portal pages) is read as ``meta`` and kept out of ``reply_span``.
"""
from __future__ import annotations

import hashlib
import re

from index.dates import parse_date
from index.departments import department_table, place_of
from index.errors import ParseError
from index.parse import SIGNER_RE, find_signature, make_reply_id
from index.records import Reply
from index.salutation import kind_of_role, match_salutation

META_KEYS = (
    "信息索引号", "索引号", "主题分类", "分类", "发布机构", "发文机关", "发文机构", "公开责任部门", "名称", "标题",
    "发文字号", "文号", "生成日期", "成文日期", "发文日期", "发布日期", "公开日期", "主题词", "关键词", "有效性",
    "公开方式", "公开范围", "来源", "信息来源", "发布时间", "字号", "浏览次数", "点击量", "责任编辑",
)
_KEY = "|".join(META_KEYS)
_META_PAIR = re.compile(rf"(?P<k>{_KEY})[ \t\u3000]*[:：][ \t\u3000]*(?P<v>.*?)(?=[ \t\u3000]+(?:{_KEY})[ \t\u3000]*[:：]|$)")
_META_LINE = re.compile(rf"^[ \t\u3000]*(?:{_KEY})[ \t\u3000]*[:：]")
META_DATE_KEYS = ("成文日期", "生成日期", "发文日期", "发布日期", "公开日期", "发布时间")
META_UNIT_KEYS = ("发布机构", "发文机关", "发文机构", "公开责任部门")
META_TITLE_KEYS = ("名称", "标题")

_CN_NUM = "一二三四五六七八九十两〇零"
_MANY = rf"(?:等[\d{_CN_NUM}]*[位名]?)?"
ORG_SALUTATION = re.compile(
    r"^[ \t\u3000]*(?:尊敬的)?(?P<names>[\u4e00-\u9fff（）()]{0,30}?(?:委员会|支部|总支|工委|联合会|工商联|界别|小组|代表团|代表组|"
    r"民革|民盟|民建|民进|农工党|致公党|九三学社|台盟|(?<=[\u4e00-\u9fff])[省市区县州]委会?))[ \t\u3000]*[:：]"
)
_PARTY = re.compile(r"民革|民盟|民建|民进|农工党|致公党|九三学社|台盟|工商联|党派")
MENTION = re.compile(
    rf"(?P<names>[\u4e00-\u9fff·]{{2,14}}(?:[、，,][\u4e00-\u9fff·]{{2,4}})*){_MANY}(?P<role>委员|代表)(?:在[^，。]{{2,30}}?)?(?:提出|领衔提出|所提|提交)的"
)
_MENTION_LEAD = re.compile(r"^(?:现将|现就|现对|关于对|关于|对于|对|将|就|收到|经研究|由|贵单位|您)+")
_NOT_NAMES = {"各位", "尊敬的", "人大", "政协", "区人大", "市人大", "区政协", "市政协"}

_OPEN, _CLOSE = re.escape("〔[［(（【"), re.escape("〕]］)）】")
_YEAR_NO = rf"[{_OPEN}]\s*(?:19|20)\d{{2}}\s*[{_CLOSE}]\s*第?\s*\d{{1,5}}"  # 〔2023〕28 / [2023]第28
_BRACKET = _YEAR_NO + r"\s*号"
_BRACKET_RX = re.compile(rf"(?P<n>{_BRACKET})\s*(?P<k>提案|建议)?")
NUMBER_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("pattern:number-label", re.compile(rf"(?:提案|建议)(?:号|编号)\s*[:：]\s*(?P<n>{_BRACKET}|第?\s*\d{{1,8}}\s*号?)")),
    ("pattern:number", re.compile(rf"(?<![{_CLOSE}]\s)(?<![{_CLOSE}])第\s*(?P<n>\d{{1,8}}|{_YEAR_NO})\s*号\s*(?P<k>提案|建议)")),
    ("pattern:number", _BRACKET_RX),
    ("pattern:number", re.compile(r"(?<![〕\]］)）】\d])第\s*(?P<n>\d{1,5})\s*号")),
]
_TITLE_BODY = r"[^《》“”\"「」\n]{4,120}"
_QUOTED_TITLE = rf"(?<=《)[^《》\n]{{4,120}}(?=》)|{_TITLE_BODY}"  # inside 《》 a title may quote: 《关于以“微更新”方式…的提案》
TITLE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("pattern:title-quoted", re.compile(rf"(?:您|你们|贵[^\n，。]{{1,6}})[^\n。]{{0,30}}?(?:提出|所提|领衔提出|提交)的(?:第\d+号)?[《“\"「](?P<t>{_QUOTED_TITLE})[》”\"」]")),
    ("pattern:title-quoted", re.compile(rf"(?:委员|代表)[^\n。]{{0,30}}?(?:提出|所提|领衔提出|提交)的[《“\"「](?P<t>{_QUOTED_TITLE})[》”\"」]")),
    ("pattern:title", re.compile(r"(?:提出|所提|提交)的(?P<t>关于[^\n《》“”，。]{4,100}?的(?:提案|建议))(?:收悉|已收悉|已收到|，|。|\s)")),
    ("pattern:title-quoted", re.compile(r"《(?P<t>关于[^《》\n]{4,120})》")),
    ("pattern:title-quoted", re.compile(r"[“\"「](?P<t>关于[^“”\"「」\n]{4,120})[”\"」]")),
]
_DOC_TITLE = re.compile(r"第\s*\d+\s*号|会议|答复$|复函$|的答复|的函$")
_ATTACHMENT = re.compile(r"^(?:附件|附)\s*\d*\s*(?:[:：]|$)")
_TRAILER = re.compile(r"^[（(]?(?:联系人|联系电话|联系单位|经办人|承办人|签发人|抄送|附件|此件|本件|公开方式|（此件)")
_CO_AFTER = re.compile(r"(?P<seg>[^。；;\n]{2,80}?)(?:等单位)?(?:协办|会办)(?:单位)?[。，,；;]")
_CO_END = r"(?:会办|协办|共同|一起|联合(?!会)|同意|进行|研究|办理|协商|沟通|意见|答复|的意见|。|；|;|\n)"
# a 协办/会办 label with its units ("协办单位：市财政局、市人社局"); "会同会办单位召开会商会" names none
_CO_UNITS = re.compile(rf"(?:协办单位|会办单位|协办|会办)(?:[:：]|[ \t\u3000]+)(?P<seg>[^。；;\n]{{2,80}}?){_CO_END}")
# units the reply was worked out with (会同市财政局研究, 并商…): co-handling units when the opening says so and
# no 协办/会办 statement names them; "我局会同县人社局将…" deep in the body is work done together, not handling
_CO_MENTION = re.compile(rf"(?:会同|经与|经商|并商|会商|商请|征求)(?P<seg>[^。；;\n]{{2,80}}?){_CO_END}")
# the letter's own statement that the reply was agreed with other units, wherever it stands ("本答复经商县财政局、
# 县人社局同意。" at its end); a bare 经商…同意 in the body reports a policy decision, not who handled the reply
_CO_AGREED = re.compile(r"(?:本答复|本件|此件|以上答复|该答复)[^。；;\n]{0,6}?(?:经商|经征求|商)(?P<seg>[^。；;\n]{2,80}?)(?:同意|意见)")
_SECTION_HEAD = re.compile(r"\n[ \t\u3000]*(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])")
_OPENING_MAX = 600
# people's organisations end otherwise: 县红十字会, 市总工会, 区妇联, 县残联, 市科协
_ORGANISATION = r"红十字会|工会|工商联|妇联|残联|科协|侨联|文联|团委"
_UNKNOWN_UNIT = re.compile(r"(?:区|市|县)[\u4e00-\u9fff]{1,10}?(?:局|委|办|中心|公司|分局|委员会|办公室|集团|银行|联合会|合作社|供销社|"
                           + _ORGANISATION + ")")
_PARTY_ORGAN = re.compile(r"(?:区|市|县|州)委[\u4e00-\u9fff]{1,6}?部")  # 县委宣传部, 区委组织部
# any unit a 协办/会办 statement lists (a company, a federation): 中国邮政集团有限公司青川市分公司, 县供销合作社
_STATED_UNIT = re.compile(r"(?![\u4e00-\u9fff]{0,6}(?:赴|到|前往|召开|组织|开展|邀请|进行))"
                          r"(?:[\u4e00-\u9fff（）()]{2,30}(?:局|委|办|中心|公司|委员会|办公室|集团|银行|联合会|合作社|供销社|协会|院|站|队|馆|街道|政府)|"
                          r"[\u4e00-\u9fff（）()]{1,30}(?:" + _ORGANISATION + "))")
_LETTER_CUES = ("提案", "建议", "答复", "委员", "代表", "收悉", "办理", "承办")


def read_meta_header(text: str) -> tuple[dict[str, str], int]:
    """Metadata lines at the top of `text` (portal pages): ({key: value}, offset where the letter starts)."""
    meta: dict[str, str] = {}
    pos, end_of_header = 0, 0
    for line in text.split("\n"):
        line_end = pos + len(line)
        if line.strip():
            if not _META_LINE.match(line):
                break
            for m in _META_PAIR.finditer(line.strip()):
                meta.setdefault(m.group("k"), m.group("v").strip())
            end_of_header = line_end
        pos = line_end + 1
    if len(meta) < 2:
        return {}, 0
    return meta, end_of_header


def normalize_number(raw: str) -> str:
    """'第28号' -> '28'; '[2023]28号' / '（2023）第28号' -> '〔2023〕28号'; '028' -> '28'."""
    s = re.sub(r"\s+", "", raw or "")
    m = re.fullmatch(rf"[{_OPEN}]((?:19|20)\d{{2}})[{_CLOSE}]第?0*(\d+)号?", s)
    if m:
        return f"〔{m.group(1)}〕{m.group(2)}号"
    m = re.fullmatch(r"第?0*(\d+)号?", s)
    if m:
        return m.group(1)
    return s


def looks_like_letter(text: str) -> bool:
    """Enough Chinese and at least one word a reply letter always has."""
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    visible = len(re.findall(r"\S", text))
    return cjk >= 20 and cjk >= 0.3 * visible and any(c in text for c in _LETTER_CUES)


def _lines(text: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """Non-empty lines of text[start:end] as (stripped line, start, end) with absolute offsets."""
    out, pos = [], start
    for line in text[start:end].split("\n"):
        s = line.strip()
        if s:
            a = pos + len(line) - len(line.lstrip())
            out.append((s, a, a + len(s)))
        pos += len(line) + 1
    return out


def _salutation(lines: list[tuple[str, int, int]]) -> tuple[int, tuple[str, str] | None, int]:
    """(index of the salutation line, (names, role), its offset) within the first lines; role is 委员/代表,
    or the organisation's name for an organisation's salutation."""
    for i, (s, a, _) in enumerate(lines[:16]):
        if _FIELD_LINE.match(s):  # 领衔代表：骆文涛代表 is a field of a form header, not the salutation
            continue
        if found := match_salutation(s) or ((org := _org_salutation(s)) and (org, org)):
            return i, found, a
    return -1, None, 0


def _org_salutation(line: str) -> str:
    """The organisation a salutation line addresses (县工商联：, 民盟青川市委：), else ''."""
    m = ORG_SALUTATION.match(line)
    if not m or m.group("names") in _NOT_NAMES:
        return ""
    if re.search(r"[省市区县州]委会?$", m.group("names")) and not _PARTY.search(m.group("names")):
        return ""  # 民盟青川市委： is a party's committee; a bare 区委： is not a proposer
    return m.group("names")


def _is_date_line(line: str) -> bool:
    """A line that is a date and nothing more (a signature's 2023年6月18日)."""
    return len(line) <= 20 and bool(parse_date(line))


def _clean_names(names: str) -> str:
    return re.sub(r"[，,]", "、", re.sub(r"^尊敬的", "", names))


def _mention_names(names: str) -> str:
    """'现将李娜' -> '李娜': drop the words in front of a name mentioned in the third person."""
    parts = re.split(r"[、，,]", names)
    first = _MENTION_LEAD.sub("", parts[0])
    parts[0] = first if 2 <= len(first) <= 4 else first[-3:]
    return "、".join(parts)


def _signature_on_one_line(last: list[tuple[str, int, int]]) -> tuple[str, str] | None:
    """'南通市通州区教育体育局  2023年5月22日' on one line -> (unit, iso date)."""
    for s, _, _ in reversed(last):
        m = re.fullmatch(r"(?P<u>[\u4e00-\u9fff（）()·]{2,40})[ \t\u3000]+(?P<d>\S{6,16}日)", s)
        if m and SIGNER_RE.match(m.group("u")) and (d := parse_date(m.group("d"))):
            return m.group("u"), d
    return None


def _letterhead_unit(lines: list[tuple[str, int, int]], stop: int) -> str:
    table = department_table()
    for s, _, _ in lines[: max(1, min(stop, 3))]:
        cand = re.sub(r"(?:文件|便函|函|公函)$", "", s.replace(" ", "").replace("\u3000", ""))
        if _FIELD_LINE.match(s) or "、" in cand:  # 协办单位：县财政局、县人社局 is a field line, not the letterhead
            continue
        if SIGNER_RE.match(cand) or table.known(cand):
            return cand
    return ""


_FIELD_LINE = re.compile(r"^[ \t\u3000]*[\u4e00-\u9fff/]{1,8}[ \t\u3000]*[:：][ \t\u3000]*\S")


def split_letters(text: str) -> list[tuple[int, int]]:
    """Spans of the letters in a compilation (several signed replies one after another, as in a yearly
    汇编 exported to one Word or PDF file): a letter ends with its signature date (and any contact, 抄送 or
    附件 lines after it) when another salutation follows. One span for an ordinary letter."""
    lines = _lines(text, 0, len(text))
    # a field line (领衔代表：骆文涛代表, 答复日期：2024-07-10) is neither a salutation nor a signature date
    field = [bool(_FIELD_LINE.match(s)) for s, _, _ in lines]
    sal = [i for i, (s, _, _) in enumerate(lines)
           if len(s) <= 60 and not field[i] and (match_salutation(s) or _org_salutation(s))]
    cuts: list[int] = []
    for prev, nxt in zip(sal, sal[1:]):
        dates = [i for i in range(prev + 1, nxt) if _is_date_line(lines[i][0]) and not field[i]]
        if not dates:
            continue  # no signature between them: one letter (a salutation quoted inside it)
        k = dates[-1] + 1
        while k < nxt and _TRAILER.match(lines[k][0]):  # 联系人 / 抄送 / 附件 belong to the letter above
            k += 1
        cuts.append(lines[k][1] if k < nxt else lines[nxt][1])
    if not cuts:
        return [(0, len(text))]
    bounds = [0, *cuts, len(text)]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]


def salutation_start(text: str, start: int, end: int) -> int:
    """Offset of the salutation line (戴红玲委员：) among the first lines of text[start:end], else -1."""
    i, _, at = _salutation(_lines(text, start, min(end, start + 1500)))
    return at if i >= 0 else -1


def body_end(text: str, start: int, end: int) -> int:
    """Drop trailing contact / 抄送 / 附件 lines so the signature is the last thing."""
    for s, a, _ in reversed(_lines(text, start, end)):
        if _TRAILER.match(s) or re.fullmatch(r"[-—－\s]*\d+[-—－\s]*", s):
            end = a
            continue
        break
    return end


def find_number(regions: list[tuple[str, str]], loose: list[str] | None = None) -> tuple[str, str, str]:
    """(normalised number, kind hinted by it or '', field source) from the first pattern that matches.

    `regions` are (text, source override or '') searched in order for each pattern, most specific first.
    `loose` regions (the letter body) only count a number written with 提案/建议 next to it, so that
    '根据第3号令' deep in the body is not taken for the proposal number.
    """
    for source, rx in NUMBER_PATTERNS:
        for region, override in [*regions, *((r, "") for r in (loose or []))]:
            strict = (region, override) not in regions
            for m in rx.finditer(region):
                if strict and source != "pattern:number-label" and not m.groupdict().get("k"):
                    continue
                if rx is _BRACKET_RX and not m.group("k"):
                    before = region[: m.start()].rstrip()
                    if before and re.match(r"[\u4e00-\u9fff]", before[-1]) and before[-1] not in "第号为是":
                        continue  # 通教提复〔2023〕12号 is the reply's own document number
                kind = m.groupdict().get("k") or ""
                return normalize_number(m.group("n")), kind, override or source
    return "", "", ""


def find_title(text: str, start: int, end: int) -> tuple[str, tuple[int, int], str]:
    for source, rx in TITLE_PATTERNS:
        for m in rx.finditer(text, start, end):
            t = m.group("t").strip()
            if _DOC_TITLE.search(t) and not t.endswith(("提案", "建议")):
                continue
            if re.search(r"第\s*\d+\s*号", t):
                continue
            return t, (m.start("t"), m.start("t") + len(t)), source
    return "", (0, 0), ""


def title_from_doc_title(name: str) -> str:
    """'关于《关于X的建议》的答复' / '对关于X的建议的答复' -> '关于X的建议'; '关于…第28号提案的答复' -> ''."""
    m = re.search(r"[《“](关于[^》”]{4,120})[》”]", name)
    if m:
        return m.group(1)
    m = re.fullmatch(r"(?:对|关于对)?(关于.{4,120}?的(?:提案|建议))的(?:答复|复函|办理答复)(?:函)?", name.strip())
    if m and not re.search(r"第\s*\d+\s*号", m.group(1)):
        return m.group(1)
    return ""


def _units_in(seg: str, stated: bool) -> list[str]:
    """The units a stretch of the letter names (canonical where the alias table knows them). In a statement of
    who handled it (stated) each listed piece is a unit: one the table knows (国家税务总局松澜县税务局 → 税务局),
    else the piece as written (区公安分局交通警察大队, 中国邮政集团有限公司枫林市分公司)."""
    table = department_table()
    names: list[str] = []
    for piece in re.split(r"[、，,；;\s]+", seg):
        if not piece:
            continue
        if stated:
            if table.known(piece):
                names.append(table.canonical(piece))
                continue
            found = table.find_in(piece)
            if len(found) == 1 and any(piece.endswith(a) for a in [found[0], *table.aliases.get(found[0], [])]):
                names.append(found[0])
                continue
            if _STATED_UNIT.fullmatch(piece) and not re.search(r"[和与及]", piece[:-4] if len(piece) > 4 else ""):
                names.append(table.canonical(piece[1:]) if piece[0] in "区市县" and table.known(piece[1:]) else piece)
                continue
        names.extend(table.find_in(piece))
        rest = piece
        for alias in table.all_names():
            rest = rest.replace(alias, "、")
        for part in re.split(r"[、及与和\s]+", rest):
            if _PARTY_ORGAN.fullmatch(part):  # 县委宣传部: the place is part of its name
                names.append(part)
            elif _UNKNOWN_UNIT.fullmatch(part):  # a unit the alias table lacks, written like 区政法委
                names.append(table.canonical(part) if table.known(part) else part[1:])
    return names


def find_co_units(text: str, start: int, end: int, lead: str) -> list[str]:
    """Co-handling units: those a 协办/会办 statement names (…主办，市财政局、市人社局协办; 会办单位：…), else
    those the opening says the reply was worked out with (我局会同市财政局认真研究…)."""
    table = department_table()
    stop = min(end, start + 3000)
    segs = [m.group("seg") for m in _CO_UNITS.finditer(text, start, stop)]
    segs += [re.split(r"[，,]", m.group("seg"))[-1] for m in _CO_AFTER.finditer(text, start, stop)]
    names = [n for seg in segs for n in _units_in(seg, True)]
    if not names:
        head = _SECTION_HEAD.search(text, start, stop)
        opening = min(head.start() if head else stop, start + _OPENING_MAX)
        # "由我局会同区城管局、区公安分局交通警察大队共同办理": handled together, so each piece is a unit
        names = [n for m in _CO_MENTION.finditer(text, start, opening)
                 for n in _units_in(m.group("seg"), m.group(0).endswith(("共同", "联合", "一起", "办理", "同意")))]
    if not names:
        names = [n for m in _CO_AGREED.finditer(text, start, end) for n in _units_in(m.group("seg"), True)]
    lead_c = table.canonical(lead) if lead else ""
    out: list[str] = []
    seen: set[str] = set()
    for n in names:  # the lead, however written, is not a co-unit; a unit written twice (共青团蔹阳县委员会, 团县委) is one
        c = table.canonical(n) if n else ""
        if n and n != lead and c != lead_c and c not in seen:
            out.append(n)
            seen.add(c)
    return out


def find_kind(role: str, role_source: str, number_kind: str, head: str, meta_text: str) -> tuple[str, str]:
    """提案 (CPPCC: 委员, 政协) vs 建议 (people's congress: 代表, 人大), with where it was decided."""
    if role:
        return kind_of_role(role), role_source
    if number_kind:
        return number_kind, "pattern:number"
    for blob, src in ((head, "pattern:body"), (meta_text, "meta")):
        zx, rd = blob.count("政协") + blob.count("委员"), blob.count("人大") + blob.count("代表")
        if zx != rd:
            return ("提案" if zx > rd else "建议"), src
        if re.search(r"提案(?:已?收悉|已收到)", blob):
            return "提案", src
        if re.search(r"建议(?:已?收悉|已收到)", blob):
            return "建议", src
    return "", ""


def extract_reply(text: str, source: str, meta: dict | None = None) -> tuple[Reply, list[str]]:
    """Fields of an unlabelled reply letter. Raises ParseError when `text` is not a Chinese letter at all."""
    if not text.strip():
        raise ParseError(source, None, "a reply letter in Chinese", "an empty text")
    head_meta, body_start = read_meta_header(text)
    meta = {**head_meta, **(meta or {})}
    if not looks_like_letter(text[body_start:]):
        got = re.sub(r"\s+", " ", text.strip())[:40]
        raise ParseError(source, None, "a reply letter in Chinese (salutation such as 'XX委员：', words like 答复/提案/建议)", got)
    warnings: list[str] = []
    sources: dict[str, str] = {}
    end = len(text)
    lines = _lines(text, body_start, end)
    rs = lines[0][1] if lines else body_start
    re_ = lines[-1][2] if lines else end
    sal_i, sal, _ = _salutation(lines)
    # an attachment after the signed letter ("附件：提案原文" and the proposal): not part of the reply; when it is
    # the proposal itself, it is the proposal text
    proposal_span = (0, 0)
    for k in range(max(sal_i, 0) + 1, len(lines)):
        if _ATTACHMENT.match(lines[k][0]) and any(_is_date_line(x[0]) for x in lines[max(0, k - 4):k]):
            if re.search(r"提案|建议|议案|原文", lines[k][0]) and k + 1 < len(lines):
                proposal_span = (lines[k + 1][1], lines[-1][2])
            re_ = lines[k - 1][2]
            lines = lines[:k]
            break
    intro_end = lines[min(sal_i + 3, len(lines) - 1)][2] if sal_i >= 0 else min(end, rs + 800)
    head = text[rs:intro_end]
    meta_title = next((meta[k] for k in META_TITLE_KEYS if meta.get(k)), "")

    title_key = next((k for k in META_TITLE_KEYS if meta.get(k)), "")
    # a bare 第N号 counts above the salutation and in the first paragraph only
    num_head = text[rs:lines[min(sal_i + 1 if sal_i >= 0 else 2, len(lines) - 1)][2]] if lines else ""
    number, num_kind, src = find_number([(num_head, ""), (meta_title, f"meta:{title_key}")], loose=[text[body_start:end][:3000]])
    if number:
        sources["number"] = src
    proposer, role = "", ""
    if sal:
        proposer, role = _clean_names(sal[0]), sal[1]
        sources["proposer"] = "pattern:salutation"
    elif m := MENTION.search(head):
        proposer, role = _mention_names(m.group("names")), m.group("role")
        sources["proposer"] = "pattern:mention"
    kind, ksrc = find_kind(role, sources.get("proposer", ""), num_kind, head, meta_title + meta.get("分类", ""))
    if kind:
        sources["kind"] = ksrc

    title, title_span, tsrc = find_title(text, rs, min(end, intro_end + 200))
    if not title and meta_title and (t := title_from_doc_title(meta_title)):
        at = text.find(t, 0, body_start)
        title, title_span, tsrc = t, ((at, at + len(t)) if at >= 0 else (0, 0)), f"meta:{title_key}"
    if title:
        sources["title"] = tsrc

    table = department_table()
    sig_end = body_end(text, rs, re_)
    signer, sdate, _ = find_signature(text, rs, sig_end)
    if not sdate:
        signer, sdate = _signature_on_one_line(_lines(text, rs, sig_end)[-3:]) or (signer, sdate)
    lead = ""
    if unit := _letterhead_unit(lines, sal_i if sal_i >= 0 else 3):
        lead, sources["lead_unit"] = table.canonical(unit), "pattern:letterhead"
    elif signer:
        lead, sources["lead_unit"] = table.canonical(signer), "pattern:signature"
    elif k := next((k for k in META_UNIT_KEYS if meta.get(k)), None):
        lead, sources["lead_unit"] = table.canonical(meta[k]), f"meta:{k}"
    reply_date = sdate
    if sdate:
        sources["reply_date"] = "pattern:signature"
    elif k := next((k for k in META_DATE_KEYS if meta.get(k) and parse_date(meta[k])), None):
        reply_date, sources["reply_date"] = parse_date(meta[k]) or "", f"meta:{k}"
    co_units = find_co_units(text, rs, re_, lead)
    if co_units:
        sources["co_units"] = "pattern:co-units"
    if signer:
        sources["signer"] = "pattern:signature"
    elif sources.get("lead_unit") == "pattern:letterhead" and place_of(unit):
        # signed with a date only: the letterhead names the unit, and with it the place (东湖区城市管理局)
        signer, sources["signer"] = unit, "pattern:letterhead"
    # fields not found are listed per file by the loader's summary (LoadReport.missing_fields), not warned here
    body = text[rs:re_]
    reply = Reply(
        id=make_reply_id(number, reply_date, body),
        text=text,
        source=source,
        proposer=proposer,
        number=number,
        kind=kind,
        title=title,
        lead_unit=lead,
        co_units=co_units,
        reply_date=reply_date,
        reply_text=body,
        signer=signer,
        signed_date=sdate,
        reply_span=(rs, re_),
        proposal_span=proposal_span,
        title_span=title_span,
        field_sources=sources,
        content_hash=hashlib.sha1(text.encode("utf-8")).hexdigest(),
    )
    return reply, warnings


def complete_reply(reply: Reply, meta: dict | None = None, warnings: list[str] | None = None) -> list[str]:
    """Fill fields a labelled reply left empty from its letter (and page metadata); recompute the id.

    Labelled values always win; only empty fields are filled, each with its own field source.
    `warnings` (from parse_labelled) are returned without the 'field X is missing' ones now filled.
    """
    rs, re_ = reply.reply_span
    letter = reply.text[rs:re_]
    found, _ = extract_reply(letter, reply.source, meta) if looks_like_letter(letter) else (None, [])
    if found is not None:
        for k in ("number", "kind", "proposer", "title", "lead_unit", "reply_date", "co_units", "signer"):
            if not getattr(reply, k) and getattr(found, k):
                setattr(reply, k, getattr(found, k))
                if k in found.field_sources:
                    reply.field_sources[k] = found.field_sources[k]
                if k == "title" and found.title_span != (0, 0):
                    reply.title_span = (found.title_span[0] + rs, found.title_span[1] + rs)
    reply.number = normalize_number(reply.number)
    reply.id = make_reply_id(reply.number, reply.reply_date, letter)
    kept = [w for w in warnings or [] if not ((m := re.search(r"field (\w+) is missing", w)) and getattr(reply, m.group(1), ""))]
    return kept if found is not None else [*kept, f"{reply.source}: the reply text does not look like a letter; fields left as labelled"]
