"""Bytes to text: BOM, UTF-8, GBK/GB18030 detection and line-end normalisation."""
from __future__ import annotations

import codecs
from pathlib import Path

from index.errors import ParseError

_CANDIDATES = ("utf-8", "gb18030", "big5")


def decode_bytes(data: bytes, source: str = "<bytes>") -> str:
    """Decode a text file as written in the wild and normalise line ends to ``\\n``.

    UTF-8 (with or without BOM) is tried first, then GB18030 (a superset of GBK and
    GB2312), then Big5; charset-normalizer decides anything else.
    """
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict")
    elif data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        text = data.decode("utf-16")
    else:
        text = None
        if b"\x00" in data[:4096]:
            raise ParseError(source, None, "a text file (UTF-8, GBK or GB18030)", "binary data with NUL bytes")
        for enc in _CANDIDATES:
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        if text is None:
            from charset_normalizer import from_bytes

            best = from_bytes(data).best()
            if best is None:
                raise ParseError(source, None, "text in UTF-8, GBK or GB18030", "undecodable bytes")
            text = str(best)
    return normalize_newlines(text)


def normalize_newlines(text: str) -> str:
    text = text.replace("\ufeff", "")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: str | Path) -> str:
    p = Path(path)
    return decode_bytes(p.read_bytes(), str(p))
