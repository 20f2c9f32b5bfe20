"""From paths (files or folders, read recursively) to Reply records, with a report of what was skipped.

Formats: see ``index.formats.FORMAT_READERS`` (.txt/.md, .docx, .pdf, .html/.htm, .xlsx/.csv/.tsv/.jsonl).

Duplicates and updates: replies are keyed by ``Reply.id`` (proposal number + reply date, else a
hash of the whitespace-stripped letter), so the same reply arriving twice (as .html and .docx, or
in two exports) is one record and ``LoadReport.duplicates_merged`` counts the extra copies — unless the two
are signed by different units or answer different kinds (another place's 第23号 answered the same day): then
the later one gets an id of its own (``index.records.settle_id``). When
copies differ, the one from the file modified LAST (file mtime) wins, a newer version replacing
the older; on equal mtimes the file read later (paths in sorted order) wins. Ids depend only on the
content, so they stay stable across rebuilds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from index.errors import DafuError, UnsupportedFormatError
from index.formats import FORMAT_READERS, resolve_column_map
from index.formats import ColumnMapError as ColumnMapError  # re-exported for the CLI
from index.formats import parse_column_map as parse_column_map  # re-exported for the CLI: --map 提案号=number,…
from index.formats import read_text_reply as read_text_reply  # re-exported for callers of the old name
from index.formats.text import TEXT_SUFFIXES as TEXT_SUFFIXES
from index.ingest_limits import limits_of
from index.records import Reply, settle_id


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class LoadReport:
    replies: list[Reply] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files_read: int = 0
    duplicates_merged: int = 0
    warnings: list[str] = field(default_factory=list)
    missing_fields: dict[str, list[str]] = field(default_factory=dict)


# A reader takes (path, raw bytes, options) and returns the replies in that file.
Reader = Callable[[Path, bytes, dict], list[Reply]]

READERS: dict[str, Reader] = dict(FORMAT_READERS)


def iter_files(paths: list[str | Path]) -> tuple[list[Path], list[Skipped]]:
    files: list[Path] = []
    missing: list[Skipped] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)))
        elif p.is_file():
            files.append(p)
        else:
            missing.append(Skipped(str(p), "no such file or folder"))
    return files, missing


REQUIRED_FIELDS = ("number", "title", "proposer", "lead_unit", "reply_date")


def _mtime(f: Path) -> float:
    try:
        return f.stat().st_mtime
    except OSError:
        return 0.0


def load_paths(paths: list[str | Path], options: dict | None = None) -> LoadReport:
    """Read every reply under `paths`. Files that cannot be parsed are reported and skipped.

    options: "column_map" ({"列名": "target"} or "列名=target,…") for spreadsheets. An invalid
    column map raises ColumnMapError (a DafuError) before any file is read.
    """
    options = dict(options or {})
    options["column_map"] = resolve_column_map(options.get("column_map"))
    options["_warnings"], options["_skipped"] = [], []
    files, skipped = iter_files(paths)
    report = LoadReport(skipped=skipped)
    by_id: dict[str, tuple[float, Reply]] = {}
    for f in files:
        reader = READERS.get(f.suffix.lower())
        if reader is None:
            report.skipped.append(Skipped(str(f), f"unsupported file type {f.suffix or '(none)'}; accepted: {', '.join(sorted(s for s in READERS if s))}"))
            continue
        report.files_read += 1
        cap = limits_of(options).max_file_bytes
        try:
            size = f.stat().st_size
        except OSError as e:
            report.skipped.append(Skipped(str(f), f"cannot be read: {e.strerror or e}"))
            continue
        if size > cap:
            report.skipped.append(Skipped(str(f), f"{size:,} bytes, over the limit of {cap:,} per file (DAFU_MAX_FILE_BYTES); not read"))
            continue
        try:
            replies = reader(f, f.read_bytes(), options)
        except (DafuError, UnsupportedFormatError) as e:
            report.skipped.append(Skipped(str(f), str(e)))
            continue
        except Exception as e:  # a broken file must never stop the others
            report.skipped.append(Skipped(str(f), f"could not be read: {type(e).__name__}: {e}"))
            continue
        mtime = _mtime(f)
        for r in replies:
            settle_id(r, by_id[r.id][1] if r.id in by_id else None)  # another letter with the same number and date?
            if r.id in by_id:
                report.duplicates_merged += 1
                if by_id[r.id][0] > mtime:  # the copy already kept is newer
                    continue
            by_id[r.id] = (mtime, r)
    report.skipped.extend(Skipped(src, reason) for src, reason in options["_skipped"])
    report.warnings.extend(options["_warnings"])
    report.replies = [r for _, r in by_id.values()]
    for r in report.replies:  # of the records kept (a replaced older copy no longer counts)
        if missing := [k for k in REQUIRED_FIELDS if not getattr(r, k)]:
            report.missing_fields[r.source] = missing
    return report


def _reason(s: Skipped) -> str:
    """The reason without the path it usually starts with (errors name their file; the summary already does)."""
    return s.reason[len(s.path) + 1:].lstrip() if s.reason.startswith(s.path + ":") else s.reason


def summary_rows(report: LoadReport) -> list[tuple[str, str]]:
    """(what, value) rows of the build summary; skipped files and missing fields one row each."""
    rows = [
        ("files read", str(report.files_read)),
        ("replies indexed", str(len(report.replies))),
        ("duplicates merged", str(report.duplicates_merged)),
        ("skipped", str(len(report.skipped))),
    ]
    rows += [(f"skipped: {s.path}", _reason(s)) for s in report.skipped]
    rows += [(f"missing fields: {src}", ", ".join(fields)) for src, fields in sorted(report.missing_fields.items())]
    return rows


def format_summary(report: LoadReport) -> str:
    """Plain-text summary printed at the end of `dafu index build` / `dafu index add`."""
    lines = [
        f"files read: {report.files_read}",
        f"replies indexed: {len(report.replies)}",
        f"duplicates merged: {report.duplicates_merged}",
        f"skipped: {len(report.skipped)}",
    ]
    lines += [f"  - {s.path}: {_reason(s)}" for s in report.skipped]
    if report.missing_fields:
        lines.append(f"fields missing ({len(report.missing_fields)} file(s)/row(s)):")
        lines += [f"  - {src}: {', '.join(fields)}" for src, fields in sorted(report.missing_fields.items())]
    return "\n".join(lines)


def summary_table(report: LoadReport):
    """The same summary as a rich Table (rich is imported only when this is called)."""
    from rich.table import Table

    table = Table(title="dafu index: load summary", show_lines=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    for what, value in summary_rows(report):
        table.add_row(what, value)
    return table
