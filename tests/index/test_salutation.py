"""Salutation variants: two or more names, 等, (等N位), no colon, redacted names. Letters are fictional (虚构示例)."""
from __future__ import annotations

import pytest

from index.extract import extract_reply
from index.parse import parse_labelled
from index.salutation import match_salutation

BODY = ("\n您们提出的“关于加强社区嵌入式托育服务的建议”收悉，现答复如下：\n"
        "我局已在全区新建普惠托育点12个，新增托位480个。下一步将继续扩大普惠托育供给。\n"
        "感谢您们对卫生健康工作的关心！\n\n南通市崇川区卫生健康委员会\n2024年6月18日\n")

CASES = [
    ("王建华、李秀英委员", "王建华、李秀英", "提案"),  # no colon
    ("王建华、李秀英委员：", "王建华、李秀英", "提案"),
    ("王建华 李秀英委员：", "王建华、李秀英", "提案"),  # names separated by a space
    ("尊敬的王建华、李秀英委员", "王建华、李秀英", "提案"),
    ("张敏(等10位)代表:", "张敏", "建议"),
    ("张敏（等10位）代表：", "张敏", "建议"),
    ("张敏（等十人）代表", "张敏", "建议"),
    ("张敏等代表:", "张敏", "建议"),
    ("周海燕、吴强、郑丽等3位代表：", "周海燕、吴强、郑丽", "建议"),
    ("XX等代表:", "XX", "建议"),  # redacted on a public page: kept as written
    ("×××委员：", "×××", "提案"),
    ("张某代表：", "张某", "建议"),
]


@pytest.mark.parametrize("salutation, proposer, kind", CASES)
def test_unlabelled_letter_gets_proposer_and_kind(salutation, proposer, kind):
    r, _ = extract_reply(salutation + BODY, "t.txt")
    assert (r.proposer, r.kind) == (proposer, kind)
    assert r.field_sources["proposer"] == "pattern:salutation"


@pytest.mark.parametrize("salutation, proposer, kind", CASES)
def test_labelled_file_with_empty_proposer_takes_it_from_the_salutation(salutation, proposer, kind):
    text = ("建议/提案提出者: \n建议/提案号: 17\n标题: 关于加强社区嵌入式托育服务的建议\n"
            "承办单位: 主办: 卫健委\n答复日期: 2024-06-18\n答复内容:\n" + salutation + BODY)
    r, _ = parse_labelled(text, "t.txt")
    assert (r.proposer, r.kind) == (proposer, kind)


@pytest.mark.parametrize("line", ["区人大代表：", "各位委员：", "政协委员", "全国人大代表", "感谢各位代表的支持",
                                  "张建国代表在会上提出的建议收悉", "您好，关于委员", "我局高度重视委员"])
def test_not_salutations(line):
    assert match_salutation(line) is None
