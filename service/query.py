"""What a question asks: its topic, the asked aspect, and the place, time, department, proposal number
and proposer it names. The first stage of the answering pipeline; every later stage reads this record.

The few patterns here are Chinese question grammar (多少, 什么时候, 为什么, 谁 …), not names of any
corpus: places, proposers and departments come from the index (:mod:`service.gazetteer`) and the
department alias table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.dates import cn_number
from index.departments import department_table
from index.tokenize import default_tokenizer
from service.gazetteer import Gazetteer

YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年")
# a year naming the letter itself ("2021年那份提案", "2023年答复的"), not a year its content reports on
LETTER_YEAR_RE = re.compile(r"((?:19|20)\d{2})\s*年(?:(?:的|那份|那件|那个|这份|这件|那|关于)[^，,。？?\d]{0,12}?)?(?:提案|建议|议案|答复|回复|办复)|"
                            r"((?:19|20)\d{2})\s*年(?:提|提出|答复|回复|办复|办理)的|((?:19|20)\d{2})\s*年\s*第")
# the question asks what a reply said (…是怎么答复的): a year it names is that reply's year
ASKS_REPLY_RE = re.compile(r"(?:怎么|如何|怎样|是怎么|咋)(?:答复|回复|办复)|答复(?:了|的)?(?:什么|啥|哪些)|"
                           r"(?:答复|回复|提案|建议)[^，,。？?]{0,8}(?:说了(?:些)?(?:什么|啥)|怎么说)")
NUMBER_RE = re.compile(r"(?<![\d.])第?\s*(\d{1,8})\s*号(提案|建议|议案)?")
CN_NUMBER_RE = re.compile(r"第([零〇一二两三四五六七八九十百]{1,8})号(提案|建议|议案)?")  # 第二十八号提案
RELATIVE_YEAR = {"今年": 0, "去年": -1, "前年": -2}

# how things stand now or how they turned out (现在有几个, 最后实际花了多少, 那后来呢): a later letter tells it, and a
# follow-up asking so drops the earlier turn's year (service/answerability.py, service/followup.py)
NOW_ASK_RE = re.compile(r"现在|目前|如今|眼下|至今|最后|最终|到头来|后来")
# a reason asked (also per clause of a two-part question: service/answerability.asked_details)
REASON_ASK_RE = re.compile(r"为什么|为何|为啥|原因|怎么回事|咋回事|理由|何故")
# the asked aspect: first match wins, in this order
ASPECTS: tuple[tuple[str, re.Pattern], ...] = (
    ("plan", re.compile(r"下一步|今后|将来|未来|(?<!原来|原本|当初|本来|原先)打算|以后(?:会|还会|能不能|能否|要|将|准备|打算)|准备怎么|准备如何|有何计划|什么计划|哪些计划|计划(?:怎么|如何|做|在)|"
                        r"(?:有|是|做了?|作了?)(?:什么|哪些|啥)(?:样的)?规划|(?:怎么|如何|怎样)规划|规划(?:是|有)?(?:什么|哪些|怎样|如何)")),
    ("reason", REASON_ASK_RE),
    ("date", re.compile(r"什么时候|何时|哪一?年|哪天|几月|几点|哪(?:一)?个月|几号(?!提案|建议)|什么时间|截止|期限|时间节点|啥时候")),
    ("amount", re.compile(r"多久|多长时间|多少|(?<!哪)几(?:个|家|所|项|名|人|次|条|处|座|公里|万|亿|成|批|户|套|辆|台|元|块|毛|角|分钱)|数量|(?:补贴|补助|收费|什么)标准|标准(?:是|为)?(?:多少|多高)|金额|比例|规模|多大|多长|多宽|多深|多高|多远|几成")),
    ("who", re.compile(r"谁|哪个部门|哪些部门|哪个单位|哪些单位|哪(?:两|三|几)?家|哪些企业|哪些学校|由哪|牵头|哪几(?:个|家|所|座|条|处|位)")),
    ("progress", re.compile(r"进展|进度|完成了?(?:没有|吗|多少)|(?:建|修|办|做|落实|开通|建成)(?:了|好)?没有|落实了?吗|到什么程度|做到哪|怎么样了|效果|成效|结果")),
    ("exists", re.compile(r"有没有|是否有|有无|有关于|有哪些答复|有答复")),
)
# questions about the reply record itself (主办、协办、答复日期、提出者、编号、办复类别)
FIELD_ASKS: tuple[tuple[str, re.Pattern], ...] = (
    ("co_units", re.compile(r"协办(?:单位|部门)?(?:都|分别|一共|还)?(?:是|有|为)?(?:哪|谁|什么)|(?:征求|听取|会同|商请)(?:了)?(?:哪些|哪几个|哪个)(?:部门|单位)|"
                            r"(?:和|与|跟)(?:哪些|哪几个)(?:部门|单位)(?:一起|共同|联合)|(?:协办|会办)(?:单位|部门)(?:呢|吗)?[？?]*$|(?:哪些|哪个|什么|谁)(?:部门|单位)?(?:来)?(?:协办|会办|配合)|会办单位|"
                            r"(?:哪些|哪几个|几个)(?:部门|单位)(?:参与|共同|联合|一起)(?:了)?(?:办理|承办|答复|办)")),
    # 什么 asks who only with a unit word: "有没有什么答复" asks whether there is a reply, not who gave it
    ("lead_unit", re.compile(r"(?:哪个|哪些|哪家|谁)(?:部门|单位|局|委|机关)?(?:主办|负责|答复|办理|承办|回复|牵头|签发|办)的?|"
                             r"什么(?:部门|单位|局|委|机关)(?:主办|负责|答复|办理|承办|回复|牵头|签发|办)的?|"
                             r"(?:主办|承办|牵头)(?:单位|部门)?(?:是|为)(?:哪|谁|什么)|(?:答复|办理|回复)(?:单位|部门)(?:是|为)?(?:哪|谁|什么)|"
                             r"由(?:哪个|哪家|谁)|谁(?:来)?(?:答复|回复|办理|主办)|(?:主办|承办|办理|答复|牵头)(?:单位|部门)(?:(?:呢|吗)?[？?]*$|(?=[和与、及,，]))|"
                             r"(?:哪些|哪几个|几个)(?:部门|单位)(?:参与|共同|联合|一起)(?:了)?(?:办理|承办|答复|办)")),
    ("reply_date", re.compile(r"(?:什么时候|何时|哪天|哪一?年|几月几[日号]|几号|什么时间|啥时候)(?:作出|做出|给出|进行|给)?(?:的)?(?:答复|回复|办复|答的|回的)|"
                              r"答复(?:日期|时间)|办复(?:日期|时间)|(?<=[和与、及])(?:日期|时间)(?:呢)?[？?]*$")),
    # 谁提的, 谁提出来的, 哪个单位提的, 哪两位代表提的, 什么党派提出
    ("proposer", re.compile(r"(?:谁|哪[^，,。？?的]{0,4}|什么[^，,。？?的]{0,2})(?:提|提出|写)(?:来)?的|哪位(?:委员|代表)|提出者|提出人|提案人|建议人|领衔|领头(?:的|人)|联名|"
                            r"几(?:位|个|名)(?:委员|代表)|哪些(?:委员|代表)|(?:哪个|哪些|什么)(?:党派|界别|组织|团体)提")),
    ("number", re.compile(r"(?:编号|案号)(?:是|为)?(?:多少|什么)?|第几号|几号(?:提案|建议)|(?:提案|建议|议案)(?:是|为)第?几号(?!答复|回复|办复|给)")),
    ("title", re.compile(r"关于(?:什么|啥|哪方面|哪一方面)|(?:题目|标题|案由|名称)(?:是|叫)?(?:什么|啥)|(?:题目|标题|案由)(?:呢)?[？?]*$|"
                         r"(?:提|写)(?:的|了)(?:什么|啥)(?:内容|问题|事)?(?:的)?(?:提案|建议|议案)?[？?]*$|是(?:什么|啥)(?:内容|主题)的(?:提案|建议|议案)")),
    ("contact", re.compile(r"联系人|联系电话|联系方式|(?:电话|手机)(?:号码)?(?:是)?多少|找谁联系|跟谁联系")),
    ("issuer", re.compile(r"签发人|谁签发|签发的是谁|哪位领导签发")),
    ("doc_number", re.compile(r"文号|发文字号|发文号")),
    ("kind", re.compile(r"是(?:政协)?提案还是(?:人大)?建议|是(?:人大)?建议还是(?:政协)?提案|(?:属于|算)(?:政协提案|人大建议|提案|建议)(?:吗|还是)|"
                        r"(?:提案|建议)还是(?:提案|建议)")),
    ("category", re.compile(r"(?:办复|答复|办理)(?:类别|结果|类型)(?:是|为|属于|算)?(?:哪一?|几|什么|啥)?类?|(?:算|属于|是|为|按)(?:哪一?|几|什么)类|[ABC]类(?:吗|还是)")),
)
# a date asked of something still to come ("新校舍啥时候能用上？", "什么时候开工？"): a plan answers it
FUTURE_DATE_RE = re.compile(r"(?:什么时候|啥时候|何时|哪一?年|几月|什么时间)(?:才|就|可以|能够|能|会|将|要|开始|启动|开工|动工|开建|建成|建好|修好|完工|竣工|交付|启用|用上|通车|投用|投入使用|开通|落地|实施|出台)(?![^，,。？?]{0,3}[了的过])|"
                            r"(?:能|会|将|可以|才能|打算|准备|计划)(?:在)?(?:什么时候|啥时候|何时|哪一?年|几月)|"
                            r"(?:什么时候|啥时候|何时|哪一?年)[^，,。？?]{1,8}?(?:都能|才能|能够|就能|可以|会)(?![^，,。？?]{0,3}[了的过])")
# "是什么时候开始给骑手上保险的？", "已经…了吗": asked of what has happened
PAST_RE = re.compile(r"的[？?！!。\s]*$|已经|早就|了吗[？?]*$")
# a bare "什么时候？" beside another question about the record asks when it was answered
BARE_DATE_RE = re.compile(r"什么时候|何时|哪天|哪一?年|什么时间|啥时候|几月几[日号]")
RECORD_WORDS = re.compile(r"提案|建议|议案|答复|回复|办复|这件|这份|该件")
MULTI_RE = re.compile(r"各区|各地|各县|各(?:个)?部门|分别|历年|各年|每年都|这些年|这几年|近几年|这么多年|哪几个区|几个区|三个区|两个区|都(?:做了|有)|哪些区")
LIST_RE = re.compile(r"(?:答复|办理|办复|承办|主办)(?:了|过)?哪些(?:提案|建议|议案)|哪些(?:提案|建议|议案)")
BROAD_RE = re.compile(r"做了(?:哪些|什么|啥)|哪些工作|什么工作|哪些措施|什么措施|哪些举措|怎么做|如何做|情况(?:怎么样|如何)?|怎么答复|如何答复|是怎么回复|怎么回复|怎么说")
# words that carry no topic in a question (interrogatives, generic work nouns); BM25 still sees them
FUNCTION_RE = re.compile(
    r"这一块|那一块|这块|那块|市里|县里|区里|省里|"  # "in this area", "the city (government)": not the topic (before 这/那)
    r"[改建修装办盖弄做搞]?(?:好|成|完)(?:了)?(?:没有|没|吗)|"  # 改成了没有, 装好了没: whether it got done, asked
    r"请问|想问|问一下|了解一下|具体|目前|现在|已经|这几年|近几年|前几年|这些年|近年来|(?:这|近|前|头)(?:两|三)年|都|还|有没有|是否|有无|怎么样了?|怎样|怎么|如何|情况|哪些|啥时候|什么时候|什么|啥|(?:多少|几)(?:件|份)|多少(?:[个家所项名条处座批户套辆台本册块位]|人(?!次))?|"
    r"几(?=[个家所项名人次条处座批户套辆台])|多久|多长时间|(?:一|几)(?:趟|回)|几(?:毛|角|分)钱?|为什么|为何|为啥|原因|何时|哪一?年|谁|哪个|哪家|做了|做过|开展了|采取了|"
    r"工作|措施|举措|做法|方面|相关|关于|有关|答复|回复|办复|提案|建议|议案|的|了|吗|呢|啊|吧|呀|给|在|对|和|与|及|等|是|有|"
    r"下一步|今后|打算|计划|进展|进度|成效|效果|这件|这份|该件|这个|那个|那|这|一下|说说|介绍|"
    r"原来|原本|当初|本来|原先|实际|真正|最终|最后(?!一)|到底|究竟|"  # which figure is asked (planned or actual), not the topic
    r"一共|总共|共计|合计|总计|加起来|大概|大约|"  # how a figure is asked (a sum, roughly), not the topic
    r"主办|协办|承办|部门|单位|负责|各区|各地|各县|各个|分别|答应|承诺|说要|说过"
)

# the unit a figure is asked per (一户, 每亩, 一节课, 每月): how the figure is asked, not what the question is about
RATE_UNIT_RE = re.compile(r"(?:每|一|单)个?(?:户|人|名|位|亩|台|辆|节课|节|课时|平方米|平米|立方米|方|吨|公斤|斤|公里|米|"
                          r"月|年|天|日|周|学期|餐|顿|晚|次|个|座|处|家|所|套|间|张|份)")


@dataclass
class Query:
    text: str
    tokens: list[str]  # BM25 query tokens (department aliases added)
    content: list[str]  # the question's own words less departments, years, numbers, places and names
    topic: list[str]  # content words less interrogatives and generic work words: what the question is about
    topic_phrase: str  # the stretch of the question that names the topic (for messages)
    aspect: str  # plan | reason | date | amount | who | progress | exists | work | field
    narrow: bool  # asks one thing (an amount, a date, a reason, a unit, a field) rather than "what was done"
    places: list[str] = field(default_factory=list)  # full names of known places named
    unknown_places: list[str] = field(default_factory=list)  # place names the index has no letter from
    years: list[int] = field(default_factory=list)  # years written out (2023年): a constraint on the letters
    departments: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    proposers: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)  # record fields asked about (lead_unit, reply_date …)
    multi: bool = False
    listing: bool = False
    dense_text: str = ""  # what the encoder sees: the question without the places and years it names
    # 今年/去年/前年 by the calendar: what a count of replies means by them ("去年答复了多少件？"), never a
    # constraint on content: asked of a letter ("今年春季比去年多招了多少人？") they are the letter's own years
    relative_years: list[int] = field(default_factory=list)
    letter_years: list[int] = field(default_factory=list)  # years that name the letter's own year (2021年那份提案)
    relative: list[int] = field(default_factory=list)  # their offsets (去年 → -1): a letter's own years, for composition
    # the kind written after the number (第57号提案 → 提案): a 建议 numbered 57 is another letter
    number_kinds: list[str] = field(default_factory=list)
    # the level written in front of a department with no place ("市城管局", "区里的城管局" → 市 / 区): the letter
    # of that level's unit, not another level's unit of the same name
    dept_level: str = ""

    @property
    def constrained(self) -> bool:
        return bool(self.places or self.unknown_places or self.years)


def asks_future(q: "Query") -> bool:
    """A date asked of something still to come: the plan that names it is the answer."""
    return q.aspect == "date" and bool(FUTURE_DATE_RE.search(q.text)) and not PAST_RE.search(q.text)


def _aspect(text: str) -> str:
    for name, pat in ASPECTS:
        if pat.search(text):
            return name
    return "work"


def _fields(text: str, names_a_reply: bool) -> list[str]:
    if not (names_a_reply or RECORD_WORDS.search(text)):
        return []
    out = [name for name, pat in FIELD_ASKS if pat.search(text)]
    # "…的提案是什么时候答复的" and "主办" questions ask the record; a bare 什么时候 asks the content,
    # unless the question already asks the record ("…是哪个部门答复的？什么时候？")
    if out and "reply_date" not in out and BARE_DATE_RE.search(text):
        out = [n for n, _ in FIELD_ASKS if n in out or n == "reply_date"]
    return out


def analyse(question: str, gazetteer: Gazetteer | None = None, current_year: int | None = None) -> Query:
    tok = default_tokenizer()
    table = department_table()
    gaz = gazetteer or Gazetteer()
    text = question.strip()
    tokens = tok.tokens(text, query=True)

    dept_spans = table.find_spans(text)
    depts = list(dict.fromkeys(c for _, _, c in dept_spans))  # as table.find_in(text)
    extra: list[str] = []
    for d in depts:
        for name in [d, *table.aliases.get(d, [])]:
            extra.extend(tok.tokens(name))
    merged = list(dict.fromkeys(tokens + extra))

    years = [int(y) for y in YEAR_RE.findall(text)]
    letter_years = sorted({int(next(g for g in m if g)) for m in LETTER_YEAR_RE.findall(text)})
    if ASKS_REPLY_RE.search(text):  # "2022年…对撂荒耕地建议是怎么答复的？": the year of the reply asked about
        letter_years = sorted({*letter_years, *(int(y) for y in YEAR_RE.findall(text))})
    offsets = sorted({off for w, off in RELATIVE_YEAR.items() if w in text})
    relative = [current_year + off for off in offsets] if current_year else []
    known = gaz.find(text)
    unknown = gaz.find_unknown(text, known)
    places = list(dict.fromkeys(full for s, e, _ in known for full in gaz.fulls(text[s:e])))
    named = ([(m.group(1).lstrip("0") or "0", m.group(2)) for m in NUMBER_RE.finditer(text)]
             + [(str(cn_number(m.group(1))), m.group(2)) for m in CN_NUMBER_RE.finditer(text)])
    numbers = [n for n, _ in named]
    number_kinds = sorted({k for _, k in named if k})
    proposers = gaz.proposers_in(text)  # substring lookups, not a pass over every name

    # mask what is not topic: places, departments, years, numbers, names, then interrogatives
    mask = list(text)

    def blank(s: int, e: int) -> None:
        mask[s:e] = [" "] * (e - s)

    for s, e, _ in known + unknown:
        blank(s, e)
    for name in table.all_names():
        if len(name) >= 2 and name in text:
            for m in re.finditer(re.escape(name), text):
                blank(m.start(), m.end())
    for pat in (YEAR_RE, NUMBER_RE, CN_NUMBER_RE):
        for m in pat.finditer(text):
            blank(m.start(), m.end())
    for p in proposers:
        for m in re.finditer(re.escape(p) + r"(?:等\d*[位名]?)?(?:委员|代表)?", text):
            blank(m.start(), m.end())
    for w in RELATIVE_YEAR:
        for m in re.finditer(w, text):
            blank(m.start(), m.end())
    for _, pat in FIELD_ASKS:
        for m in pat.finditer(text):
            blank(m.start(), m.end())
    # the encoder sees the question without places and years: those are constraints checked on the
    # record, and as words they pull a letter of that place toward any question naming it
    keep = [True] * len(text)
    for s, e, _ in known + unknown:
        keep[s:e] = [False] * (e - s)
    for m in YEAR_RE.finditer(text):
        keep[m.start():m.end()] = [False] * (m.end() - m.start())
    dense_text = re.sub(r"^[的在,，、\s]+", "", "".join(ch for ch, k in zip(text, keep) if k)).strip()
    if len(re.sub(r"\W", "", dense_text)) < 2:
        dense_text = text
    residual = "".join(mask)
    content_text = residual
    residual = FUNCTION_RE.sub(" ", residual)
    content = [t for t in tok.tokens(content_text, query=True) if not t.isdigit()]
    # topic words in jieba's precise mode (家庭医生 / 签约, not 家庭 + 医生 + 家庭医生): one unit per idea
    stop = tok.query_stopwords
    topic = list(dict.fromkeys(
        t for t in tok.cut(residual) if t.strip() and t not in stop and not t.isdigit() and not RATE_UNIT_RE.fullmatch(t)
        and re.search(r"\w", t) and not (len(t) == 1 and "\u4e00" <= t <= "\u9fff")))
    phrase = _phrase(residual)

    names_a_reply = bool(numbers or proposers)
    fields = _fields(text, names_a_reply)
    if fields:  # "菁阳2023年人防那个建议是第几号？": a question about a letter's record names that letter's year
        letter_years = sorted({*letter_years, *years})
    aspect = "field" if fields else _aspect(text)
    # "人社局答复了哪些提案？", and a department's letters asked with no topic ("财政局主办的答复说了什么？")
    listing = bool(depts and (LIST_RE.search(text) or (not topic and not numbers and not proposers and not fields)))
    multi = bool(MULTI_RE.search(text)) or len(places) + len(unknown) > 1 or len(set(years)) > 1
    narrow = aspect in ("amount", "date", "reason", "who", "field") or (aspect == "progress" and not BROAD_RE.search(text))
    return Query(text, merged, content, topic, phrase, aspect, narrow, places, [n for _, _, n in unknown],
                 sorted(set(years)), depts, numbers, proposers, fields, multi, listing, dense_text, relative, letter_years, offsets,
                 number_kinds, _dept_level(text, dept_spans, [(s, e) for s, e, _ in known + unknown]))


LEVEL_RE = re.compile(r"(?P<level>[市区县])(?:里|上|级)?(?:的)?$")


def _dept_level(text: str, dept_spans: list[tuple[int, int, str]], place_spans: list[tuple[int, int]]) -> str:
    """市 / 区 / 县 written just before a department the question names without a place ("市城管局",
    "区里的城管局", "县级教体局"); '' when none, when a place is named with it, or when two levels are named."""
    table = department_table()
    levels: set[str] = set()
    for s, e, _ in dept_spans:
        if text[s] in "市区县" and text[s + 1:e] in table.canonical_of:  # the table knows 区教育体育局 whole
            levels.add(text[s])
            continue
        lv = LEVEL_RE.search(text[max(0, s - 4):s])
        if lv and not any(a < s and s - len(lv.group(0)) < b for a, b in place_spans):
            levels.add(lv.group("level"))
    return next(iter(levels)) if len(levels) == 1 else ""


def _phrase(residual: str) -> str:
    """The longest run of the question left after removing places, names and interrogatives."""
    parts = [p.strip("，,。？?！!、；;：: ") for p in re.split(r"[\s，,。？?！!、；;：:]+", residual)]
    # a verb left over from the question's ending (搞了哪些 → 搞, 建得怎么样 → 建得) is not part of the topic
    parts = [re.sub(r"(?<=[\u4e00-\u9fff]{3})[搞做弄干办建修管改花买][得了的]?$", "", p) for p in parts]
    parts = [p for p in parts if len(p) >= 2]
    if not parts:
        return ""
    best = max(parts, key=len)
    return best if len(best) <= 16 else best[:16].rstrip("，,、的") + "…"
