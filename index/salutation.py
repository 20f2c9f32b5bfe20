"""The salutation that opens a reply letter: who the proposal came from, and whether it was a 提案 (委员,
CPPCC) or a 建议 (代表, people's congress). Shared by the labelled parser and the unlabelled extractor.

Accepted shapes (the colon may be missing when the salutation stands alone on its line):
``戴红玲委员：`` ``尊敬的张建国代表：`` ``王建华、李秀英委员`` ``王建华 李秀英委员：`` ``陈静等3位委员：``
``陈静等三位委员：`` ``张敏(等10位)代表:`` ``张敏（等10人）代表：`` ``张敏等代表：`` and names redacted on
public pages (``XX等代表:``, ``×××委员：``, ``张某代表：``), which are kept as written; also ``王  华委员：`` (a
two-character name spaced out), ``市政协王华委员：``, ``王华代表您好：``, ``王华委员（第123号提案）：``.
"""
from __future__ import annotations

import re

_CN_NUM = "一二三四五六七八九十两〇零百"
_REDACTED = r"[XxＸｘ×＊*○◯]"
_NAME = rf"(?:[\u4e00-\u9fff]{{2,4}}?|[\u4e00-\u9fff]{{1,6}}·[\u4e00-\u9fff·]{{1,12}}?|{_REDACTED}{{1,4}}|[\u4e00-\u9fff]{_REDACTED}{{1,3}}|[\u4e00-\u9fff]某{{1,2}})"
_SEP = r"(?:[、，,/]|[ \t\u3000]+)"
_MANY = rf"(?:[（(][ \t\u3000]*等[ \t\u3000]*[\d{_CN_NUM}]*[ \t\u3000]*[位名人]?[ \t\u3000]*[）)]|等[\d{_CN_NUM}]*[位名人]?)?"
SALUTATION = re.compile(
    rf"^[ \t\u3000]*(?:尊敬的[ \t\u3000]*)?(?:[省市区县]?(?:政协|人大(?:常委会)?)[ \t\u3000]*)?"
    rf"(?P<names>{_NAME}(?:{_SEP}{_NAME})*){_MANY}[ \t\u3000]*(?P<role>委员|代表)"
    rf"(?:同志|们)?[ \t\u3000]*(?:[（(][^（）()\n]{{1,24}}[）)])?[ \t\u3000]*(?:您好|你好)?[ \t\u3000]*(?:[:：,，!！]|$)")
# a two-character name spaced out to align with three-character ones in Word (王  华委员：)
_SPACED = re.compile(r"(^[ \t\u3000]*(?:尊敬的)?|[、，,])[ \t\u3000]*([\u4e00-\u9fff])[ \t\u3000]+([\u4e00-\u9fff])(?=[ \t\u3000]*(?:[、，,]|委员|代表|等))")
_NOT_NAMES = re.compile(r"人大|政协|各位|全体|广大|有关|相关|尊敬|关于|您好|你好|感谢|收悉|答复|建议|提案|办理")


def match_salutation(line: str) -> tuple[str, str] | None:
    """(proposer names joined with 、, role 委员|代表) when `line` is a salutation, else None."""
    m = SALUTATION.match(_SPACED.sub(r"\1\2\3", line.rstrip()))
    if not m or _NOT_NAMES.search(m.group("names")):
        return None
    names = [n for n in re.split(_SEP, m.group("names")) if n]
    return "、".join(names), m.group("role")


def kind_of_role(role: str) -> str:
    """提案 for 委员 (CPPCC), 建议 for 代表 (people's congress) and their groups."""
    return "建议" if role == "代表" or role.endswith(("代表团", "代表组")) else "提案"
