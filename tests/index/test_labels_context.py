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


def _labels():
    r = Reply(id="x", text=LETTER, reply_span=(6, len(LETTER)))
    return {LETTER[s.start:s.end]: s.label for s in _sentences(r, "reply", 6, len(LETTER))}


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
