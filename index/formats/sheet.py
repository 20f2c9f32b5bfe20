"""Spreadsheet exports of the proposal-management system: .xlsx, .csv/.tsv, .jsonl — one reply per row.

Columns are mapped to fields by header (defaults below for common Chinese headers; override with
``options["column_map"]`` = {"列名": "target"} or the CLI's ``--map 列名=target,…``). Each row becomes
a labelled text in the seed layout that ``parse_labelled`` reads, so every offset points into
``Reply.text`` exactly as for a labelled .txt file. ``Reply.source`` is ``f"{path}#row{n}"`` with
``n`` the row number as the spreadsheet shows it (header = row 1).
"""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Iterator

from index.dates import parse_date
from index.errors import DafuError, ParseError, UnsupportedFormatError
from index.extract import complete_reply, normalize_number
from index.ingest_limits import check_package, limits_of
from index.parse import parse_labelled
from index.records import Reply
from index.textio import decode_bytes

COLUMN_TARGETS = {
    "number": "proposal number (提案号/建议号)",
    "title": "proposal title (标题/案由)",
    "proposer": "proposer (提案人/代表/委员)",
    "kind": "提案 or 建议",
    "lead": "lead unit (主办单位); may hold '主办: X 协办: Y'",
    "co_units": "co-units (协办单位), separated by 、;，",
    "reply_date": "reply date (答复日期)",
    "reply_text": "the reply letter (答复内容)",
    "proposal": "the proposal text (提案内容)",
    "category": "办复类别 / 办理结果 (A类, B类 …)",
    "ignore": "leave this column out",
}
DEFAULT_COLUMNS: dict[str, str] = {
    **dict.fromkeys(["提案号", "建议号", "编号", "案号", "提案编号", "建议编号", "建议/提案号", "提案/建议号"], "number"),
    **dict.fromkeys(["标题", "案由", "题目", "提案标题", "建议标题", "提案题目", "建议题目"], "title"),
    **dict.fromkeys(["提案人", "提出人", "领衔人", "代表", "委员", "建议人", "提案者", "领衔代表", "领衔委员", "代表姓名",
                     "委员姓名", "建议/提案提出者"], "proposer"),
    **dict.fromkeys(["类型", "类别（提案/建议）", "提案类型", "建议类型"], "kind"),
    **dict.fromkeys(["主办单位", "承办单位", "主办部门", "承办部门"], "lead"),
    **dict.fromkeys(["协办单位", "会办单位", "协办部门", "会办部门"], "co_units"),
    **dict.fromkeys(["答复日期", "办复日期", "办结日期", "答复时间", "办复时间"], "reply_date"),
    **dict.fromkeys(["答复内容", "答复正文", "办理答复", "答复意见", "答复函", "办理情况"], "reply_text"),
    **dict.fromkeys(["提案内容", "建议内容", "提案正文", "建议正文"], "proposal"),
    **dict.fromkeys(["办理结果", "办复类别", "答复类别", "办理类别", "办复结果", "答复类型", "办复类型"], "category"),
}


class ColumnMapError(DafuError, ValueError):
    """A column mapping names a target dafu does not know, or is written wrongly."""


def _norm_header(h: object) -> str:
    s = re.sub(r"\s+", "", str(h if h is not None else ""))
    return re.sub(r"[（(][^）)]*[）)]$|[*＊:：]", "", s) if s not in DEFAULT_COLUMNS else s


def _check_target(column: str, target: str) -> str:
    t = target.strip().lower()
    if t not in COLUMN_TARGETS:
        raise ColumnMapError(
            f"column mapping {column}={target}: unknown target {target!r}; accepted targets: {', '.join(COLUMN_TARGETS)} "
            f"(e.g. --map 提案号=number,标题=title)"
        )
    return t


def parse_column_map(s: str) -> dict[str, str]:
    """'提案号=number,标题=title' (also ，；; separators and : ：) -> {'提案号': 'number', '标题': 'title'}."""
    out: dict[str, str] = {}
    for item in re.split(r"[,，;；\n]+", s or ""):
        if not item.strip():
            continue
        m = re.fullmatch(r"\s*([^=:：]+?)\s*[=:：]\s*([A-Za-z_]+)\s*", item)
        if not m:
            raise ColumnMapError(f"column mapping {item.strip()!r}: expected COLUMN=TARGET, e.g. 提案号=number; accepted targets: {', '.join(COLUMN_TARGETS)}")
        out[m.group(1)] = _check_target(m.group(1), m.group(2))
    return out


def resolve_column_map(user: dict[str, str] | str | None) -> dict[str, str]:
    """Defaults overlaid with the user's mapping (validated); keys are normalised headers."""
    user_map = parse_column_map(user) if isinstance(user, str) else {k: _check_target(k, v) for k, v in (user or {}).items()}
    return {**DEFAULT_COLUMNS, **{_norm_header(k): v for k, v in user_map.items()}}


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "").strip()


def _rows_xlsx(data: bytes, source: str, options: dict | None = None) -> Iterator[tuple[str, int, list[str]]]:
    import openpyxl

    check_package(data, source, "xlsx", options)  # before any XML is unpacked
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:
        raise UnsupportedFormatError(f"{source}: cannot open as .xlsx ({type(e).__name__}: {e}); save it again from Excel/WPS as .xlsx or export .csv (UTF-8)") from e
    for i, ws in enumerate(wb.worksheets):
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            yield ("" if i == 0 else ws.title), n, [_cell(v) for v in row]
    wb.close()


def _rows_csv(data: bytes, source: str, delimiter: str | None) -> Iterator[tuple[str, int, list[str]]]:
    text = decode_bytes(data, source)
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = max((",", "\t", ";", "，"), key=first.count)
    for n, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        yield "", n, [_cell(v) for v in row]


def _rows_jsonl(data: bytes, source: str) -> Iterator[tuple[str, int, list[str]]]:
    headers: list[str] = []
    for n, line in enumerate(decode_bytes(data, source).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ParseError(source, n, "one JSON object per line", line[:40]) from e
        if not isinstance(obj, dict):
            raise ParseError(source, n, "a JSON object {\"提案号\": …, \"答复内容\": …}", line[:40])
        new = [k for k in obj if k not in headers]
        if new or not headers:
            headers += new
            yield "", 0, list(headers)  # header (re-sent when new keys appear)
        yield "", n, [_cell(obj.get(h)) for h in headers]


def labelled_row(fields: dict[str, str]) -> str:
    """A row as a labelled text in the seed layout (only the fields present)."""
    lines = []
    if fields.get("proposer"):
        lines.append(f"建议/提案提出者: {fields['proposer']}")
    if fields.get("number"):
        lines.append(f"建议/提案号: {fields['number']}")
    if fields.get("title"):
        lines.append(f"标题: {' '.join(fields['title'].split())}")
    if fields.get("proposal"):
        lines.append(f"建议/提案内容:\n\n{fields['proposal']}\n")
    if fields.get("lead") or fields.get("co_units"):
        lead = fields.get("lead", "")
        unit = lead if re.search(r"主办|协办", lead) else f"主办: {lead}"
        lines.append(f"承办单位: {unit}" + (f" 协办: {fields['co_units']}" if fields.get("co_units") else ""))
    if fields.get("reply_date"):
        lines.append(f"答复日期: {parse_date(fields['reply_date']) or fields['reply_date']}")
    if fields.get("category"):
        lines.append(f"办复类别: {' '.join(fields['category'].split())}")
    lines.append(f"答复内容:\n\n{fields['reply_text']}\n")
    return "\n".join(lines)


def _row_source(path: Path, sheet: str, n: int) -> str:
    return f"{path}#{sheet}!row{n}" if sheet else f"{path}#row{n}"


def read_sheet(path: Path, data: bytes, options: dict) -> list[Reply]:
    """Replies from a spreadsheet export; rows that cannot be used go to options['_skipped']."""
    source = str(path)
    cmap = resolve_column_map(options.get("column_map"))
    suffix = path.suffix.lower()
    rows = (_rows_xlsx(data, source, options) if suffix in (".xlsx", ".xlsm") else _rows_jsonl(data, source) if suffix == ".jsonl"
            else _rows_csv(data, source, "\t" if suffix == ".tsv" else None))
    replies: list[Reply] = []
    header: dict[int, str] | None = None
    header_sheet, seen_headers = None, []
    for sheet, n, cells in rows:
        if header is None or sheet != header_sheet or (suffix == ".jsonl" and n == 0):
            targets = {i: cmap[_norm_header(c)] for i, c in enumerate(cells) if _norm_header(c) in cmap}
            if targets:
                header, header_sheet = targets, sheet
                seen_headers = [c for c in cells if c]
            elif sheet != header_sheet:
                header = None
            continue
        if not any(cells):
            continue
        f: dict[str, str] = {}
        for i, t in header.items():
            if i < len(cells) and cells[i] and t != "ignore":
                f[t] = f"{f[t]}、{cells[i]}" if t in f else cells[i]
        where = _row_source(path, sheet, n)
        if "reply_text" not in header.values():
            raise UnsupportedFormatError(
                f"{source}: no column for the reply text; found headers {seen_headers}; expected one of "
                f"答复内容/答复正文/办理答复, or map yours with --map 列名=reply_text"
            )
        if not f.get("reply_text"):
            options.setdefault("_skipped", []).append((where, "the row has no reply text (答复内容 is empty)"))
            continue
        cap = limits_of(options).max_reply_chars
        if len(f["reply_text"]) > cap:
            options.setdefault("_skipped", []).append((where, f"{len(f['reply_text']):,} characters of reply text, over the "
                                                              f"limit of {cap:,} per reply (DAFU_MAX_REPLY_CHARS); not indexed"))
            continue
        if f.get("number"):
            f["number"] = normalize_number(f["number"])
        try:
            reply, warns = parse_labelled(labelled_row(f), where)
        except ParseError as e:
            options.setdefault("_skipped", []).append((where, str(e)))
            continue
        warns = complete_reply(reply, None, warns)
        if f.get("kind") in ("提案", "建议"):
            reply.kind, reply.field_sources["kind"] = f["kind"], "column"
        for k in list(reply.field_sources):
            if reply.field_sources[k] == "label":
                reply.field_sources[k] = "column"
        options.setdefault("_warnings", []).extend(warns)
        replies.append(reply)
    if header is None:
        raise UnsupportedFormatError(
            f"{source}: no header row with known columns (such as 提案号, 标题, 答复内容); "
            f"map your headers with --map 列名=target (targets: {', '.join(COLUMN_TARGETS)})"
        )
    return replies
