"""Text normalisation shared by documents and queries: full-/half-width and traditional → simplified."""
from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_halfwidth(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation to half-width (ＡＢＣ１２３ → ABC123)."""
    out = []
    for ch in text:
        code = ord(ch)
        if code == 0x3000:
            out.append(" ")
        elif 0xFF01 <= code <= 0xFF5E:
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def normalize(text: str) -> str:
    """Normalised form for matching (not for display): half-width, simplified, lower-case."""
    text = unicodedata.normalize("NFC", text)
    return _t2s().convert(to_halfwidth(text)).lower()
