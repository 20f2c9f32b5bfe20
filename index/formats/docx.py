"""Word .docx replies: paragraphs and tables in document order, via python-docx."""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from index.errors import UnsupportedFormatError
from index.ingest_limits import check_package, check_reply_chars
from index.records import Reply
from index.textio import normalize_newlines

# the label cell of a two-column form at the head of a reply (提案号 | 86, 主办单位 | …, 办理结果 | A类)
_FORM_LABEL = re.compile(r"(?:建议|提案|议案)?(?:号|编号|案号|人|提出人|提出者|领衔人|标题|题目|案由)|(?:主办|承办|协办|会办|办理)(?:单位|部门)|"
                         r"(?:答复|办复|办结)(?:日期|时间)|(?:办理|办复|答复)(?:结果|类别|类型)|签发人|文号|联系人|联系电话")
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
            cells, seen, units = [], set(), []
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell repeats
                    continue
                seen.add(id(cell._tc))
                units.append(cell)
                t = " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
                if t:
                    cells.append(t)
            if len(units) == 1:  # a one-cell frame around the letter (some offices lay it out so): its paragraphs
                lines.extend(p.text for p in units[0].paragraphs)
                continue
            if len(cells) == 2 and _FORM_LABEL.fullmatch(cells[0]):  # a form row (提案号 | 86): "提案号：86"
                lines.append(f"{cells[0]}：{cells[1]}")
            elif cells:
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
