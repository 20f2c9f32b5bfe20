"""PDF replies: the text layer via pdfplumber (pypdf as a fallback). Scanned PDFs need OCR first."""
from __future__ import annotations

import io
import re
from pathlib import Path

from index.errors import UnsupportedFormatError
from index.ingest_limits import check_reply_chars
from index.records import Reply
from index.textio import normalize_newlines

_OCR_HOW = "run OCR first (e.g. `ocrmypdf -l chi_sim scan.pdf text.pdf`) and add the result, or add the Word original"
_PAGE_NO = re.compile(r"^[-—－\s]*(?:第\s*)?\d+\s*(?:页|/\s*\d+\s*页?)?[-—－\s]*$")
_ENDS_SENTENCE = tuple("。！？：:；;）)”\"》")
_STARTS_ITEM = re.compile(r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d+[.、．]|[①-⑩])")


def _pages_pdfplumber(data: bytes) -> list[str]:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def _pages_pypdf(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


def unwrap_lines(lines: list[str]) -> list[str]:
    """Join lines the PDF wrapped inside a paragraph: a full-width line not ending a sentence continues."""
    full = max((len(s) for s in lines), default=0)
    out: list[str] = []
    for line in lines:
        s = line.strip()
        prev = out[-1].strip() if out else ""
        if (
            out and s and prev and full >= 15 and len(prev) >= 0.85 * full
            and not prev.endswith(_ENDS_SENTENCE) and not _STARTS_ITEM.match(s)
        ):
            out[-1] = out[-1].rstrip() + s
        else:
            out.append(line)
    return out


def pdf_text(data: bytes, source: str = "<pdf>") -> str:
    """Text of all pages, page numbers dropped and wrapped lines joined.

    Raises UnsupportedFormatError for an encrypted or broken PDF, and for a PDF with no usable
    text layer (a scan) with a message saying it needs OCR.
    """
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise UnsupportedFormatError(f"{source}: not a PDF (does not start with %PDF; got {data[:8]!r}); expected a PDF file with a text layer")
    try:
        pages = _pages_pdfplumber(data)
    except Exception as e:
        try:
            pages = _pages_pypdf(data)
        except Exception as e2:
            raise UnsupportedFormatError(
                f"{source}: cannot read this PDF ({type(e).__name__}: {e}; {type(e2).__name__}: {e2}); "
                "if it is password-protected, save an unprotected copy; otherwise export it again from the original"
            ) from e2
    raw = "\n".join(pages)
    cid = len(re.findall(r"\(cid:\d+\)", raw))
    visible = re.sub(r"\(cid:\d+\)|\s", "", raw)
    if cid > 20 and cid > len(visible) / 4:
        raise UnsupportedFormatError(f"{source}: the PDF's text layer cannot be decoded (fonts without a Unicode map); it needs OCR: {_OCR_HOW}")
    if len(visible) < 10:
        raise UnsupportedFormatError(
            f"{source}: no text layer in {len(pages)} page(s) (a scanned image?); it needs OCR before it can be indexed: {_OCR_HOW}"
        )
    kept = [ln for page in pages for ln in normalize_newlines(page).split("\n") if not _PAGE_NO.match(ln)]
    return "\n".join(unwrap_lines(kept)).strip("\n") + "\n"  # across pages: a paragraph may continue overleaf


def read_pdf(path: Path, data: bytes, options: dict) -> list[Reply]:
    from index.formats.text import replies_from_text

    text = pdf_text(data, str(path))
    check_reply_chars(text, str(path), options)
    replies, warns = replies_from_text(text, str(path))
    options.setdefault("_warnings", []).extend(warns)
    return replies
