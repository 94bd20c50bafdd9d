"""The CSV wire format: every cell a spreadsheet reads as text, never as a formula.

A cell beginning with `=`, `+`, `-` or `@` is a formula to Excel, LibreOffice and Google Sheets, and tab or
carriage return can smuggle one in; a call-type name, an LPA or an officer id sent by a caller could then run
when a planner opens the export (OWASP "CSV Injection"). Such a cell is written with a leading `'`, which the
spreadsheet shows as text and does not display.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A text value that a spreadsheet would read as a formula, prefixed with a single quote; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """Rows as CSV (RFC 4180 line endings), every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def safe_csv(text: str) -> str:
    """A CSV document written elsewhere, with every cell made safe."""
    return csv_text(csv.reader(io.StringIO(text, newline="")))
