"""Done and plan told apart as a reader would: a plan that opens a list makes its items plans; greetings,
closing formulas, praise of the proposal and the 办复类别 statement are courtesy; titles are headings."""
from __future__ import annotations

from index.chunking import _sentences
from index.records import Reply

LETTER = """答复内容:
王建华、李秀英委员:
您好!
您提出的建议收悉，现答复如下：
一、工作开展情况
（一）助餐网络。将助餐点纳入食品安全日常监管。全区建成助餐点86个。
二、存在问题
受资金限制，部分助餐点运营困难。
我局下一步将采取以下工作措施:一是扩大覆盖面；二是探索送餐上门；三是将助餐补贴列入今年第四季度工作计划。
三、其他情况
一是全区已建成中央厨房2个；二是配送车辆12辆。
四、下一步工作打算
下一步，我局将重点做好以下工作：
1.加强监管。
2.提升服务质量，开展满意度调查。
序号 项目名称 建设内容 完成情况
您提出的建议针对性强，对我们改进工作很有帮助。
本件答复为A类。
感谢您的关心。
特此答复。
南通市海门区民政局
2022年6月8日"""


def _labels(text: str = LETTER) -> dict[str, str]:
    """Each sentence of a letter (its reply starting after '答复内容:') with its label."""
    r = Reply(id="x", text=text, reply_span=(6, len(text)))
    return {text[s.start:s.end]: s.label for s in _sentences(r, "reply", 6, len(text))}


def test_plan_list_items_and_its_end():
    lab = _labels()
    assert lab["我局下一步将采取以下工作措施:一是扩大覆盖面；"] == "plan"
    assert lab["二是探索送餐上门；"] == "plan"
    assert lab["三是将助餐补贴列入今年第四季度工作计划。"] == "plan"
    # a heading ends the list: the items of the next section are what was done
    assert lab["一是全区已建成中央厨房2个；"] == "done" and lab["二是配送车辆12辆。"] == "done"
    assert lab["2.提升服务质量，开展满意度调查。"] == "plan"  # under 下一步工作打算
    assert lab["将助餐点纳入食品安全日常监管。"] == "done"  # a bare 将 in a section of what was done


def test_courtesy_and_headings():
    lab = _labels()
    for s in ("王建华、李秀英委员:", "您好!", "您提出的建议针对性强，对我们改进工作很有帮助。", "本件答复为A类。", "特此答复。",
              "南通市海门区民政局", "2022年6月8日"):
        assert lab[s] == "courtesy", s
    assert lab["（一）助餐网络。"] == "heading"
    assert lab["序号 项目名称 建设内容 完成情况"] == "heading"
    assert lab["受资金限制，部分助餐点运营困难。"] == "done"


RESTATED = """答复内容:
刘明委员:
你们在提案中提出了四个方面的建议：一是编制非机动车道专项规划；二是实施机非物理隔离；三是集中打通“断头路”。
四是加大整治力度。
学生在校吃得好是家长十分关心的民生小事，您在提案中反映的问题很有代表性。
一、已开展的工作
2023年全区新建改造非机动车道38.6公里，完成投资1.27亿元。
一是打通断头路9处；二是增设信号灯63组。
二、关于您提出的三点建议
您提出的三点建议：一是延长服务时间；二是增加网点。
经研究，延长服务时间已于2023年3月实施，全区12个网点每周六开放。
"""


def test_a_restated_list_is_the_proposals_not_the_replys():
    lab = _labels(RESTATED)
    # the proposal's asks told back, item by item (四个方面 is a count of points, not a result), are not evidence
    assert lab["你们在提案中提出了四个方面的建议：一是编制非机动车道专项规划；"] == "courtesy"
    assert lab["二是实施机非物理隔离；"] == "courtesy"
    assert lab["三是集中打通“断头路”。"] == "courtesy"
    assert lab["四是加大整治力度。"] == "courtesy"  # the enumerated line after it
    assert lab["学生在校吃得好是家长十分关心的民生小事，您在提案中反映的问题很有代表性。"] == "courtesy"  # praise of the proposal
    # a heading ends the restated list: what follows is the reply's own work
    assert lab["2023年全区新建改造非机动车道38.6公里，完成投资1.27亿元。"] == "done"
    assert lab["一是打通断头路9处；"] == "done" and lab["二是增设信号灯63组。"] == "done"
    assert lab["您提出的三点建议：一是延长服务时间；"] == "courtesy" and lab["二是增加网点。"] == "courtesy"
    # a plain paragraph after the list ends it too
    assert lab["经研究，延长服务时间已于2023年3月实施，全区12个网点每周六开放。"] == "done"


def test_a_restated_list_ends_where_the_reply_speaks_again():
    text = ("答复内容:\n您在提案中提出了五条具体建议：一是开设陪诊服务；二是将陪诊服务费纳入医保报销。我们对照建议逐条研究，前四条已在试点中落实。\n"
            "您在建议中反映偏远乡镇群众办事远的问题，我们高度重视，近年来主要做了以下工作：\n一是推行“午间不打烊”。自2023年3月起中午正常办理登记。\n")
    lab = _labels(text)
    assert lab["二是将陪诊服务费纳入医保报销。"] == "courtesy"
    assert lab["我们对照建议逐条研究，前四条已在试点中落实。"] == "done"  # not an item: the list has ended
    assert lab["自2023年3月起中午正常办理登记。"] == "done"  # the intro says what *we* did: the items are the reply's


def test_a_table_header_with_a_long_cell_is_a_heading():
    from index.labels import is_table_header

    assert is_table_header("序号 书房名称 所在位置 面积（平方米） 建成年份 2023年接待读者（万人次）")
    assert not is_table_header("1 青禾街道 41 13860 2186 已完工")
