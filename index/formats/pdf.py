"""PDF replies: the text layer via pdfplumber (pypdf as a fallback). Scanned PDFs need OCR first."""
from __future__ import annotations

import io
import re
from pathlib import Path

from index.errors import UnsupportedFormatError
from index.formats.layout import clean_pages
from index.ingest_limits import check_reply_chars
from index.records import Reply
from index.textio import normalize_newlines

_OCR_HOW = "run OCR first (e.g. `ocrmypdf -l chi_sim scan.pdf text.pdf`) and add the result, or add the Word original"


def _pages_pdfplumber(data: bytes) -> list[str]:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def _pages_pypdf(data: bytes) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]


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
    lines = clean_pages([normalize_newlines(page).split("\n") for page in pages])
    return "\n".join(lines).strip("\n") + "\n"


def read_pdf(path: Path, data: bytes, options: dict) -> list[Reply]:
    from index.formats.text import replies_from_text

    text = pdf_text(data, str(path))
    check_reply_chars(text, str(path), options)
    replies, warns = replies_from_text(text, str(path))
    options.setdefault("_warnings", []).extend(warns)
    return replies
