"""CSV downloads: streamed row by row (an export of 100,000 entries never sits in memory) and safe to open in a
spreadsheet, which would otherwise run a cell that starts like a formula, or show a cell reordered by a text-direction
character or broken over lines by a control character."""

import csv
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django import forms
from django.http import HttpResponse, StreamingHttpResponse

from .text import visible

# What spreadsheets read as the start of a formula (OWASP "CSV injection"); tab and CR hide a leading one (``visible``
# has already written those two as escapes; they stay listed so the rule reads as OWASP's).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str | int | float:
    """The value as a CSV cell: text with its control and direction characters escaped, and a leading quote when a
    spreadsheet would evaluate it. Numbers and dates stay as they are (a negative count of days is not a formula)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    text = visible(str(value))
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterable[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def filter_errors_response(form: forms.Form) -> HttpResponse:
    """A download link with filters a person edited by hand: say which ones are wrong (400), never a 500."""
    problems = " ".join(
        f"{form.fields[name].label if name in form.fields else name}: {' '.join(str(e) for e in errors)}"
        for name, errors in form.errors.items()
    )
    return HttpResponse(f"Correct the filters: {problems}", status=400, content_type="text/plain; charset=utf-8")
