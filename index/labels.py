"""Label reply sentences: done (做法、成效), plan (下一步), courtesy (收悉、感谢、署名、联系方式)."""
from __future__ import annotations

import re

COURTESY_RE = re.compile(
    r"^(?:本|该|此|您的|你的|你们的)?(?:提案|建议|件)?由[^。，,]{1,30}(?:主办|牵头办理|承办)[，,、；;][^。]{0,60}(?:协办|会办|参与办理)[。]?$|"  # who handled it: the record
    r"收悉|现(?:将有关情况|就有关情况|将办理情况|将)?答复如下|现答复|答复意见如下|形成如下.{0,8}答复|会办答复|"
    r"感谢.{0,30}(?:关心|支持|关注|建议|理解)|衷心感谢|谢谢|再次感谢|"
    r"欢迎.{0,10}(?:继续|多提|批评|指导)|敬请|请予?谅解|"
    r"联\s*系\s*人|联系电话|联系方式|联系单位|联系部门|电\s*话[:：]|邮\s*编|地\s*址[:：]|传\s*真|电子邮箱|抄\s*送|签发人|"
    r"(?:有何|有不同|如有)(?:意见|建议).{0,20}联系|与(?:我们|我局|我委|我办)联系|"
    r"^(?:我局|我委|我办|我们|对此|对您的(?:提案|建议))?.{0,12}高度重视[，,].{0,40}(?:研究|办理|沟通|调研|小组)|"
    r"高度重视(?:您|你们|代表|委员)?的?(?:提案|建议|意见)[，,].{0,60}(?:研究|办理|沟通|调研|走访)|"
    r"(?:认真研究|专题研究|研究办理|会商)[^。]{0,60}(?:实地察看|实地走访|当面听取|听取.{0,8}意见|座谈)|"
    r"(?:邀请|陪同).{0,12}(?:代表|委员)[^。；;]{0,40}(?:察看|视察|调研|座谈|参加)|"
    r"(?:建议|提案|意见)[^。]{0,30}(?:针对性|可操作性|切中要害|参考价值|指导意义|借鉴意义|建设性|很有代表性|具有代表性)|"
    r"^[^。]{0,60}等?(?:建议|意见)[，,][^。]{0,16}(?:全部|大部分|大多|基本|均|已)[^。]{0,10}(?:吸收|吸纳|采纳|落实)[^。]{0,6}[。！]?$|"
    r"(?:属于|列为|归为|作为)[^。]{0,10}(?:已经?解决或采纳|正在解决|列入计划逐步解决|因条件限制|需逐步解决|留作参考)|"
    r"按\s*[ABC]\s*类(?:办复|答复|办理)|"
    r"^[^。]{0,40}(?:市委|区委|县委|党委)[、，,和]?(?:市|区|县)?政府(?:一直|始终)?高度重视[。！!]?$|"
    r"^(?:我局|我委|我办|我们)?(?:会同|联合)[^。]{0,60}(?:进行了?|开展了?)?(?:认真|专题)研究[^。\d]{0,40}[。！!]?$|"
    r"(?:当面|上门)(?:汇报|沟通|交流)(?:了)?(?:办理|答复)?(?:思路|情况|意见)?|"
    r"是一项[^。，,]{0,12}(?:工作|任务|工程)[，,][^。]{0,30}(?:共同努力|久久为功|持续用力|长期坚持)|"
    r"(?:电话|当面|上门|登门).{0,6}(?:与您|同您|和您)?.{0,4}(?:进行了?)?沟通|听取了您的意见|"
    r"^.{0,14}(?:吸纳|吸收|采纳)(?:了)?您(?:提出)?的.{0,8}(?:意见|建议)[^，,]{0,12}[。！!]?$|"
    r"^您(?:提出|所提|在提案中|在建议中|的(?:提案|建议)|长期|一直)[^。]{0,60}(?:针对性|切中要害|参考价值|指导意义|很有帮助|"
    r"借鉴意义|建设性|可操作性|符合.{0,6}实际|重要意义|已(?:全部|基本)?(?:吸收|吸纳|采纳))|"
    r"(?:本件|此件|该件)?(?:答复|办理结果|办复|办理)(?:类别)?(?:为|属于?|列为|[:：])\s*[ABC]\s*类|"
    r"(?:本件|此件|该件|本提案|本建议|该提案|该建议)(?:为|属于?|列为)\s*[ABC]\s*类|"
    r"是一项长期(?:性|的)?(?:的)?(?:工作|任务|工程|系统工程).{0,30}(?:共同努力|久久为功|持续用力)|"
    r"^[\u4e00-\u9fff·、，,]{2,60}?(?:[(（]?等\d*[位名]?[)）]?)?(?:委员|代表)(?:们)?[:：,，]?$|"
    r"^(?:尊敬的)?[\u4e00-\u9fff·、]{0,24}?(?:[(（]等\d*[位名]?[)）]|等)?(?:委员|代表)?[，,]?\s*您好[!！。]?$|^您好[!！。，,]?$|"
    r"^(?:特此|专此|现予)?(?:答复|函复|回复)[。.!！]?$|^此复[。.!！]?$|^特此(?:答复|函复|回复|说明)|^以上(?:答复|意见)|"
    r"^(?:再次)?(?:感谢|谢谢)|衷心希望您继续|恳请|请继续(?:关心|关注|支持)|"
    r"^(?:您|你们|贵[^。，,]{1,3}|该?提案|该?建议)[^。]{0,80}(?:切实可行|很有帮助|很好的(?:意见|建议)|很有见地|具有很强的)"
)
# the letter telling back what the proposal said ("建议中提出由社会餐饮企业集中配送午餐。", "你们在提案中反映的…问题，
# 是群众普遍关心的热点问题。"): neither done nor planned, when it reports nothing itself (no figure, no 已)
RESTATE_RE = re.compile(r"^(?:您|你们|贵[^。，,]{1,3}|代表|委员)?(?:在|所提)?(?:提案|建议)中?(?:提出|反映|提到|指出|建议)")
# a list's intro that counts the proposal's points ("您提出的三点建议：", "你们所提的几条意见：")
TOLD_BACK_RE = re.compile(r"^(?:您|你们|贵[^。，,]{1,3}|代表|委员)(?:们)?(?:提出|所提|所提出)(?:的|了)[^。：:，,]{0,8}(?:建议|意见|问题)")
# … and ends on what they count ("…提出了五条具体建议", not "…的问题，我们近年来主要做了以下工作")
RESTATED_END_RE = re.compile(r"(?:建议|意见|诉求|问题|要求|方面)(?:如下)?$")
PLAN_HEAD_RE = re.compile(r"下一步|今后|打算|计划|展望|努力方向|工作思路|后续")
# future-tense markers: strong ones make a plan anywhere; a bare 将 (which also reads as the past
# "将X纳入Y") only outside a section that reports what was done
PLAN_RE = re.compile(
    r"^(?:下一步|今后|接下来|未来|后续)|下一步|^(?:我局|我们|我委|我区|我办|区政府|各地|各部门)?(?:拟|计划|力争|准备|争取|预计|还将)|"
    r"(?:我局|我们|我委|我办|我中心)(?:还|也|都|仍)?将|还将|也将|将于|将在.{0,16}(?:时|中|前|后)|"
    r"(?:今年|明年|年内|今后|后续|届时|下阶段|下一阶段)(?:还|也|仍|再)?将|^(?:今年|明年)[，,]?(?:我[市区县局委])?(?:计划|拟|力争|预计)|(?:19|20)\d{2}年(?:计划|拟|力争|预计)|"
    r"年内(?:新增|完成|建成|实现|新建|开工)|"
    r"力争|拟于|拟在|拟将|计划于|计划在|预计|(?<!已)(?<!已经)(?<!具备)(?<!未)(?<!未被)(?<!没有)(?<!不予)(?<!无法)(?<!不能)列入.{0,24}(?:计划|规划|议程)|(?:年底|年内|月底|季度)前(?:完成|建成|实现)|"
    r"将(?:进一步|继续|持续|加快|加大|积极|不断|着力|重点|研究|争取|探索|认真)|将(?:会同|联合|与|协调).{0,20}(?:研究|出台|制定)|"
    r"研究出台|适时(?:出台|启动|开展)|择机"
)
ALREADY_DONE_RE = re.compile(r"已(?:于|在)\s*(?:19|20)\d{2}\s*年[^，。；;]{0,12}(?:建成|完成|投入|投用|开通|运营|运行|实施|印发|出台|开业|竣工)|"
                             r"(?:现|目前)已(?:经)?(?:建成|完成|投入使用|投用|开通|覆盖)|"
                             # "截至2024年6月底，24家列入计划的市场中已完成改造16家，…其余3家将于明年开工": a status report
                             r"^截至[^。；;]{0,40}?已(?:经)?(?:完成|建成|投入使用|投用|开通|覆盖|整改|改造|开工)|"
                             # "原计划改造线路8条，实际完成9条": what was actually done against the plan
                             r"实际(?:完成|建成|新建|新增|改造|投入|支出|发放|招收)|超额完成")
PLAN_OPENING_RE = re.compile(r"(?:下一步|今后|接下来|未来|后续|下阶段|下一阶段|力争|计划|拟|预计)")
WEAK_PLAN_RE = re.compile(r"^(?:我局|我们|我委|我区|我办|区政府)?将|将(?:结合|会同|推动|加强)|^(?:会同|联合)[^，,。]{1,24}将")
DONE_HEAD_RE = re.compile(r"做法|开展情况|工作情况|主要工作|已(?:经)?开展|成效|进展|办理情况|落实情况|基本情况|现状|取得|举措")
# list markers that open an item: 一、 (一) 1. (1) ① 一是 第一， 首先
ENUM_RE = re.compile(
    r"^\s*(?:[一二三四五六七八九十]{1,3}[、.．]|[(（][一二三四五六七八九十\d]{1,3}[)）]|\d{1,2}[.．、](?!\d)|[①②③④⑤⑥⑦⑧⑨⑩]|"
    r"[一二三四五六七八九十]是|第[一二三四五六七八九十]{1,3}[，,、]|首先|其次|再次|最后)")
# a sentence that opens a list of what follows: "…采取以下工作措施:一是…", "…重点做好以下工作："
LIST_INTRO_RE = re.compile(r"(?:以下|如下|下列|几个方面|几方面)[^。；;]{0,12}[:：]|[:：]\s*(?:一是|首先|第一[，,]|[(（]?[1一][)）、.．])|[:：]\s*$")
DONE_HINT_RE = re.compile(r"\d|[一二三四五六七八九十百千万]+(?:个|家|所|项|名|人|次|万元|亿元)|已|先后|累计|建成|完成|实现|获评|创建|出台|印发")
HEADING_RE = re.compile(
    r"^\s*(?:(?P<l1>[一二三四五六七八九十]{1,3}[、.．])|(?P<l2>[(（][一二三四五六七八九十]{1,3}[)）])|"
    r"(?P<l3>\d{1,2}[.．、](?!\d))|(?P<l4>[(（]\d{1,2}[)）])|(?P<l5>[①②③④⑤⑥⑦⑧⑨⑩]))"
)


def heading_level(line: str) -> int | None:
    m = HEADING_RE.match(line)
    if not m:
        return None
    for lvl in range(1, 6):
        if m.group(f"l{lvl}"):
            return lvl
    return None


def strip_enum(sentence: str) -> str:
    """The sentence without a leading list marker (一是将… → 将…)."""
    m = ENUM_RE.match(sentence)
    return sentence[m.end():].lstrip("，,、 ") if m else sentence


def label_sentence(sentence: str, heading_path: list[str], *, is_signature: bool = False) -> str:
    s = sentence.strip()
    if is_signature or COURTESY_RE.search(s) or COURTESY_RE.search(strip_enum(s)):
        return "courtesy"
    if any(PLAN_HEAD_RE.search(h) for h in heading_path):
        return "plan"
    body = strip_enum(s)
    if RESTATE_RE.match(body) and not DONE_HINT_RE.search(body) and not PLAN_RE.search(body):
        return "courtesy"
    # "2023年完成改造3500户" is done; "下一步，我局计划2023年完成改造3500户" is not
    if re.search(r"(?<!计划|力争|预计|争取)(?<![拟将到在于])(?:19|20)\d{2}年(?:(?!计划|拟|力争|预计|将|前).){0,12}(?:已|完成|建成|新增|累计)", s) \
            and not PLAN_OPENING_RE.match(body):
        return "done"
    # "我局争取专项资金…建成冷库…，已于2024年10月投入运营": a completion stated outright is done, whatever the
    # sentence opened with (争取 also reads as the past "secured"); a 下一步/今后 opening stays a plan
    if ALREADY_DONE_RE.search(s) and not PLAN_OPENING_RE.match(body):
        return "done"
    if PLAN_RE.search(s) or PLAN_RE.search(body):
        return "plan"
    if (WEAK_PLAN_RE.search(body) or WEAK_PLAN_RE.search(s)) and not any(DONE_HEAD_RE.search(h) for h in heading_path):
        return "plan"
    return "done"


def is_table_header(line: str) -> bool:
    """A flattened table's header row: three or more short cells of words, no sentence punctuation and at
    most one cell with a figure ('序号 项目名称 建设内容 总投资(万元) 完成情况')."""
    cells = line.split()
    if len(cells) < 3 or re.search(r"[。，；;,！？]", line):
        return False
    if any(len(c) > 16 for c in cells) or re.match(r"\d", cells[0]):  # 2023年接待读者（万人次）: 14
        return False
    return sum(bool(re.search(r"\d", c)) for c in cells) <= 1


def is_figure_row(sentence: str, cells: list[str] | None = None) -> bool:
    """A flattened table's data row that is mostly figures ('石桥街道 38 3900 168', '合计 137 46200 7315'): it reads
    only under its header, so it is no point of its own for a broad question. `cells`: the row split otherwise than
    at every space (service/tables.py splits a Word table's row at two spaces)."""
    cells = sentence.split() if cells is None else cells
    if len(cells) < 3 or re.search(r"[。，；;,！？]", sentence):
        return False
    return sum(bool(re.fullmatch(r"[\d.,%％—\-]+", c)) for c in cells) * 2 >= len(cells)


def opens_list(sentence: str) -> bool:
    """Does the sentence introduce a list of items that follow (in the same paragraph or the next lines)?"""
    return bool(LIST_INTRO_RE.search(sentence.strip()))


def restates(intro: str) -> bool:
    """Does a list's intro tell back what the proposal asked ("你们在提案中提出了四个方面的建议", "您建议")?
    Its count of points (四个方面) is not a figure the reply reports."""
    body = strip_enum(intro.strip()).rstrip("，,。 ")
    return bool(RESTATE_RE.match(body) or TOLD_BACK_RE.match(body)) and bool(RESTATED_END_RE.search(body)) \
        and not re.search(r"已|(?:19|20)\d{2}年|我们|我[局委办市区县]|做了|开展|采取", body) and not PLAN_RE.search(body)


def is_item(sentence: str) -> bool:
    return bool(ENUM_RE.match(sentence))


def has_facts(sentence: str) -> bool:
    """Done-type evidence with numbers, years or completed measures."""
    return bool(DONE_HINT_RE.search(sentence))
