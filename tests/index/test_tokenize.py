"""jieba tokenizer: Chinese is split, domain terms stay whole, normalisation applies to both sides."""
from __future__ import annotations

from index.textnorm import normalize, to_halfwidth
from index.tokenize import default_tokenizer


def test_chinese_sentence_becomes_several_tokens():
    toks = default_tokenizer().tokens("通州区深入推进职业教育改革")
    assert len(toks) >= 3
    assert "通州区深入推进职业教育改革" not in toks


def test_domain_terms_stay_whole():
    tok = default_tokenizer()
    toks = tok.tokens("推进产教融合和校企合作，落实岗课赛证与1+X证书制度，实施现代学徒制")
    for term in ("产教融合", "校企合作", "岗课赛证", "1+x证书", "现代学徒制"):
        assert term in toks
    assert "产教融合" in tok.cut("产教融合深入推进")


def test_department_names_are_tokens():
    assert "人社局" in default_tokenizer().tokens("人社局的答复")


def test_stopwords_and_question_words_dropped():
    toks = default_tokenizer().tokens("通州在产教融合方面做了哪些工作？", query=True)
    assert "哪些" not in toks and "方面" not in toks and "在" not in toks
    assert "产教融合" in toks and "通州" in toks


def test_traditional_and_fullwidth_normalised_like_simplified():
    tok = default_tokenizer()
    assert tok.tokens("產教融合　２０２２年") == tok.tokens("产教融合 2022年")
    assert to_halfwidth("ＡＢＣ１２３：") == "ABC123:"
    assert normalize("職業教育") == "职业教育"
