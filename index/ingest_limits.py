"""Caps on what one file may make the indexer do, checked before the expensive step.

- bytes of a file (checked before it is read),
- uncompressed bytes of each part of a .docx / .xlsx package and of all its parts together
  (read from the zip directory before any XML is parsed: a "zip bomb" of 157 MB of paragraphs in a
  0.7 MB .docx is refused without being unpacked; zipfile itself stops at the declared size),
- characters of one reply's text (before the letter is parsed), and chunks per reply (builder).

A file or reply over a cap is skipped; the reason names the cap and its setting (DAFU_…), and it
appears in the build summary like any other skipped file. Defaults and settings: index/settings.py.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from index.errors import UnsupportedFormatError

PACKAGE_TOTAL_FACTOR = 4  # all parts of a package together: at most this many times the per-part cap


class LimitExceededError(UnsupportedFormatError):
    """A file or reply is over an ingestion cap (the message names the setting that raises it)."""


@dataclass(frozen=True)
class IngestLimits:
    max_file_bytes: int
    max_docx_part_bytes: int
    max_xlsx_part_bytes: int
    max_reply_chars: int

    @classmethod
    def from_settings(cls, s) -> "IngestLimits":
        return cls(s.max_file_bytes, s.max_docx_part_bytes, s.max_xlsx_part_bytes, s.max_reply_chars)

    @classmethod
    def defaults(cls) -> "IngestLimits":
        from index.settings import Settings

        f = Settings.model_fields
        return cls(f["max_file_bytes"].default, f["max_docx_part_bytes"].default, f["max_xlsx_part_bytes"].default,
                   f["max_reply_chars"].default)


def limits_of(options: dict | None) -> IngestLimits:
    lim = (options or {}).get("limits")
    return lim if isinstance(lim, IngestLimits) else IngestLimits.defaults()


def check_package(data: bytes, source: str, kind: str, options: dict | None) -> None:
    """Refuse a .docx/.xlsx whose parts would unpack past the caps; a broken zip is left to the reader."""
    lim = limits_of(options)
    part_cap, setting = ((lim.max_docx_part_bytes, "DAFU_MAX_DOCX_PART_BYTES") if kind == "docx"
                         else (lim.max_xlsx_part_bytes, "DAFU_MAX_XLSX_PART_BYTES"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return
    total = 0
    for info in infos:
        if info.file_size > part_cap:
            raise LimitExceededError(
                f"{source}: the part {info.filename} unpacks to {info.file_size:,} bytes, over the limit of "
                f"{part_cap:,} bytes per part ({setting}); not read. If this is a real reply, raise {setting}")
        total += info.file_size
    if total > PACKAGE_TOTAL_FACTOR * part_cap:
        raise LimitExceededError(
            f"{source}: its {len(infos)} parts unpack to {total:,} bytes, over the limit of "
            f"{PACKAGE_TOTAL_FACTOR * part_cap:,} ({PACKAGE_TOTAL_FACTOR} × {setting}); not read")


def check_reply_chars(text: str, source: str, options: dict | None) -> None:
    """Refuse a letter longer than DAFU_MAX_REPLY_CHARS before it is parsed and chunked."""
    cap = limits_of(options).max_reply_chars
    if len(text) > cap:
        raise LimitExceededError(
            f"{source}: {len(text):,} characters of text, over the limit of {cap:,} per reply "
            f"(DAFU_MAX_REPLY_CHARS); not indexed. Split it into its replies, or raise DAFU_MAX_REPLY_CHARS")
