"""Chinese tokenizer for BM25: jieba search mode, domain user dictionary, stop words, normalisation."""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from importlib import resources

from index.textnorm import normalize

_KEEP = re.compile(r"\w", re.U)


def _data_lines(name: str) -> list[str]:
    text = resources.files("index").joinpath(f"data/{name}").read_text("utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


class ChineseTokenizer:
    """jieba (search mode) with dafu's user dictionary; its own jieba.Tokenizer, no global state."""

    def __init__(self) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        for line in _data_lines("userdict.txt"):
            parts = line.split()
            freq = int(parts[1]) if len(parts) > 1 else None
            # frequency high enough that the whole term wins over its pieces
            self._jieba.add_word(normalize(parts[0]), freq=max(freq or 0, 20000), tag=parts[2] if len(parts) > 2 else None)
        from index.departments import department_table

        for name in department_table().all_names():
            if len(name) >= 3:
                self._jieba.add_word(normalize(name), freq=20000, tag="nt")
        self.stopwords = frozenset(_data_lines("stopwords.txt"))
        self.query_stopwords = self.stopwords | frozenset(_data_lines("query_stopwords.txt"))

    def tokens(self, text: str, *, query: bool = False) -> list[str]:
        stop = self.query_stopwords if query else self.stopwords
        out = []
        for tok in self._jieba.cut_for_search(normalize(text)):
            tok = tok.strip()
            if not tok or tok in stop or not _KEEP.search(tok):
                continue
            out.append(tok)
        return out

    def cut(self, text: str) -> list[str]:
        """Plain jieba segmentation (precise mode) of normalised text, stop words kept."""
        return [t for t in self._jieba.lcut(normalize(text)) if t.strip()]

    def dictionary_words(self, text: str) -> list[str]:
        """Segmentation by the dictionary alone (no new-word guessing: 镇试着 → 镇 / 试 / 着)."""
        return [t for t in self._jieba.lcut(normalize(text), HMM=False) if t.strip()] or [text]


@lru_cache(maxsize=1)
def default_tokenizer() -> ChineseTokenizer:
    """One tokenizer per process: building jieba's prefix dictionary costs about a second."""
    return ChineseTokenizer()
