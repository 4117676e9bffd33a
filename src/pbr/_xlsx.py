"""Workbooks written the same way every time: the same content gives the same bytes.

openpyxl stamps a workbook with the time it was made and saved, and its zip entries with the
time they were written, so two runs of the same report differed in a few bytes and could not be
compared by hash. `saved` writes a workbook with those times fixed.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import zipfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pbr._terminal import printable

__all__ = [
    "FIXED_TIME",
    "GBP",
    "NUMBER",
    "cell_text",
    "discarded_if_unfinished",
    "entry",
    "saved",
    "typed_cell",
    "unstamped",
]

GBP = '"£"#,##0.00'
"""How money shows: a number (the exact `Decimal`) in pounds and pence."""
NUMBER = "#,##0.00####"
"""How a share shows: a number to as many places as it needs, up to six."""


def typed_cell(make: Any, sheet: Any, value: Any) -> Any:
    """A write-only cell (`make`: openpyxl's ``WriteOnlyCell``) holding `value` as what it is.

    Money (`Decimal`) as a number in £, a share (`Fraction`) as a number, a date as a date, so
    that a spreadsheet sums and sorts them; text neutralised (`pbr.output.neutralise`) and kept
    as text (`cell_text`: what a cell cannot hold escaped); anything else (int, bool, None) as
    it is.
    """
    if isinstance(value, Decimal):
        cell = make(sheet, value=value)
        cell.number_format = GBP
        return cell
    if isinstance(value, Fraction):
        cell = make(sheet, value=float(value))
        cell.number_format = NUMBER
        return cell
    if isinstance(value, date):
        cell = make(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, str):
        from pbr.output import neutralise

        cell = make(sheet, value=neutralise(cell_text(value)))
        cell.data_type = "s"
        return cell
    return make(sheet, value=value)


def cell_text(text: str) -> str:
    r"""`text` as a workbook cell can hold it: each character it cannot, escaped (`printable`).

    openpyxl refuses a control character other than a tab or a line break (the XML of a sheet
    has none), and a byte that was not UTF-8 (a lone surrogate) cannot be saved: either stopped
    the whole workbook. They are shown as the terminal shows them, ``\x1b``; the rest is kept.

    >>> cell_text("C\x1b[31mRED"), cell_text("bad\udc96"), cell_text("two\tcolumns\nlines")
    ('C\\x1b[31mRED', 'bad\\x96', 'two\tcolumns\nlines')
    """
    return _UNSTORABLE.sub(lambda found: printable(found[0]), text)


_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
"""What a cell cannot hold: openpyxl's ``ILLEGAL_CHARACTERS_RE``, and lone surrogates."""


@contextlib.contextmanager
def discarded_if_unfinished(book: Any) -> Iterator[Any]:
    """`book` (a write-only openpyxl workbook), its sheets' half-written parts closed on any error.

    A sheet being appended to holds two open generators over a temporary file; left to the
    garbage collector (Ctrl-C at exit), they close in any order and Python prints "Exception
    ignored in: ... I/O operation on closed file" after ``pbr: interrupted``.
    """
    try:
        yield book
    except BaseException:
        for sheet in getattr(book, "_sheets", ()):
            _discard(sheet)
        raise


def _discard(sheet: Any) -> None:
    """Close a write-only sheet's row writer, then its file writer, and remove its temporary file."""
    rows, writer = getattr(sheet, "_rows", None), getattr(sheet, "_writer", None)
    with contextlib.suppress(Exception):
        if rows is not None:
            rows.close()  # first: it ends the sheet's XML in the file the writer still holds
    if writer is None:
        return
    with contextlib.suppress(Exception):
        writer.xf.close()
    out = getattr(writer, "out", None)
    if isinstance(out, str):
        with contextlib.suppress(OSError):
            os.remove(out)


FIXED_TIME = "1980-01-01T00:00:00Z"
"""The time every workbook says it was created and modified (the earliest a zip can hold)."""
_STAMP = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def saved(book: Any) -> bytes:
    """`book` (an openpyxl workbook) as XLSX bytes that depend on its content alone.

    >>> from openpyxl import Workbook
    >>> def made() -> bytes:
    ...     book = Workbook(write_only=True)
    ...     book.create_sheet("a").append([1, "two"])
    ...     return saved(book)
    >>> made() == made()
    True
    """
    buffer = io.BytesIO()
    book.save(buffer)
    fixed = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(entry(info), unstamped(info.filename, source.read(info)))
    return fixed.getvalue()


def entry(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    """A zip entry like `info`, dated `FIXED_TIME` and deflated."""
    fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
    fixed.compress_type = zipfile.ZIP_DEFLATED
    fixed.external_attr = info.external_attr
    return fixed


def unstamped(name: str, data: bytes) -> bytes:
    """A workbook part's bytes with its creation and change times set to `FIXED_TIME`."""
    if name != "docProps/core.xml":
        return data
    return _STAMP.sub(rb"\g<1>" + FIXED_TIME.encode() + rb"\g<3>", data)
