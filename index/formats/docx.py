"""Word .docx replies: paragraphs and tables in document order, via python-docx."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from index.errors import UnsupportedFormatError
from index.ingest_limits import check_package, check_reply_chars
from index.records import Reply
from index.textio import normalize_newlines

_HOW = "expected a Word .docx file (Office Open XML); if it is an old .doc, a WPS file or damaged, open it in Word/WPS and save as .docx"


def docx_text(data: bytes, source: str = "<docx>", options: dict | None = None) -> str:
    """The text of a .docx: one line per paragraph, one line per table row (cells separated by two spaces)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    if not data.startswith(b"PK"):
        raise UnsupportedFormatError(f"{source}: not a .docx (the file does not start like a zip package; got {data[:8]!r}); {_HOW}")
    check_package(data, source, "docx", options)  # before any XML is unpacked
    try:
        doc = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise UnsupportedFormatError(f"{source}: cannot open as .docx ({type(e).__name__}: {e}); {_HOW}") from e
    except Exception as e:  # lxml XMLSyntaxError and friends from a damaged package
        raise UnsupportedFormatError(f"{source}: damaged .docx ({type(e).__name__}: {e}); {_HOW}") from e

    lines: list[str] = []

    def table_rows(tbl) -> None:
        for row in Table(tbl, doc).rows:
            cells, seen = [], set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell repeats
                    continue
                seen.add(id(cell._tc))
                t = " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
                if t:
                    cells.append(t)
            if cells:
                lines.append("  ".join(cells))

    def block(el) -> None:
        if el.tag == qn("w:p"):
            lines.append(Paragraph(el, doc).text)
        elif el.tag == qn("w:tbl"):
            table_rows(el)
        elif el.tag == qn("w:sdt"):  # content controls wrap paragraphs and tables
            content = el.find(qn("w:sdtContent"))
            for child in content if content is not None else []:
                block(child)

    for el in doc.element.body.iterchildren():
        block(el)
    return normalize_newlines("\n".join(lines)).strip("\n") + "\n"


def read_docx(path: Path, data: bytes, options: dict) -> list[Reply]:
    from index.formats.text import replies_from_text

    text = docx_text(data, str(path), options)
    if not text.strip():
        raise UnsupportedFormatError(f"{path}: the .docx has no text (only images or empty); expected a reply letter as text")
    check_reply_chars(text, str(path), options)
    replies, warns = replies_from_text(text, str(path))
    options.setdefault("_warnings", []).extend(warns)
    return replies
