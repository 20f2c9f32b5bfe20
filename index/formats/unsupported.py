"""Formats staff have that we cannot read directly: say how to convert them."""
from __future__ import annotations

from pathlib import Path

from index.errors import UnsupportedFormatError
from index.records import Reply

_HOW = {
    ".doc": "an old binary Word .doc file; open it in Word or WPS and save as .docx "
    "(or `soffice --headless --convert-to docx FILE.doc`), then add the .docx",
    ".wps": "a WPS document; save it as .docx in WPS (or `soffice --headless --convert-to docx FILE.wps`), then add the .docx",
    ".xls": "an old binary Excel .xls file; save it as .xlsx or .csv (UTF-8), then add that",
    ".et": "a WPS spreadsheet; save it as .xlsx or .csv (UTF-8), then add that",
    ".ofd": "an OFD document; export it to PDF (with text) or .docx from the OFD reader, then add that",
}


def read_unsupported(path: Path, data: bytes, options: dict) -> list[Reply]:
    raise UnsupportedFormatError(f"{path}: {_HOW.get(path.suffix.lower(), 'a file type dafu cannot read')}")
