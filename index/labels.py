"""Label reply sentences: done (做法、成效), plan (下一步), courtesy (收悉、感谢、署名、联系方式)."""
from __future__ import annotations

import re

COURTESY_RE = re.compile(
    r"收悉|现(?:将有关情况|就有关情况|将办理情况|将)?答复如下|现答复|答复意见如下|形成如下.{0,8}答复|会办答复|"
    r"感谢.{0,30}(?:关心|支持|关注|建议|理解)|衷心感谢|谢谢|再次感谢|"
    r"欢迎.{0,10}(?:继续|多提|批评|指导)|敬请|请予?谅解|"
    r"联\s*系\s*人|联系电话|联系方式|联系单位|联系部门|电\s*话[:：]|邮\s*编|地\s*址[:：]|传\s*真|电子邮箱|抄\s*送|签发人|"
    r"(?:有何|有不同|如有)(?:意见|建议).{0,20}联系|与(?:我们|我局|我委|我办)联系|"
    r"^(?:我局|我委|我办|我们|对此|对您的(?:提案|建议))?.{0,12}高度重视[，,].{0,40}(?:研究|办理|沟通|调研|小组)|"
    r"(?:电话|当面|上门|登门).{0,6}(?:与您|同您|和您)?.{0,4}(?:进行了?)?沟通|听取了您的意见|"
    r"吸纳您(?:提出)?的.{0,6}(?:意见|建议)|吸纳您的|"
    r"^[\u4e00-\u9fff·]{2,12}(?:等\d*[位名]?)?(?:委员|代表)[:：,，]?$"
)
PLAN_HEAD_RE = re.compile(r"下一步|今后|打算|计划|展望|努力方向|工作思路|后续")
PLAN_RE = re.compile(
    r"^(?:下一步|今后|接下来|未来|后续)|下一步|将(?:进一步|继续|持续|加快|加大|积极|不断|着力|重点|研究|结合|会同|争取|推动|探索|加强|认真)|"
    r"^(?:我局|我们|我委|我区)?(?:将|拟|计划|力争|准备|争取)|力争|拟于|计划于|计划在|预计"
)
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


def label_sentence(sentence: str, heading_path: list[str], *, is_signature: bool = False) -> str:
    s = sentence.strip()
    if is_signature or COURTESY_RE.search(s):
        return "courtesy"
    if any(PLAN_HEAD_RE.search(h) for h in heading_path):
        return "plan"
    if PLAN_RE.search(s) and not re.search(r"(?:19|20)\d{2}年.{0,12}(?:已|完成|建成|新增|累计)", s):
        return "plan"
    return "done"


def has_facts(sentence: str) -> bool:
    """Done-type evidence with numbers, years or completed measures."""
    return bool(DONE_HINT_RE.search(sentence))
