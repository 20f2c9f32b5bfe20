"""A flattened table's data row read under its header.

Letters exported from Word or PDF flatten tables to lines of space-separated cells:

    项目 单位 2022年计划 2022年完成 完成投资（万元）
    新建防火通道 公里 35 38.2 764

The row alone states no unit ("38.2" of what? for which year?), so an asked figure (修了多少公里, 花了多少钱) is not
seen in it. ``row_reading`` gives the row as the header reads it — "新建防火通道，2022年计划35公里，
2022年完成38.2公里，完成投资764万元" — for judging and ranking only; points and citations keep the letter's own line.
"""
from __future__ import annotations

import re
from functools import lru_cache

from index.labels import is_figure_row as _is_figure_row


_NUMBER = re.compile(r"[\d.,]+%?|[\d.,]+％")
_PAREN_UNIT = re.compile(r"[（(]([^（）()]{1,8})[)）]\s*$")
_UNIT = re.compile(r"(?:万|亿|千)?(?:元|个|家|所|项|名|人|人次|户|户次|套|辆|台|座|处|条|批|次|场|期|本|册|块|笔|张|间|栋|床|吨|公斤|"
                   r"公里|千米|米|亩|公顷|平方米|立方米|千瓦|兆瓦|千瓦时|小时|天|%|％)")
_UNIT_HEADS = {"单位", "计量单位", "单 位"}
_SENTENCE_MARKS = re.compile(r"[。，；;,！？]")
_ROW_LABEL_HEADS = {"序号", "编号"}


def _cells(line: str) -> list[str]:
    """Cells of a flattened row: split at tabs or runs of two spaces where the line has them (a Word table's cells,
    joined by index/formats/docx.py, may hold a single space), else at every space."""
    line = line.strip()
    if re.search(r"\t|\s{2,}", line):
        return [c for c in re.split(r"\t|\s{2,}", line) if c.strip()]
    return line.split()


def is_figure_row(line: str) -> bool:
    """A row of a flattened table that is mostly figures (index.labels.is_figure_row, with cells as _cells splits them)."""
    return _is_figure_row(line.strip(), _cells(line))


def _header_above(text: str, start: int, width: int) -> list[str] | None:
    """The header line of the table whose row begins at `start`: the first line above it that is not itself a row of
    figures, with as many cells as the row (a caption or a sentence ends the search)."""
    pos = start
    for _ in range(40):  # a table is read up to 40 rows above the row
        if pos <= 0:
            return None
        prev_end = text.rfind("\n", 0, pos - 1) + 1
        line = text[prev_end:pos].strip()
        pos = prev_end
        if not line:
            continue
        if is_figure_row(line):
            continue
        if _SENTENCE_MARKS.search(line):
            return None
        cells = _cells(line)
        return cells if len(cells) == width else None
    return None


def _unit_of(head: str) -> tuple[str, str]:
    """A header cell's name and the unit in its brackets: 完成投资（万元） → (完成投资, 万元)."""
    m = _PAREN_UNIT.search(head)
    if not m or not _UNIT.fullmatch(m.group(1).split("/")[0]):  # 初级工（五级）: a name, not a unit
        return head, ""
    return head[:m.start()].strip(), m.group(1).split("/")[0]


@lru_cache(maxsize=8192)
def is_table_header(text: str, start: int, end: int) -> bool:
    """Is text[start:end] the header line of a flattened table (the next line a row of figures with as many cells)?"""
    line = text[start:end].strip()
    if not line or _SENTENCE_MARKS.search(line) or len(_cells(line)) < 3 or is_figure_row(line):
        return False
    nl = text.find("\n", end)
    if nl < 0:
        return False
    nxt_end = text.find("\n", nl + 1)
    nxt = text[nl + 1:nxt_end if nxt_end >= 0 else len(text)].strip()
    return is_figure_row(nxt) and len(_cells(nxt)) == len(_cells(line))


@lru_cache(maxsize=8192)
def row_reading(text: str, start: int, end: int) -> str | None:
    """The row text[start:end] read under its table's header, or None when it is no table row or has no header."""
    row = text[start:end].strip()
    if not is_figure_row(row):
        return None
    line_start = text.rfind("\n", 0, start) + 1
    cells = _cells(row)
    header = _header_above(text, line_start, len(cells))
    if header is None:
        return None
    unit_col = next((i for i, h in enumerate(header) if h in _UNIT_HEADS), None)
    row_unit = cells[unit_col] if unit_col is not None else ""
    label_name, label_unit = _unit_of(cells[0])  # 家政服务企业（家） 968 1126: the unit is the row's
    parts: list[str] = []
    for i, (head, cell) in enumerate(zip(header, cells)):
        if i == unit_col:  # its unit goes with each figure
            continue
        name, unit = _unit_of(head)
        if _NUMBER.fullmatch(cell):
            if head in _ROW_LABEL_HEADS:
                continue
            unit = unit or row_unit or label_unit
            parts.append(f"{name}{cell}{'' if cell.endswith(('%', '％')) else unit}")
        elif i == 0 or head in _ROW_LABEL_HEADS:
            parts.append(label_name if label_unit else cell)
        elif re.fullmatch(r"[—\-–]+", cell):
            continue
        else:
            parts.append(f"{name}{cell}")
    return "，".join(parts) + "。"
