"""Readers for the file formats replies arrive in: Word, PDF, web pages, spreadsheets, text.

Each reader has the signature ``(path, raw bytes, options) -> list[Reply]``. A reader raises
``UnsupportedFormatError`` / ``ParseError`` for a file it cannot use (the loader reports it
and goes on); row-level problems in spreadsheets go to ``options["_skipped"]`` and warnings
to ``options["_warnings"]``.
"""
from __future__ import annotations

from index.formats.docx import read_docx
from index.formats.html import read_html
from index.formats.pdf import read_pdf
from index.formats.sheet import COLUMN_TARGETS, ColumnMapError, parse_column_map, read_sheet, resolve_column_map
from index.formats.text import TEXT_SUFFIXES, read_text_reply, reply_from_text
from index.formats.unsupported import read_unsupported

FORMAT_READERS = {
    **{s: read_text_reply for s in TEXT_SUFFIXES},
    ".docx": read_docx,
    ".pdf": read_pdf,
    ".html": read_html,
    ".htm": read_html,
    ".shtml": read_html,
    ".xlsx": read_sheet,
    ".xlsm": read_sheet,
    ".csv": read_sheet,
    ".tsv": read_sheet,
    ".jsonl": read_sheet,
    ".doc": read_unsupported,
    ".wps": read_unsupported,
    ".xls": read_unsupported,
    ".et": read_unsupported,
    ".ofd": read_unsupported,
}

__all__ = [
    "COLUMN_TARGETS", "ColumnMapError", "FORMAT_READERS", "parse_column_map", "read_docx", "read_html", "read_pdf",
    "read_sheet", "read_text_reply", "read_unsupported", "reply_from_text", "resolve_column_map",
]
