"""CSV answers for the lists: `?format=csv` or `Accept: text/csv` (a browser's `*/*` stays JSON).

Cells a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) are prefixed with a
quote (OWASP's CSV-injection advice): a student named `=HYPERLINK(...)` stays text in Excel.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response, request
from marshmallow import Schema

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def wants_csv(format_param: str | None) -> bool:
    if format_param:
        return format_param == "csv"
    accepted = request.accept_mimetypes
    return accepted.best_match(["application/json", "text/csv"]) == "text/csv" and accepted["text/csv"] > accepted[
        "application/json"]


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(schema: Schema, rows: Iterable, filename: str) -> Response:
    columns = list(schema.fields)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        data = schema.dump(row)
        writer.writerow([_cell(data.get(column)) for column in columns])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
