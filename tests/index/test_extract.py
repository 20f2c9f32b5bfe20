"""Field extraction from unlabelled letters (index/extract.py). Letters are fictional (虚构示例)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from index.errors import ParseError
from index.extract import complete_reply, extract_reply, find_number, normalize_number, read_meta_header
from index.parse import parse_labelled

_spec = importlib.util.spec_from_file_location("formats_builders", Path(__file__).parents[1] / "fixtures/formats/builders.py")
B = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(B)

BODY = "\n您提出的“关于推进垃圾分类的建议”收悉，现答复如下：\n我局已在全区推行垃圾分类工作，成效明显。\n感谢您的关心！\n\n南通市通州区城市管理局\n2023年6月1日\n"


@pytest.mark.parametrize(
    "salutation, proposer, kind",
    [
        ("戴红玲委员：", "戴红玲", "提案"),
        ("戴红玲委员:", "戴红玲", "提案"),
        ("尊敬的张建国代表：", "张建国", "建议"),
        ("陈静等3位委员：", "陈静", "提案"),
        ("陈静等三位委员：", "陈静", "提案"),
        ("王五等5名代表：", "王五", "建议"),
        ("周海燕、吴强代表：", "周海燕、吴强", "建议"),
        ("欧阳晓明委员：", "欧阳晓明", "提案"),
        ("九三学社通州区基层委员会：", "九三学社通州区基层委员会", "提案"),
        ("金沙代表组：", "金沙代表组", "建议"),
        ("县工商联：", "县工商联", "提案"),  # an organisation named in one character before its kind
        ("民革：", "民革", "提案"),
        ("  李明华委员同志：", "李明华", "提案"),
        ("王  华委员：", "王华", "提案"),  # a two-character name spaced out to align in Word
        ("王\u3000华、李\u3000明委员：", "王华、李明", "提案"),
        ("市政协王华委员：", "王华", "提案"),
        ("王华代表您好：", "王华", "建议"),
        ("王华委员（第123号提案）：", "王华", "提案"),
        ("民盟青川市委：", "民盟青川市委", "提案"),
        ("农工党青川市委会：", "农工党青川市委会", "提案"),
    ],
)
def test_salutation_gives_proposer_and_kind(salutation, proposer, kind):
    r, _ = extract_reply(salutation + BODY, "t.txt")
    assert (r.proposer, r.kind) == (proposer, kind)
    assert r.field_sources["proposer"] == "pattern:salutation"


def test_proposer_named_in_third_person():
    r, _ = extract_reply("关于第77号提案的答复\n\n现将李娜委员提出的《关于推动乡村文旅融合发展的提案》办理情况答复如下：\n" + BODY, "t.txt")
    assert r.proposer == "李娜" and r.field_sources["proposer"] == "pattern:mention"


@pytest.mark.parametrize(
    "head, number, kind",
    [
        ("关于区政协十四届二次会议第28号提案的答复", "28", "提案"),
        ("对区十七届人大三次会议第45号建议的答复", "45", "建议"),
        ("关于对区政协〔2023〕31号提案的答复", "〔2023〕31号", "提案"),
        ("关于[2023]28号提案的答复", "〔2023〕28号", "提案"),
        ("关于［2023］第8号建议的答复", "〔2023〕8号", "建议"),
        ("关于（2024）12号提案的答复", "〔2024〕12号", "提案"),
        ("关于第 7 号提案的答复", "7", "提案"),
        ("提案号：056", "56", ""),
        ("（第28号）", "28", ""),
        ("区政协十四届二次会议第N号提案".replace("N", "103"), "103", "提案"),
        ("关于市政协九届五次会议第2023018号提案的答复", "2023018", "提案"),  # year + serial, seven digits
        ("提案编号：第20240105号", "20240105", ""),
    ],
)
def test_number_patterns(head, number, kind):
    got, got_kind, _ = find_number([(head, "")])
    assert (got, got_kind) == (number, kind)


def test_reply_document_number_is_not_the_proposal_number():
    head = "南通市通州区住房和城乡建设局\n通住建提复〔2023〕7号\n关于对区政协〔2023〕31号提案的答复"
    assert find_number([(head, "")])[0] == "〔2023〕31号"
    assert find_number([("通政办复〔2023〕5号", "")])[0] == ""


@pytest.mark.parametrize("raw, norm", [("第28号", "28"), ("28号", "28"), ("028", "28"), ("[2023]28号", "〔2023〕28号"),
                                       ("（2023）第28号", "〔2023〕28号"), ("〔2023〕28号", "〔2023〕28号"), ("A-12", "A-12")])
def test_normalize_number(raw, norm):
    assert normalize_number(raw) == norm


@pytest.mark.parametrize(
    "date_line, iso",
    [("2023年5月22日", "2023-05-22"), ("2023年05月02日", "2023-05-02"), ("二〇二三年七月三日", "2023-07-03"),
     ("二○二三年十二月二十日", "2023-12-20"), ("2023-06-30", "2023-06-30"), ("2023.6.1", "2023-06-01")],
)
def test_signature_date(date_line, iso):
    text = "李明华委员：\n您提出的“关于推进垃圾分类的建议”收悉，现答复如下：\n我局已在全区推行垃圾分类。\n\n南通市通州区城市管理局\n" + date_line + "\n"
    r, _ = extract_reply(text, "t.txt")
    assert r.reply_date == iso and r.signed_date == iso
    assert r.lead_unit == "城市管理局" and r.signer == "南通市通州区城市管理局"
    assert r.field_sources["reply_date"] == "pattern:signature"


@pytest.mark.parametrize("name", B.letter_names())
def test_fictional_letters(name):
    r, _ = extract_reply(B.letter(name), f"{name}.txt")
    exp = B.expected()[name]
    assert {k: getattr(r, k) for k in exp} == exp
    s, e = r.title_span
    assert r.text[s:e] == r.title
    s, e = r.reply_span
    assert r.text[s:e] == r.reply_text and r.proposal_span == (0, 0)
    assert r.id == f"{r.number.replace('〔', '').replace('〕', '-').replace('号', '')}_{r.reply_date.replace('-', '')}" or r.id.endswith(r.reply_date.replace("-", ""))


def test_document_title_is_not_the_proposal_title():
    r, _ = extract_reply("关于区政协十四届二次会议第28号提案的答复\n\n戴红玲委员：\n您的提案收悉，现答复如下：\n我局认真研究了提案。\n\n南通市通州区教育体育局\n2023年5月22日\n", "t")
    assert r.title == "" and r.number == "28"


def test_letterhead_gives_the_department():
    r, _ = extract_reply(B.letter("c_zx_31"), "c.txt")
    assert r.lead_unit == "住房和城乡建设局" and r.field_sources["lead_unit"] == "pattern:letterhead"


def test_seed_letter_without_labels():
    seed = B.SEED.read_text("utf-8")
    letter = seed[seed.index("戴红玲委员"):]
    r, _ = extract_reply(letter, "seed.txt")
    assert (r.proposer, r.kind, r.lead_unit, r.reply_date) == ("戴红玲", "提案", "教育体育局", "2023-05-22")
    assert r.title == "关于积极推进产教融合,助力通州产业创新高地打造的建议"
    assert r.co_units == ["发展和改革委员会", "人力资源和社会保障局"]


def test_metadata_header_fills_missing_fields_and_stays_out_of_the_body():
    text = ("索引号：014-2023-001\n发布机构：南通市通州区卫生健康委员会\n名称：关于区十七届人大三次会议第9号建议的答复\n生成日期：2023-06-20\n\n"
            "王丽代表：\n您提出的《关于完善基层医疗服务网络的建议》收悉，现答复如下：\n我委已推进医共体建设。\n")
    meta, end = read_meta_header(text)
    assert meta["发布机构"] == "南通市通州区卫生健康委员会" and text[end:].startswith("\n\n王丽")
    r, _ = extract_reply(text, "page.html")
    assert (r.number, r.kind, r.lead_unit, r.reply_date) == ("9", "建议", "卫生健康委员会", "2023-06-20")
    assert r.field_sources["lead_unit"] == "meta:发布机构" and r.field_sources["reply_date"] == "meta:生成日期"
    assert r.field_sources["number"] == "meta:名称"
    assert r.text[r.reply_span[0]:].startswith("王丽代表")


def test_title_from_page_metadata_points_into_the_header():
    text = "名称：关于《关于加快5G基站建设的建议》的答复\n发布机构：南通市通州区工业和信息化局\n\n张三代表：\n来信收悉，现答复如下：\n我局正加快推进建设。\n"
    r, _ = extract_reply(text, "p.html")
    assert r.title == "关于加快5G基站建设的建议" and r.field_sources["title"] == "meta:名称"
    assert r.text[r.title_span[0]:r.title_span[1]] == r.title


@pytest.mark.parametrize("text", ["", "   \n", "hello world, this is not a letter at all " * 5, "锟斤拷烫烫烫屯屯屯" * 10])
def test_not_a_letter_is_rejected(text):
    with pytest.raises(ParseError, match="reply letter"):
        extract_reply(text, "x.txt")


def test_same_letter_without_number_or_date_gets_the_same_id_whatever_the_spacing():
    a = "张三代表：\n您的建议收悉，现答复如下：\n我局正加快推进建设。\n"
    b = "\n\n张三代表：\n  您的建议收悉，现答复如下：\n\n我局正加快推进建设。\n\n"
    ra, _ = extract_reply(a, "a")
    rb, _ = extract_reply(b, "b")
    assert ra.id == rb.id and ra.id.startswith("h")


def test_complete_reply_fills_only_empty_labelled_fields():
    text = "标题: 关于推进垃圾分类的建议\n答复内容:\n\n李明华委员：\n您提出的“关于推进垃圾分类的建议”收悉。经商区财政局，现答复如下：\n我局已推行。\n\n南通市通州区城市管理局\n2023年6月1日\n"
    reply, _ = parse_labelled(text, "t.txt")
    complete_reply(reply)
    assert reply.field_sources["title"] == "label" and reply.title == "关于推进垃圾分类的建议"
    assert reply.co_units == ["财政局"] and reply.field_sources["co_units"] == "pattern:co-units"
    assert reply.reply_date == "2023-06-01" and reply.proposer == "李明华"


def test_signature_unit_and_date_on_one_line():
    r, _ = extract_reply("张三代表：\n您的建议收悉，现答复如下：\n我局正在推进建设。\n\n南通市通州区教育体育局　　2023年5月22日\n", "x")
    assert (r.signer, r.reply_date, r.lead_unit) == ("南通市通州区教育体育局", "2023-05-22", "教育体育局")


def test_trailing_contact_and_cc_lines_do_not_hide_the_signature():
    text = B.letter("a_zx_12") + "抄送：区政府办公室，区政协提案委\n附件：办理情况表\n"
    r, _ = extract_reply(text, "x")
    assert (r.signer, r.reply_date) == ("南通市通州区民政局", "2023-06-15")


def test_a_number_deep_in_the_body_is_not_the_proposal_number():
    body = "张三代表：\n您的建议收悉，现答复如下：\n我局高度重视。\n根据区政府第3号令和〔2020〕5号文件，我局正在推进建设。\n\n南通市通州区教育体育局\n2023年5月22日\n"
    assert extract_reply(body, "x")[0].number == ""
    assert extract_reply(body.replace("我局高度重视。", "您的第45号建议我们高度重视。"), "x")[0].number == "45"


def test_a_sealed_signature_still_names_the_unit():
    r, _ = extract_reply("郑晓燕委员：\n您的提案收悉。我局已推进建设。\n\n临江区卫生健康局（盖章）\n2023年7月12日\n", "x")
    assert (r.signer, r.lead_unit) == ("临江区卫生健康局", "卫生健康委员会")


def test_units_consulted_with_shang_are_co_units():
    body = ("刘小红委员：\n您提出的《关于加强农村学校心理健康教育的提案》收悉。经认真研究，并商市卫健委、市财政局，现答复如下：\n"
            "我局配齐了心理教师。\n\n青川市教育局\n2023年6月12日\n")
    r, _ = extract_reply(body, "x")
    assert r.co_units == ["卫生健康委员会", "财政局"]


def test_a_letter_signed_with_a_date_only_takes_its_place_from_the_letterhead():
    text = "东湖区城市管理局\n关于区人大第203号建议的答复\n\n黄大伟代表：\n你的建议收悉。2022年规范摊点区89处。\n此复。\n\n2023年6月30日\n"
    r, _ = extract_reply(text, "x")
    assert (r.lead_unit, r.signer, r.field_sources["signer"]) == ("城市管理局", "东湖区城市管理局", "pattern:letterhead")


def test_portal_source_and_publish_time_are_metadata():
    meta, start = read_meta_header("来源：西江市人力资源和社会保障局\u3000\u3000发布时间：2024-07-03 10:21\n关于第88号提案的答复\n")
    assert meta == {"来源": "西江市人力资源和社会保障局", "发布时间": "2024-07-03 10:21"} and start > 0


def test_the_proposal_attached_after_the_signature_is_the_proposal_not_the_reply():
    text = ("关于区政协七届四次会议第61号提案的答复\n\n马丽委员：\n您提出的《关于加快社区充电桩建设的提案》收悉，现答复如下：\n"
            "2023年全区新建公共充电桩620个。\n感谢您的关心和支持。\n\n南岭区发展和改革局\n2024年6月20日\n\n附件：提案原文\n"
            "关于加快社区充电桩建设的提案\n建议政府每年新建社区充电桩1000个。\n")  # 虚构示例
    r, _ = extract_reply(text, "x")
    assert (r.signer, r.reply_date) == ("南岭区发展和改革局", "2024-06-20")
    assert "1000个" in r.text[r.proposal_span[0]:r.proposal_span[1]]
    assert "1000个" not in r.text[r.reply_span[0]:r.reply_span[1]]


def test_a_title_in_book_quotes_may_quote_a_phrase():
    text = ("九三学社鹤湾市委员会：\n贵会提出的《关于以“微更新”方式推进背街小巷整治提升的提案》收悉。贵会在提案中提出的“一巷一策”等建议很有参考价值。\n"
            "我市已整治背街小巷203条。\n\n鹤湾市住房和城乡建设局\n2024年6月26日\n")  # 虚构示例
    r, _ = extract_reply(text, "x")
    assert r.title == "关于以“微更新”方式推进背街小巷整治提升的提案"
    assert r.text[r.title_span[0]:r.title_span[1]] == r.title


@pytest.mark.parametrize("opening, body, signer, co_units", [
    # a 会办 statement wins over units worked with later in the body
    ("您提出的《关于加快农贸市场改造提升的建议》收悉。该建议由我局主办，县商务局、县农业农村局会办。现答复如下：",
     "一、基本情况\n全县共有农贸市场12家。\n二、主要工作\n会同县商务局、县财政局积极争取省级资金860万元。",
     "松澜县市场监督管理局", ["商务局", "农业农村局"]),
    # a unit worked with deep in the body is not a co-unit
    ("您提出的《关于扩大老年大学办学规模的提案》收悉，现答复如下：",
     "一、基本情况\n县老年大学现有学员2150人。\n二、主要工作\n今年起，我局会同县人社局将退休教师到老年大学任教纳入“银龄讲学”项目管理。",
     "桐溪县教育局", []),
    # units handled together, kept as written; "会同会办单位召开会商会" names none
    ("你提出的《关于缓解学校周边停车难的建议》收悉。本建议由我局会同区城市管理局、区公安分局交通警察大队共同办理。"
     "5月上旬，我局会同会办单位召开专题会商会，并会同协办单位先后赴鼓楼街道实地调研。现答复如下：",
     "全区新增共享车位1200个。", "宁屿区住房和城乡建设局", ["城市管理局", "区公安分局交通警察大队"]),
])
def test_co_units_are_the_units_that_handled_it(opening, body, signer, co_units):
    text = f"王芳代表：\n{opening}\n{body}\n\n{signer}\n2024年6月28日\n"  # 虚构示例
    r, _ = extract_reply(text, "x")
    assert r.co_units == co_units


def test_stated_co_units_may_be_a_company_or_a_federation():
    text = ("周明代表：\n你提出的《关于打通农村快递最后一公里的建议》收悉。本建议由我局主办，市交通运输局、中国邮政集团有限公司枫林市分公司、"
            "市残疾人联合会、市供销合作社协办。现答复如下：\n全市建成村级寄递服务站213个。\n\n枫林市商务局\n2023年7月18日\n")  # 虚构示例
    r, _ = extract_reply(text, "x")
    assert r.co_units[0] == "交通运输局"
    assert "中国邮政集团有限公司枫林市分公司" in r.co_units and len(r.co_units) == 4


def test_a_form_header_is_neither_a_salutation_nor_a_second_letter():
    text = ("鹭汀区住房和城乡建设局\n关于区二届人大四次会议第118号建议的答复\n\n建议编号：118\n领衔代表：骆文涛代表\n"
            "建议标题：关于推进老城片区有机更新的建议\n答复日期：2024-07-10\n办复类别：B类\n骆文涛代表：\n"
            "您提出的《关于推进老城片区有机更新的建议》收悉。全区完成老旧街巷改造12条。\n\n鹭汀区住房和城乡建设局\n2024年7月10日\n")  # 虚构示例
    from index.extract import split_letters

    assert len(split_letters(text)) == 1
    r, _ = extract_reply(text, "x")
    assert (r.proposer, r.kind, r.number) == ("骆文涛", "建议", "118")


def test_party_organs_and_the_closing_agreement_name_co_units():
    """会办单位：县委宣传部、县民政局 keeps the party organ; "本答复经商县财政局、县人社局同意。" at the letter's end
    names co-units, while a 经商…同意 in the body reports a policy decision (虚构示例)."""
    from index.extract import find_co_units

    text = "会办单位：县委宣传部、县民政局\n\n张三委员：\n您提出的提案收悉，现答复如下：\n一、开展宣传。\n"
    from index.departments import department_table

    table = department_table()
    assert find_co_units(text, 0, len(text), "漪湖县公安局") == ["县委宣传部", table.canonical("县民政局")]
    text = ("李四代表：\n您提出的建议收悉，现答复如下：\n一、配备设备。\n二、培养人才。\n"
            "本答复经商县财政局、县人力资源和社会保障局同意。\n感谢您的关心。\n")
    assert find_co_units(text, 0, len(text), "苕陂县卫生健康局") == [table.canonical("县财政局"), table.canonical("县人力资源和社会保障局")]
    text = "李四代表：\n您提出的建议收悉，现答复如下：\n一、提高补助。\n经商市财政局同意，自2024年1月起补助提高到每人3000元。\n"
    assert find_co_units(text, 0, len(text), "琮山市文化广电和旅游局") == []


def test_peoples_organisations_are_co_units():
    """县红十字会, 市总工会, 区妇联 end in neither 局 nor 委 (虚构示例)."""
    from index.departments import department_table
    from index.extract import find_co_units

    table = department_table()
    text = "协办单位：县红十字会、县教育体育局\n\n王五委员：\n您提出的提案收悉，现答复如下：\n一、组建献血队。\n"
    assert find_co_units(text, 0, len(text), "菖湾县卫生健康委员会") == ["县红十字会", table.canonical("县教育体育局")]
    text = "李四代表：\n您提出的建议收悉。经商县红十字会、县财政局同意，现答复如下：\n一、增设献血点。\n"
    assert "县红十字会" in find_co_units(text, 0, len(text), "榕陂县卫生健康局")


def test_a_unit_written_twice_is_one_co_unit():
    """The header's 共青团蔹阳县委员会 and the opening's 团县委 are the same youth league committee (虚构示例)."""
    from index.departments import department_table
    from index.extract import find_co_units

    table = department_table()
    assert table.canonical("共青团苡川县委员会") == table.canonical("团县委") == table.canonical("共青团区委")
    assert table.canonical("共青团苡川县宣传部") != table.canonical("团县委")  # only the committee itself
    text = ("协办单位：县农业农村局、共青团苡川县委员会\n\n李四代表：\n您提出的建议收悉。该建议由我局主办，"
            "县农业农村局、团县委协办。现答复如下：\n一、举办联赛。\n")
    co = find_co_units(text, 0, len(text), "苡川县文化广电旅游体育局")
    assert len(co) == 2 and {table.canonical(u) for u in co} == {table.canonical("县农业农村局"), "共青团"}
