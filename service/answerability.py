"""Answerability judged on the question's focus: does a reply's evidence cover the asked topic, at the
asked place and time, and — when a figure, a date, a reason or a unit is asked — contain one?

Per reply (``ReplyHits``):

- ``on_topic``: its evidence covers the topic words (IDF-weighted share ≥ ``topic_min_coverage``), or
  one of its sentences is very close in meaning (cosine ≥ the model's sentence bar plus a margin), or
  both moderately. The bars are measured on the tuning half of the dev set (docs/tuning.md).
- ``detail_ok``: for amount/date/reason/who questions, one of its best-matching sentences holds that
  kind of detail (an amount in the asked unit, a date, a causal clause, a unit name).
- ``covers``: on topic, with the detail, and from the named place and year.

The search result is answerable when a reply among the first ones covers the question; otherwise
``missing`` says what is missing ("place", "year", "detail", "topic") so the answer can say so.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple, Sequence

from index.departments import department_table
from index.tokenize import default_tokenizer
from service.query import NOW_ASK_RE, REASON_ASK_RE, YEAR_RE
from service.records import ReplyHits, SearchResult
from service.tables import row_reading

if TYPE_CHECKING:
    from service.query import Query
    from service.retrieval import Retriever

# what an answer to each aspect looks like (answer types, not corpus words)
_NUM = r"(?:\d+(?:[.,]\d+)*|[一二两三四五六七八九十百千万半]+)"
UNIT_CLASSES = {
    "money": r"(?:元|万元|亿元|块钱)",  # a bare 块 in a letter counts things (提示牌120块), not yuan
    "count": r"(?:个|家|所|项|名|人次|人|次|户|套|辆|台|座|处|条|批|张|册|本|场|期|间|栋|部|支|只|件|床|块|面|笔)",
    "length": r"(?:公里|千米|米|km)",
    "width": r"(?:厘米|米)",
    "area": r"(?:平方米|平米|亩|公顷|万平方米)",
    "percent": r"(?:%|％|个百分点|成)",
    "time": r"(?:年|个月|月|周|天|日|小时|分钟)",
    "frequency": r"(?:次|趟|回)",  # held only with a period (FREQUENCY_RE)
    "weight": r"(?:万吨|吨|公斤|千克|斤|克)",
    "volume": r"(?:立方米|万方|方|升|毫升)",
    "energy": r"(?:千瓦时|度|千瓦|兆瓦|万千瓦)",
    "share": r"(?:元|万元|%|％|成)",  # what is reimbursed: an amount or a share
}
_PERIOD = r"(?:年|半年|季度|季|个月|月|周|星期|天|日|学期)"
FREQUENCY_RE = re.compile(rf"(?:每|一)(?:个)?{_PERIOD}[^，,。；;]{{0,16}}?{_NUM}\s*(?:次|趟|回)(?!数)|{_NUM}\s*(?:次|趟|回)\s*/\s*{_PERIOD}")
ASKED_UNIT = (
    # 多久来一趟 / 一个月几次: how often, answered by a count per period (每月不少于2次), not by a length of time
    ("frequency", re.compile(r"(?:多久|多长时间|隔几天|几天|几周|几个月)[^，,。？?]{0,8}(?:一趟|一次|一回)|"
                             r"(?:一年|一个月|一月|一周|一季度|每年|每月|每周|每季度)[^，,。？?]{0,6}(?:几|多少)(?:次|趟|回)")),
    ("time", re.compile(r"多久|多长时间|(?<![这近前头])几(?:个)?(?:小时|分钟|天|周|个月|年)|多少(?:小时|分钟|天|周|个月|年)")),
    ("money", re.compile(r"(?:工资|收入|报酬|薪酬|薪水|待遇|补助|补贴|奖励|费用|经费|价|价格|价钱|票价|收费)(?:是|有|能|要|大概|一般|了)?(?:多少|几)|拿多少|挣多少|赚多少|多少钱|补贴多少|补助多少|多少补贴|(?:奖|补|奖补)(?:了)?多少(?![个家所项名人户套辆台座处条批次吨公里米亩])|资金多少|投入多少|投资多少|金额|几块钱|几毛钱?|几角钱?|几分钱|多少元|多少万|费用|经费多少|标准|"
                        r"(?:拿|(?<![查找发选排看算评测检提指突支])出|花|给|投|安排|下达|拨)(?:出|了|付)?(?:了)?多少(?![个家所项名人户套辆台座处条批次趟回吨公里米亩])|多少[^，,。？?]{0,4}(?:资金|经费|钱|补贴|补助|奖补|奖励|费用|投资|投入|学费|租金|房租)|"
                        # the money named before its paying out (那笔专项钱…2023年真正发下去多少)
                        r"(?:钱|资金|经费|奖补|补贴|补助|奖励)[^？?。]{0,24}?(?:发|兑付|兑现|花|拨|到位)(?:下去|出去|下来|出|了|掉|放|到)*多少(?![个家所项名人户套辆台座处条批次吨公里米亩])|"
                        r"(?:交|缴|付)(?:纳)?(?:了)?多少|收(?:了|取)?多少(?![个家所项名人户套辆台座处条批次吨公里米亩])|[\u4e00-\u9fff]费(?:用)?(?:是|要|得|大概|一般)?多少")),
    ("share", re.compile(r"(?<![上申汇通举])报(?:销)?(?:了)?多少|报销(?:比例|额度)")),  # 能报多少: 900元 or 70%
    ("length", re.compile(r"多少公里|几公里|多长|多少米")),
    ("width", re.compile(r"多宽|多深|多少厘米")),  # a width or depth is stated in metres, not in kilometres of road
    ("area", re.compile(r"多少亩|多少平方|多大面积|面积")),
    ("weight", re.compile(r"多少(?:万)?吨|几(?:万)?吨|多少(?:公斤|千克|斤)|几(?:公斤|千克|斤)|多重")),
    ("volume", re.compile(r"多少(?:立方米|方|升)|几(?:立方米|方)")),
    ("energy", re.compile(r"多少(?:度电|千瓦|兆瓦)|几度电|发电量|装机(?:容量)?(?:是|有)?多少")),
    ("percent", re.compile(r"比例|比重|百分之|占比|占(?:了)?多少|覆盖率|率(?:是|有|为|达到|到了|到|提高到|提升到)?多少|几成")),
    ("count", re.compile(r"(?:多少|(?<!哪)几)(?:个|家|所|项|名|人|户|套|辆|台|座|处|条|批|次|趟|回|本|册|块|笔)")),
)
DATE_RE = re.compile(r"(?:19|20)\d{2}\s*年|\d{1,2}\s*月|年底|年内|年初|年中|季度|上半年|下半年|月底|月中|前完成|之前|以前|期间|日前|近期|截至")
REASON_RE = re.compile(r"因为|由于|原因|主要是|受.{1,12}(?:影响|限制|制约)|鉴于|考虑到|导致|造成|因此|所以|以致|目前.{0,8}(?:不具备|尚不|暂不|还不)|限于|囿于|涉及")
# a date asked of the start of works (Detail.unit "start"), and the words a letter uses for it; the date a thing
# was finished or opened is what letters mostly give (in tables too, under a 完工时间 header), so it is not checked
START_ASK_RE = re.compile(r"开工|动工|开建|破土")
START_RE = re.compile(r"开工|动工|开建|破土|开始建设|启动建设|进场施工|开始施工")
# a time of day asked (几点关门, 几点开放): a clock time answers it (22:00, 晚上9点, 21时), a date does not
CLOCK_ASK_RE = re.compile(r"几点")
CLOCK_RE = re.compile(r"24小时|全天|昼夜|\d{1,2}\s*[:：]\s*\d{2}|\d{1,2}\s*(?:点|时)(?![间期段效])|[一二三四五六七八九十]{1,3}点")


def asked_event(text: str) -> str | None:
    return "start" if START_ASK_RE.search(text) else "clock" if CLOCK_ASK_RE.search(text) else None


_WHICH_RE = re.compile(r"哪几(?:个|家|所|座|条|处|位)([\u4e00-\u9fff]{1,6})")  # 哪几个镇: which ones, named
COMPANY_ASK_RE = re.compile(r"哪(?:一|两|三|几)?(?:家|个)(?:[^，,。？?]{0,4}?(?:公司|企业|机构)|单位在)|什么(?:公司|企业)")
COMPANY_RE = re.compile(r"[\u4e00-\u9fff（）()“”\"]{2,24}(?:有限公司|有限责任公司|分公司|集团|公司|股份)")
WHO_RE = re.compile(r"(?:局|委|办|中心|公司|集团|学校|学院|中专|医院|卫生院|街道|镇|村|社区|企业|协会|银行|站|所|馆)")


def asked_unit(text: str) -> str | None:
    for name, pat in ASKED_UNIT:
        if pat.search(text):
            return name
    return None


# which way money goes, for "how much" questions: a subsidy given, a fee or cost paid, money invested
MONEY_ROLES = (
    ("fine", re.compile(r"罚款|罚没|罚金|处罚|罚")),  # 罚了多少钱: the fines imposed, stated as 罚款…万元
    ("income", re.compile(r"工资|收入|报酬|薪酬|薪水|待遇|月薪|年薪")),
    # …and money paid out to those it is for, or funded per head at a standard (按每村每年6000元的标准安排经费)
    ("subsidy", re.compile(r"补贴|补助|奖补|奖励|资助|救助|津贴|补|奖|给钱|给予|发放|兑付|兑现|标准[^，,。；;]{0,8}(?:安排|拨付|保障)")),
    # single characters only where they stand as the verb: 验收, 清掏, 交通, 交付, 兑付 and 付出 charge no one
    # (in a question, 收 ends the text before 多少: 收多少钱)
    ("charge", re.compile(r"收费|收取|收(?:了)?(?=$|\d|[一二三四五六七八九十])|缴纳|缴|(?<!外)交(?![通付流易办接叉警])|(?<![交兑拨垫])付(?![出诸])|(?<!清)掏|"
                          r"费用|保费|学费|价格|价钱|单价|票价|门票|(?<![评代])价|多少钱一|自付|自费")),
    ("invest", re.compile(r"投资|投入|投了|资金|经费|预算|拨付|安排|购买|补贴|补助|花|支出|采购|购置|金额")),
    # rent (租一间一个月多少钱, 房租多少): the rent stated, not a grant or a price of something else
    ("rent", re.compile(r"租金|房租|租赁费|租")),
    # what a thing was bought for (那9辆收运车是花多少钱买的): a purchase or its cost, not a fee or a grant it earns
    ("purchase", re.compile(r"购买|购置|采购|购进|买|造价|投资|投入|资金")),
)
# who pays when money is "spent" (花了多少): a household paying is a charge; otherwise a project's spending
# (每户, 一人 ask a rate, not who pays: "给困难家庭改造，平均一户花多少" is what was spent per household)
_PAYER_RE = re.compile(r"家长|居民|群众|老百姓|市民|村民|农户|个人|自己|我们|老人|学生|患者|病人|用户|车主|住户|家庭")


def money_role(text: str) -> str | None:
    """The role of the money asked about: the role word nearest before 多少/几 (补多少 → subsidy, 掏多少 → charge);
    money the government or treasury spends (政府花了多少) is investment."""
    if re.search(r"多少钱?(?:买|购)|(?:买|购买|购置|采购)[^，,。？?]{0,6}?(?:花|用)?(?:了)?多少", text):
        return "purchase"
    asks = list(re.finditer(r"多少|几", text))  # of several asks (多少亩…，一亩投了多少钱), the one about money
    m = next((a for a in asks if re.match(r"(?:多少|几)[^，,。？?]{0,2}(?:钱|元|块|资金|经费|费)", text[a.start():])), asks[0] if asks else None)
    head = text[: m.start()] if m else text
    if re.search(r"(?:政府|财政|区里|市里|县里|省里|镇里)[^，,。？?]{0,12}(?:花|出|拿|投|掏|付)", head):  # 县里自己掏了多少
        return "invest"
    best, pos, word = None, -1, ""
    for name, pat in MONEY_ROLES:
        for hit in pat.finditer(head):
            if hit.start() > pos:
                best, pos, word = name, hit.start(), hit.group(0)
    if word == "花" and _PAYER_RE.search(head):  # 家长要花多少钱: what they pay
        return "charge"
    if best is None and _USE_ONCE_RE.search(text):  # 民宿住一晚要多少钱, 坐一趟车多少钱: the price a user pays
        return "charge"
    return best


# using a service once (住一晚, 坐一趟, 停一次, 吃一顿, 上一节课): money asked of it is its price
_USE_ONCE_RE = re.compile(r"(?:住|坐|乘|停|吃|充|上|看|学|玩|用|洗|租)[^，,。？?]{0,3}一(?:晚|夜|次|趟|顿|天|节|小时|个小时|堂)")


class Detail(NamedTuple):
    """One asked detail: its aspect, and for an amount its unit class, money role and rate/total reading."""
    aspect: str
    unit: str | None = None
    role: str | None = None
    rate: bool | None = False
    measure: str | None = None  # a count's measure word (多少户 → 户): a figure counted in other things does not answer
    subset: tuple[str, ...] = ()  # a count of the ones that are so (有几家是国家级示范社 → 国家级, 示范…): words the sentence must hold
    per: str | None = None  # money asked per person or thing (每人每月 → 人): a rate per year or per month alone does not answer
    fee: str | None = None  # a named fee or grant asked (摊位费, 运维费, 慰问金): the sentence must name it
    giver: str | None = None  # money asked from a higher level (省里给了多少, 中央资金多少): the sentence must name that level
    # the years written in this ask's own clause, for a question of two asks ("每人每年补多少？2023年一共发了多少？": the
    # year binds the second); None for a single ask, which the question's years bind
    years: tuple[int, ...] | None = None
    # money asked of a set the question counts (那86个监控点一共花了多少钱 → ("86", "个")): the sentence must count it too
    counted: tuple[str, str] | None = None
    period: str | None = None  # money asked per a period (一个月补贴多少 → 月)


# measure words that count the same things (多少人 is answered by 34名 or 1400人; 几所 by 3所 or 3个)
_MEASURES = {"人": "人|名|位|人次", "名": "人|名|位|人次", "位": "人|名|位", "户": "户", "台": "台|辆|套", "辆": "辆|台",
             "套": "套|台", "家": "家|个|所|处", "所": "所|个|家", "座": "座|个|处", "处": "处|座", "项": "项|个",
             "条": "条", "次": "次|场|人次", "趟": "趟|次", "回": "回|次", "场": "场|次", "张": "张", "间": "间|个", "栋": "栋|幢", "批": "批",
             "本": "本|册(?!次)", "册": "册(?!次)|本", "块": "块|面", "笔": "笔"}
_MEASURE_ASK_RE = re.compile(r"(?:多少|几)(" + "|".join(_MEASURES) + ")")


_SUBSET_RE = re.compile(r"(?:有|中|里)(?:多少|几)(?:个|家|所|名|位|条|处|座)?是(?P<q>[^，,。？?]{2,14}?)(?:的)?[？?]*$")


def asked_subset(text: str) -> tuple[str, ...]:
    """The words that say which ones are counted (国家级示范社 → 国家, 国家级, 示范; 24小时开 → 24, 小时)."""
    m = _SUBSET_RE.search(text)
    if not m:
        return ()
    return tuple([w for w in default_tokenizer().tokens(m.group("q")) if len(w) >= 2 or w.isdigit()][:3])


_COUNTED_RE = re.compile(r"那(?:个)?(\d+)\s*(个|辆|座|所|家|处|台|套|条|名|块|间|栋|架|艘|盏|根)")


def asked_counted(text: str) -> tuple[str, str] | None:
    m = _COUNTED_RE.search(text)
    return (m.group(1), m.group(2)) if m else None


def states_counted(sentence: str, counted: tuple[str, str], any_measure: bool = False) -> bool:
    """Does the sentence count the set the question refers to (那86个监控点: 86个; with any_measure, 那24个菜场:
    24家…市场, 个 standing for any measure)?"""
    num, measure = counted
    alike = "个|家|所|座|处|项|条|台|套|辆|名|间" if any_measure and measure == "个" else _MEASURES.get(measure, measure)
    return bool(re.search(rf"(?<![\d.]){num}\s*(?:{alike})", sentence))


def asked_measure(text: str) -> str | None:
    m = _MEASURE_ASK_RE.search(text)
    return m.group(1) if m else None


_CLAUSE_RE = re.compile(r"[^，,？?；;。！!]+")
_DATE_ASK_RE = re.compile(r"什么时候|何时|哪一?年|哪天|几月|几点|哪(?:一)?个月|什么时间|啥时候")


@lru_cache(maxsize=1024)
def asked_details(text: str, aspect: str, inferred: bool = False) -> tuple[Detail, ...]:
    """The details the question asks for. A question of two asks ("新买了几台泵车，花了多少钱？", "哪年开始用的，
    有多少个学位？") gives one per clause, each read in its own clause; otherwise the one aspect of the question.
    Cached: answerability asks it of every candidate reply, composition again."""
    parts: list[Detail] = []
    if aspect in ("amount", "date", "reason"):
        for m in _CLAUSE_RE.finditer(text):
            c = m.group(0)
            unit = asked_unit(c)
            if REASON_ASK_RE.search(c):  # "最后换了几辆？为啥没换完？": the count and the reason
                d = Detail("reason")
            elif unit is not None:
                d = _figure_detail("amount", c, unit, inferred)
            elif parts and parts[-1].unit and re.search(r"(?:一共|总共|合计|加起来)?[^，,？?]{0,4}(?:多少|几)[？?]?$", c):
                # "每人每年直补多少钱？2023年一共发了多少？": the second ask counts in the first one's unit (and
                # measure: 查出多少处…，改好了多少 asks 处 twice)
                d = _figure_detail("amount", c, parts[-1].unit, inferred)
                d = d if d.measure or not parts[-1].measure else d._replace(measure=parts[-1].measure)
            elif _DATE_ASK_RE.search(c):
                d = Detail("date", asked_event(c))
            else:
                continue
            if all(d != p._replace(years=None) for p in parts):
                parts.append(d._replace(years=tuple(int(y) for y in YEAR_RE.findall(c))))
    if len(parts) > 1:
        return tuple(parts)
    if aspect not in ("amount", "date", "reason", "who"):
        return ()
    if aspect == "who":
        if COMPANY_ASK_RE.search(text):
            return (Detail("who", "company"),)
        which = _WHICH_RE.search(text)
        if which:  # 哪几个镇: a sentence naming 镇s (芦湾镇、梅渚镇), any kind of place or thing
            word = default_tokenizer().dictionary_words(which.group(1))[0]  # 镇 (not 镇试), 小区, 学校
            return (Detail("who", "which", subset=(word,) if word else ()),)
        return (Detail("who"),)
    if aspect == "date":
        return (Detail("date", asked_event(text)),)
    unit = asked_unit(text) if aspect == "amount" else None
    return (_figure_detail(aspect, text, unit, inferred, asked_subset(text) if aspect == "amount" else ()),)


def _figure_detail(aspect: str, text: str, unit: str | None, inferred: bool, subset: tuple[str, ...] = ()) -> Detail:
    """The detail `text` (a question or one of its clauses) asks in `unit`: for money its role, rate and the
    one it is counted per; for a count its measure."""
    money = unit == "money"
    return Detail(aspect, unit, money_role(text) if money else None, asked_rate_or_total(text, unit, inferred),
                  asked_measure(text) if unit == "count" else None, subset, asked_per(text) if money else None,
                  asked_fee(text) if money else None, asked_giver(text) if money else None,
                  counted=asked_counted(text) if money else None, period=_asked_period(text) if money else None)


# the period an amount is asked or stated per (一个月 / 每月 / 月均 → 月; 一学期 → 学期): 年, 月, 天 (日), 周, 学期, 次
_PERIODS = {"年": "年", "月": "月", "天": "天", "日": "天", "周": "周", "星期": "周", "学期": "学期", "次": "次", "餐": "次", "晚": "天"}
ASKED_PERIOD_RE = re.compile(r"(?:每|一)(?:个)?(年|月|天|日|周|星期|学期|次|餐|晚)(?:[^，,。？?]{0,10}?)(?:多少|几)|"
                             r"(?:多少|几)[^，,。？?]{0,4}(?:每|一)(?:个)?(年|月|天|日|周|学期|次)")
STATED_PERIOD_RE = re.compile(r"(?:每|/)(?:人|户|名|生|村|个|站|家)?(?:每)?(?:个)?(年|月|天|日|周|星期|学期|次|餐|晚)|"
                              r"(?<![\d年])(年|月|日)(?:均|缴存额|缴费|收入|工资|租金|补助|补贴|津贴)")


def asked_period(text: str) -> str | None:
    m = ASKED_PERIOD_RE.search(text)
    return _PERIODS[m.group(1) or m.group(2)] if m else None


def stated_periods(text: str) -> set[str]:
    return {_PERIODS.get(m.group(1) or m.group(2), m.group(1) or m.group(2)) for m in STATED_PERIOD_RE.finditer(text)}


def _asked_period(text: str) -> str | None:
    """A span of time money is asked per (一个月补贴多少 → 月); not 一次/一餐 (per use, which letters word freely)."""
    p = asked_period(text)
    return p if p in ("年", "月", "天", "周", "学期") else None


# a rate per a thing (每亩, 每吨, 每平方米): a standard of another kind than a monthly or yearly sum
_THING_RATE_RE = re.compile(r"每(?:亩|吨|平方米|平米|立方米|方|公里|米|千瓦|台|辆|套|座|处|个|只)")


def period_ok(sentence: str, period: str) -> bool:
    """Money asked per a period (管护员一个月补贴多少): a sentence stating that period (每人每月, 月均), or stating none
    and no rate per a thing — not 每亩1200元, nor 每年2.4万元."""
    stated = stated_periods(sentence)
    if period in stated:
        return True
    return not stated and not _THING_RATE_RE.search(sentence)


# a fee or grant of its own name (摊位费, 运维费, 慰问金, 学费), not money in general (经费, 资金, 费用)
_FEE_RE = re.compile(r"([\u4e00-\u9fff]{1,2})(费|金)")
_GENERIC_FEE = {"经费", "资金", "基金", "费用", "花费", "收费", "缴费", "交费", "付费", "免费", "自费", "资费", "金额", "奖金", "现金", "助金"}


# money from a higher level of government than the letter's own (省里补助了多少, 中央资金给了多少): a county's letter
# states it as 省级补助资金 or 中央财政…; its own money (县里, 本级) is not named as such and is not checked
_GIVER_ASK_RE = re.compile(r"(省里|省级|省财政|省上)|(中央(?:财政|资金|预算|补助))")
GIVER_RE = {"省": re.compile(r"省(?:级|财政|里|上|补助|专项|[、，]市)"), "中央": re.compile(r"中央|国家")}


def asked_giver(text: str) -> str | None:
    m = _GIVER_ASK_RE.search(text)
    return None if not m else "省" if m.group(1) else "中央"


_OTHER_MONEY_RE = re.compile(r"补贴|补助|奖补|奖励|资金|经费|预算|补|贴")


def asked_fee(text: str) -> str | None:
    for m in _FEE_RE.finditer(text):
        head = m.group(1).lstrip("多少几要交缴付收的了给发领拿每月年一个")  # 多少学费 → 学费
        word = head + m.group(2)
        if not head or word in _GENERIC_FEE or word[-2:] in _GENERIC_FEE:
            continue
        ask = re.search(r"多少|几", text[m.end():])
        between = text[m.end():m.end() + ask.start()] if ask else ""
        if ask and (_OTHER_MONEY_RE.search(between) or re.search(r"[？?。！!；;]", between)):
            # 公积金缴存补贴预算多少: the money asked is the 补贴, of which 公积金 is the topic; 能自己交公积金吗？一个月最少
            # 得交多少: the ask is a sentence of its own (月缴存额最低238元 need not say 公积金)
            continue
        return word
    return None


def _names_fee(sentence: str, fee: str) -> bool:
    """摊位费 is named as 摊位费; a two-character qualifier alone also names it (运维费 in 运维费用, 慰问金 in 慰问资金),
    and so does the word without its first character (一个人保费: 保费)."""
    return fee in sentence or (len(fee) == 3 and (fee[:2] in sentence or fee[1:] in sentence))


def holds_any(sentence: str, details: Sequence[Detail], heading: str = "") -> list[Detail]:
    """The asked details the sentence holds."""
    return [d for d in details if holds_detail(sentence, d.aspect, d.unit, d.role, heading, d.rate)
            and (not d.measure or re.search(_NUM + r"\s*(?:余|多)?\s*(?:" + _MEASURES[d.measure] + ")", sentence))
            and all(w in sentence for w in d.subset)
            and (not d.fee or _names_fee(sentence, d.fee))
            and (not d.giver or GIVER_RE[d.giver].search(sentence))
            and (not d.counted or states_counted(sentence, d.counted))
            and (not d.per or re.search(rf"(?:每|/|单|一)(?:{_MEASURES.get(d.per, d.per)})|(?:{_MEASURES.get(d.per, d.per)})均", sentence))
            and (not d.period or period_ok(sentence, d.period))]


# the ones money is asked per (每人, 一户), not the periods (每年, 每月): a rate per year alone is not per person
# (people and households only: letters state a rate per thing in other units, 每千瓦 for 一个充电桩, 每平方米 for 每平米)
_PER_THING_RE = re.compile(r"(?:每|一|单)(?:个)?(人|名|户)")


def asked_per(text: str) -> str | None:
    m = _PER_THING_RE.search(text)
    return m.group(1) if m and asks_rate(text, "money") else None

RANGE_MARK = "至到—－-～~"


def names_year(sentence: str, year: int, letter_year: int | None = None) -> bool:
    """Does the sentence state something for `year` itself, not as one end of a span (2019年至2021年)?
    A letter's 今年 is the year it was written, its 去年/上年 the year before, its 前年 the one before that."""
    if letter_year is not None:
        back = {0: r"今年|本年", 1: r"去年|上年|上一年", 2: r"前年"}.get(letter_year - year)
        if back and re.search(rf"(?:{back})(?!度以前|以前|之前)", sentence):
            return True
    for m in re.finditer(rf"(?<!\d){year}\s*年?", sentence):
        before = sentence[max(0, m.start() - 1):m.start()]
        if sentence[max(0, m.start() - 2):m.start()] == "截至":  # 截至2021年底: a figure as at that year
            before = ""
        after = sentence[m.end():m.end() + 1]
        if not m.group(0).endswith("年") and not after.startswith(("—", "-")):
            continue
        if (before and before in RANGE_MARK) or (after and after in RANGE_MARK):
            continue
        return True
    return False


# shapes of a question whose answer is a kind of sentence, beside the asked aspect:
# what is left ("还剩几家？", "还有多少座没改完？", "哪些还没建完？") and which way a figure moved
# ("着火的有没有少一点？", "能配的药比以前多了吗？")
_FINISH_ASK = r"(?:建好|建成|修好|修通|完工|竣工|投用|投入使用|投入运行|投运|交付|开放|开业|开园|开通|通车|启用|用上|能用|开始用)"
_FINISH = r"(?:建好|建成|修好|修通|完工|竣工|投用|投入使用|投入运行|投运|交付使用|交付|开放|开业|开园|开通|通车|启用|正式运行)"
_WHEN = r"(?:什么时候|啥时候|哪年|哪一年|何时|几月|哪天|什么时间)"
_A_DATE = r"(?:(?:19|20)\d{2}\s*年|\d{1,2}\s*月|年底|年内|汛前|上半年|下半年|学期)"
ASKED_SHAPES: tuple[tuple[str, re.Pattern, re.Pattern], ...] = (
    # when a thing was (or will be) finished or opened: a date bound to the finishing (2024年5月20日建成投入运行),
    # not the date it was planned or funded (2023年3月列为民生实事项目)
    ("finished",
     re.compile(rf"{_WHEN}[^，,。？?]{{0,8}}{_FINISH_ASK}|{_FINISH_ASK}[^，,。？?]{{0,3}}(?:的|了)?(?:是)?{_WHEN}"),
     re.compile(rf"{_A_DATE}[^，,。；;]{{0,16}}{_FINISH}|{_FINISH}[^，,。；;]{{0,4}}(?:于|在)?{_A_DATE}")),
    # the most that is paid or allowed (一年最多能补多少): the cap the letter states (每人每年最高2.4万元, 不超过200万元)
    ("cap", re.compile(r"最多|最高|上限|封顶|顶格|最长"), re.compile(r"最高|不超过|不高于|上限|封顶|最多|顶格|最长|限额")),
    # …and the least (一个月最少得交多少): the floor it states (月缴存额最低238元, 不低于, 起步)
    ("floor", re.compile(r"最少|最低|至少|起码|最短"), re.compile(r"最低|最少|不低于|不少于|至少|起步|起缴|保底|最短")),
    ("remainder",
     re.compile(r"还剩|剩下|剩余|(?<![有没])(?:没|未|尚未|还没)(?:有)?(?:建|改|修|完成|办|落实|到位|开工|投用|开通)"),
     re.compile(r"其余|剩余|剩下|尚未|未完成|仍有|在建|(?:压减|减少|下降|降)(?:到|至)|纳入[^，。；]{0,16}(?:计划|清单)")),
    ("change",
     re.compile(r"(?:少|多|减少|增加|下降|上升|降低|提高|好转|改善)(?:了)?(?:一点|一些|些|吗|没有|不少)|比(?:以前|过去|往年|去年|上年)|"
                r"(?:有没有|是否|有无)(?:减少|增加|下降|上升|降低|提高|好转|改善)"),
     re.compile(r"同比|环比|比上年|较上年|比去年|较去年|(?:下降|减少|增长|增加|上升|降低|提高)(?:了)?\s*\d|"
                r"(?:由|从)[^，。；]{0,12}\d[^，。；]{0,12}(?:增加|提高|上升|减少|下降|降低)?(?:到|至)")),
    # whether it got done (装好了没, 建成了没有, 完成了吗): the sentence saying it was (已全部完成, 实际完成改造4处, 已于…投用)
    ("completed",
     re.compile(r"(?:好|成|完|通|完成|建成|投用|开业|开诊)(?:了)?(?:没有|没|吗)"),
     re.compile(r"已(?:经)?(?:全部|全面|如期|按期)?(?:完成|建成|竣工|投用|投入使用|投运|开业|开诊|开通|启用)|实际完成|全部完成|"
                r"已于\s*\d{4}\s*年|正式(?:运行|运营|开业|开诊|启用|投用)")),
)


def asked_shapes(text: str) -> list[re.Pattern]:
    """The sentence patterns that answer the shapes the question has (empty for most questions)."""
    return [answer for _, ask, answer in ASKED_SHAPES if ask.search(text)]


RANK_KEEP_Z = 0.3  # tuning half (docs/tuning.md)
# how things stand now or in the end (现在, 目前, 最后, 最终, 到现在, 至今): the latest letter of the place leads when it
# covers the topic and its best sentence is within NOW_KEEP_Z of the first one's
NOW_KEEP_Z = 1.0

PROBLEM_HEAD_RE = re.compile(r"问题|困难|原因|不足|短板|瓶颈|制约")


_CLASS_RE = re.compile(r"([\u4e00-\u9fff]{2,4}?)类(?![别型])")


def asked_classes(text: str) -> set[str]:
    """The classes a question qualifies its subject with: 艺术类培训班 → {艺术} (not 哪一类 / A类 / 几类)."""
    return {m.group(1)[-2:] for m in _CLASS_RE.finditer(text)
            if not re.search(r"[哪几什么啥一别归门各这那该此同]", m.group(1)[-2:])}


def other_class(sentence: str, classes: set[str]) -> bool:
    """Does the sentence state its figure for another class than the asked one (学科类 when 艺术类 is asked)?"""
    if not classes:
        return False
    named = {m.group(1)[-2:] for m in _CLASS_RE.finditer(sentence)}
    return bool(named) and not (named & classes)


# money asked per unit ("一节课收费多少", "每餐补贴多少", "一台要花多少钱") is answered by a rate or a cap per item,
# not by a total ("监管资金2860万元")
_PER_UNIT = r"(?:个|节|次|台|部|户|人|名|天|日|月|年|斤|公斤|吨|度|平方米|平米|方|立方米|亩|公里|课时|学期|餐|顿|份|单|张|辆|块|套|间|座|家|所)"
# 一年 asks a year's total, which letters state as 2022年…; 这一块/那一块 is "this area" (禁放这一块花了多少), not a piece
ASKED_RATE_RE = re.compile(rf"(?:每|(?<![这那哪])一|单)(?!年)({_PER_UNIT})")
RATE_RE = re.compile(rf"每[^，。；;]{{0,14}}?{_NUM}|(?:元|万元)\s*/|/\s*{_PER_UNIT}|单{_PER_UNIT}|(?:最高|最多|不超过|上限)[^，。；;]{{0,8}}{_NUM}|"
                     rf"按[^，。；;]{{0,16}}(?:标准|比例|%)|{_NUM}\s*(?:元|万元)\s*(?:每|一){_PER_UNIT}|"
                     rf"(?:标准|单价|均价|月均|人均|户均|亩均|平均)(?:为|是|达到|提高到|统一为)?[^，。；;]{{0,6}}{_NUM}|"
                     # a range the law sets per case (处五千元以上五万元以下罚款): a standard, not a sum
                     r"(?:元|万元)以上[^，。；;]{0,10}(?:元|万元)以下")


ASKED_TOTAL_RE = re.compile(r"一共|总共|共计|合计|总计|累计|总额|总投入|总投资|加起来")
TOTAL_RE = re.compile(rf"(?:共|累计|合计|总计|总额|总投资|总投入|全年|全市|全区|全县)[^，。；;]{{0,12}}{_NUM}")


def asks_total(text: str, unit: str | None) -> bool:
    """Is a total sum asked (一共拿出多少, 总投资多少)? A cap or a rate per item does not answer it."""
    return unit == "money" and bool(ASKED_TOTAL_RE.search(text)) and not ASKED_RATE_RE.search(text)


def asks_rate(text: str, unit: str | None) -> bool:
    """Is money asked per unit (一节课/每餐/一台…多少)?"""
    return unit == "money" and bool(ASKED_RATE_RE.search(text))


RATE_ROLES = ("subsidy", "charge", "income", "rent")  # money a letter states per unit as a standard


def asked_rate_unit(text: str, unit: str | None) -> str | None:
    """The unit money is asked per (退出来的塘一亩补多少钱 → 亩), for a letter stating it 每亩 anywhere."""
    m = ASKED_RATE_RE.search(text) if unit == "money" else None
    return m.group(1) if m else None


def asked_rate_or_total(text: str, unit: str | None, inferred: bool = False) -> bool | None:
    """holds_detail's `rate`: True for money per unit, None for a total, False otherwise.
    inferred: money the government put in (政府投了多少钱) counts as a total too — for choosing the sentence
    that leads, not for refusing (a letter may state only what it spent per item)."""
    if asks_rate(text, unit):
        return True
    return None if asks_total(text, unit) or (inferred and unit == "money" and money_role(text) in ("invest", "purchase")) else False


def holds_detail(sentence: str, aspect: str, unit: str | None, role: str | None = None, heading: str = "",
                 rate: bool | None = False) -> bool:
    """Does the sentence hold the kind of detail the aspect asks for (for money, flowing the asked way)?
    rate: True when money is asked per unit, None when a total is asked (asked_rate_or_total).
    A sentence under a 存在的问题/困难 heading states a reason."""
    if aspect == "amount":
        if unit == "frequency":
            return bool(FREQUENCY_RE.search(sentence))
        unit_re = UNIT_CLASSES.get(unit or "", "|".join(UNIT_CLASSES.values()))
        if not re.search(_NUM + r"\s*(?:余|多|近|约)?\s*" + f"(?:{unit_re})", sentence):
            return False
        if unit == "money" and rate and not RATE_RE.search(sentence):
            return False
        if unit == "money" and rate is None and RATE_RE.search(sentence) and not TOTAL_RE.search(sentence):
            return False  # a total asked (rate is None): "最高100万元" or "按40%补助" is not one
        if unit == "money" and role is not None:
            return bool(dict(MONEY_ROLES)[role].search(sentence))
        return True
    if aspect == "date":
        if unit == "start":  # 什么时候开工: the date of the start, not of the opening
            return bool(DATE_RE.search(sentence)) and bool(START_RE.search(sentence))
        if unit == "clock":
            return bool(CLOCK_RE.search(sentence))
        return bool(DATE_RE.search(sentence))
    if aspect == "reason":
        return bool(REASON_RE.search(sentence) or PROBLEM_HEAD_RE.search(heading))
    if aspect == "who":
        if unit == "company":  # 哪家公司在运营: a company named, not any office
            return bool(COMPANY_RE.search(sentence))
        if unit == "which":  # the things asked for are named (the subset check: 镇 for 哪几个镇)
            return True
        return bool(WHO_RE.search(sentence) or department_table().find_in(sentence))
    return True


def default_sentence_bar(model: str) -> float | None:
    """Sentence-level cosine bar per model family (measured; docs/tuning.md)."""
    low = model.lower()
    if "e5" in low:
        return 0.88
    if low.startswith("fake"):
        return 0.5
    return None


@lru_cache(maxsize=65536)
def sentence_words(text: str) -> frozenset[str]:
    return frozenset(default_tokenizer().tokens(text))


def best_sentences(retriever: "Retriever", g: ReplyHits, q: "Query", k: int = 4) -> list[tuple[int, float]]:
    """The reply's sentences that best match the question: (row, score) by cosine plus a share of topic
    words, best first (rows of the sentence table; empty without sentence vectors)."""
    st = retriever.index.sentences
    if st is None or not len(g.sentence_rows):
        return []
    text = g.reply.text
    topic = set(q.topic)
    scores = []
    for row, sim in zip(g.sentence_rows, g.sentence_sims):
        if st.label_of(int(row)) not in ("done", "plan"):  # the title and headings state no figure, date or reason
            continue
        s = text[int(st.start[row]):int(st.end[row])]
        lex = len(sentence_words(s) & topic) / max(1, len(topic)) if topic else 0.0
        scores.append((int(row), float(sim) + 0.1 * lex))
    scores.sort(key=lambda x: -x[1])
    return scores[:k]


# a question asking whether a reply on the topic exists at all (有没有…的答复, 有相关答复吗, 哪个部门答复过)
REPLY_EXISTS_RE = re.compile(r"(?:有没有|有无|是否有|有)[^，,。？?]{0,10}(?:答复|回复)|(?:答复|回复)过")


def read_sentence(text: str, start: int, end: int) -> str:
    """A sentence of a letter as it reads: a flattened table's row under its header (service/tables.py)."""
    return row_reading(text, start, end) or text[start:end]


def judge(retriever: "Retriever", g: ReplyHits, q: "Query") -> None:
    s = retriever.settings
    bar = s.sentence_min if s.sentence_min is not None else default_sentence_bar(retriever.index.manifest["model"])
    sent = g.sentence_best
    if not q.topic:  # "第28号提案是怎么答复的？", "人社局答复了哪些提案": a reply or department is named, not a topic
        # a place named with nothing else ("綦江区呢？" with no conversation before it): that place's letters
        on = g.identified or bool(g.department_ok) or g.coverage >= s.min_relevance or (
            bool(q.places) and g.constraints_ok and not q.fields)
    else:
        on = g.topic_coverage >= s.topic_min_coverage
        z = g.sentence_z
        if not on and z is not None:  # how far the best sentence stands above this question's background
            on = z >= s.sentence_z_min or (z >= s.sentence_z_min_words and g.topic_coverage >= s.topic_min_coverage_dense)
        elif not on and bar is not None and sent is not None:
            on = sent >= bar + s.sentence_margin or (sent >= bar and g.topic_coverage >= s.topic_min_coverage_dense)
        if not on and sent is None and retriever.min_dense is not None and g.dense_best is not None:
            on = g.dense_best >= retriever.min_dense + s.dense_sure_margin or (
                g.dense_best >= retriever.min_dense and g.topic_coverage >= s.min_dense_coverage)
        if not on and (counted := asked_counted(q.text)) and _counts_it(retriever, g, q, counted):
            on = True  # "那24个菜场": the letter counts that set (24家列入计划的市场), naming it in its own words
        if g.identified and g.topic_coverage >= s.min_dense_coverage:
            on = True
        elif on and g.topic_coverage < s.exists_min_coverage and REPLY_EXISTS_RE.search(q.text):
            # "有没有哪份答复讲过蚊媒传染病？": a letter naming none of the topic's words does not discuss it, however
            # close one of its sentences comes in meaning to a question that is all topic
            on = False
    g.on_topic = on
    judge_detail(retriever, g, q)


def _counts_it(retriever: "Retriever", g: ReplyHits, q: "Query", counted: tuple[str, str]) -> bool:
    """A sentence of the reply counts the set the question refers to and names one of its topic words."""
    st = retriever.index.sentences
    if st is None:
        return False
    topic = set(q.topic)
    return any(states_counted(s, counted, any_measure=True) and sentence_words(s) & topic
               for r in map(int, g.sentence_rows) for s in [g.reply.text[int(st.start[r]):int(st.end[r])]])


def judge_detail(retriever: "Retriever", g: ReplyHits, q: "Query") -> None:
    """detail_ok and year_stated of a reply judged on topic, then covers."""
    s = retriever.settings
    g.detail_ok = True
    if g.on_topic and q.aspect in ("amount", "date", "reason", "who") and retriever.index.sentences is not None:
        details = asked_details(q.text, q.aspect)
        text = g.reply.text
        st = retriever.index.sentences
        chunks = retriever.index.chunks
        # a figure for a named year that the letter reports from another year's point of view (a 2020
        # letter asked about 2021) must be stated for that year: "2019年…2.3万人次" does not answer 2021
        other_year = [y for y in q.years if y != g.reply.year]
        classes = asked_classes(q.text)
        # each ask of a two-part question gets its own share of the letter's best sentences
        rows = [r for r, _ in best_sentences(retriever, g, q, k=s.detail_sentences * len(details))]
        # asks specific enough to be sought in the whole letter, however far its wording is from the question's: a fine
        # (罚了多少钱: its 罚款 sentence) and a rate per the asked unit (一户补多少: 每户1500元 in a later paragraph)
        # …and a figure of a named year the letter looks back on (2023年买AED预算多少, in a 2024 letter): the done
        # sentence that states that year's figure, wherever it stands
        sought = [d for d in details if d.role == "fine" or d.per]
        # …and a grant, fee, pay or rent asked per a unit (一亩补多少): a sentence stating it per that unit (补偿标准为
        # 每亩1200元); not a cost (一亩总共得花多少钱), which a grant per 亩 elsewhere in the letter does not state
        per_unit = [(d, u) for d in details if d.rate and not d.per and d.role in RATE_ROLES
                    and (u := asked_rate_unit(q.text, d.unit))]
        if sought or other_year or per_unit:
            for r in map(int, g.sentence_rows):
                label = st.label_of(r)
                if label not in ("done", "plan"):
                    continue
                sent = read_sentence(text, int(st.start[r]), int(st.end[r]))
                if (sought and holds_any(sent, sought)) or any(
                        re.search(rf"每{u}|/{u}", sent) and holds_any(sent, [d]) for d, u in per_unit) or (
                        other_year and label == "done" and any(names_year(sent, y, g.reply.year) for y in other_year)
                        and holds_any(sent, details)):
                    rows.append(r)
        if s.detail_next:  # the figure often follows the sentence that names the topic ("…由县财政按标准补助。县财政按每户380元…")
            stop = st.rows_of(int(st.reply[rows[0]])).stop if rows else 0  # the rows of one reply are contiguous
            rows += [r + 1 for r in rows if r + 1 < stop and st.label_of(r + 1) in ("done", "plan")]

        def year_ok(sent: str, d: Detail) -> bool:  # an ask of its own clause is bound by that clause's years only
            years = other_year if d.years is None else [y for y in d.years if y != g.reply.year]
            return all(names_year(sent, y, g.reply.year) for y in years)

        held = [(r, sent) for r in dict.fromkeys(rows) for sent in [read_sentence(text, int(st.start[r]), int(st.end[r]))]
                if any(year_ok(sent, d) for d in holds_any(sent, details, " ".join(chunks[int(st.chunk[r])].heading_path)))
                and not other_class(sent, classes)]
        g.detail_ok = bool(held)
        g.year_stated = bool(q.years) and any(names_year(sent, y, g.reply.year) and st.label_of(r) == "done"
                                              for r, sent in held for y in q.years)
    g.covers = g.constraints_ok and g.on_topic and g.detail_ok


def judge_groups(retriever: "Retriever", res: SearchResult) -> None:
    """Set covers/on_topic/detail_ok on every group, then answerable and missing on the result."""
    q = res.query
    if q is None:
        return
    pool = res.replies + [o for o in res.others if o not in res.replies]
    for g in pool:
        judge(retriever, g, q)
    place_lead(retriever, pool, q)
    if q.constrained:  # a reply of the named place that merely shares a word is not on the topic that
        # replies of other places cover squarely (崇川 托育 is not 家庭医生签约, which 通州 and 海门 answer)
        outside = [g for g in pool if not g.constraints_ok and g.on_topic]
        for g in pool:
            if g.constraints_ok and g.on_topic and any(
                    d.topic_coverage >= g.topic_coverage + s_.dominance_gap and (d.sentence_best or 0) >= (g.sentence_best or 0)
                    and not _as_close(g, d, s_) for d in outside for s_ in [retriever.settings]):
                g.on_topic = False
                g.covers = False
    if retriever.settings.answerability == "coverage":  # the earlier rule, for ablation: words or dense score
        for g in res.replies:
            g.covers = g.constraints_ok and (g.coverage >= retriever.settings.min_relevance or g.on_topic)
    head = res.replies[:retriever.settings.top_k]
    first = next((i for i, g in enumerate(head) if g.covers), None)
    if first is not None and first > 0:  # the first covering reply leads ...
        top, cov = head[0], head[first]
        # ... unless the reply ranked above it holds more of the topic's words and comes as close in meaning:
        # then the covering one got over the bar by its sentence alone, and the better-ranked one is judged
        # on topic too (it was below the bar by a hair, in the same question)
        if (top.constraints_ok and top.detail_ok and top.topic_coverage > cov.topic_coverage
                and (top.sentence_z or 0) >= (cov.sentence_z or 0) - RANK_KEEP_Z):
            top.on_topic = top.covers = True
        else:
            res.replies.insert(0, res.replies.pop(first))
    if first is not None and q.years and not res.replies[0].year_stated and any(
            d.aspect == "amount" for d in asked_details(q.text, q.aspect)):
        # "2023年批了多少？": the letter stating the figure for 2023 (the next year's letter, as a rule) before the
        # letter of 2023 that gives 2022's figures
        stated = next((g for g in res.replies[:retriever.settings.top_k] if g.covers and g.year_stated), None)
        if stated is not None:
            res.replies.insert(0, res.replies.pop(res.replies.index(stated)))
    if first is not None and not (q.years or q.letter_years) and NOW_ASK_RE.search(q.text):
        # "最后实际花了多少钱", "现在有几个": of one place's letters on the topic, the latest tells how it stands now
        lead = res.replies[0]
        later = [g for g in res.replies[1:retriever.settings.top_k] if g.covers and g.places == lead.places
                 and (g.reply.year or 0) > (lead.reply.year or 0) and (g.sentence_z or 0) >= (lead.sentence_z or 0) - NOW_KEEP_Z]
        if later:
            newest = max(later, key=lambda g: g.reply.year or 0)
            res.replies.insert(0, res.replies.pop(res.replies.index(newest)))
    res.answerable = first is not None
    if res.answerable:
        res.missing = ""
        return
    pool = res.replies + [o for o in res.others if o not in res.replies]
    s = retriever.settings
    # the named place has letters on the topic: what is missing there is the year or the detail, not the topic
    place_has_topic = bool(q.places) and any(g.on_topic and g.place_ok for g in pool)
    if not place_has_topic and any(squarely_on_topic(g, s) and g.detail_ok and not g.place_ok for g in pool):
        res.missing = "place"
    elif any(squarely_on_topic(g, s) and g.detail_ok and not g.year_ok for g in pool):
        res.missing = "year"
    elif any(g.on_topic and g.constraints_ok and not g.detail_ok for g in pool):
        res.missing = "detail"
    elif q.constrained and any(g.constraints_ok for g in res.replies):
        res.missing = "topic"
    else:
        res.missing = ""


def place_lead(retriever: "Retriever", pool: list[ReplyHits], q: "Query") -> None:
    """The named place's first reply is on topic when its best sentence stands ≥ sentence_z_min_words above the
    background and within place_lead_z of the best sentence of any reply, of any place: nothing in the corpus
    matches much better, so the place's letter is on the asked topic in other words ("劝住了多少个老人没上当" for
    a letter on 反诈 for the elderly). A place-other-topic question has another place's letter far above it."""
    s = retriever.settings
    if not q.places or not q.topic or not pool:
        return
    first = pool[0]
    zs = [g.sentence_z for g in pool if g.sentence_z is not None]
    if (first.on_topic or not first.constraints_ok or first.sentence_z is None
            or first.sentence_z < s.sentence_z_min_words or first.sentence_z < max(zs) - s.place_lead_z):
        return
    first.on_topic = True
    judge_detail(retriever, first, q)


def _as_close(g: ReplyHits, d: ReplyHits, s) -> bool:
    """The named place's reply is on topic by meaning alone and matches about as closely as the other place's:
    it words the topic differently (消防车通道, 背街小巷), it is not on another topic."""
    zg, zd = g.sentence_z or 0.0, d.sentence_z or 0.0
    return zg >= s.sentence_z_min and zg >= zd - s.dominance_z


def squarely_on_topic(g: ReplyHits, s) -> bool:
    """On topic by both measures, not by one alone: what a "what exists elsewhere" line may cite."""
    return g.on_topic and (g.topic_coverage >= s.topic_min_coverage_dense or not g.sentence_z
                           or g.sentence_z >= s.sentence_z_min + 0.5)


def alternatives(res: SearchResult, limit: int = 3, settings=None) -> list[ReplyHits]:
    """Replies squarely on the topic that fail only the named place or year (what exists instead)."""
    pool = res.replies + [o for o in res.others if o not in res.replies]
    out = [g for g in pool if g.detail_ok and not g.constraints_ok
           and (squarely_on_topic(g, settings) if settings is not None else g.on_topic)]
    out.sort(key=lambda g: -(g.sentence_best if g.sentence_best is not None else g.score))
    return out[:limit]

