r"""CSV read one line a row: no value holds a line break, so a quote never joins lines.

Shared by the claim file reader (`pbr.audit._claims`) and the council tables reader
(`pbr.tables`). A value is quoted whole (``"Q,4"``, with ``""`` inside for a quote) or holds no
quote at all; a quote that is not closed on its line, text after a closing quote and a quote
inside an unquoted value are problems of that line's row only, and every later line is still a
row of its own (where a CSV reader would have joined the lines after an unclosed quote into
one value, taking a later row's values into it).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

UNCLOSED = "unclosed"
"""The `split` problem's reason for a quote that opens a value and is not closed on its line:
the caller says which lines a CSV reader would have joined (`unclosed`, `joined`)."""


def unended(line: str) -> str:
    """A line without its line break (CRLF, LF or CR)."""
    return line.removesuffix("\n").removesuffix("\r")


def split(line: str) -> tuple[list[str], tuple[int, str, str] | None]:
    r"""One CSV line's values, and its first quoting problem: (column, raw value, why).

    A value is quoted whole (``"Q4"``, ``""`` inside for a quote) or holds no quote at all; a
    quote that opens a value and is not closed on the line (why: `UNCLOSED`, the value as
    written), text after a closing quote (``"Q4" extra``) and a quote inside an unquoted value
    (``Q4"``) are problems. A value with a problem is kept as written, and the values after it
    are still read.

    >>> split('C1,"Q,4","a""b"')
    (['C1', 'Q,4', 'a"b'], None)
    >>> values, (column, value, why) = split('C1,"Q4" extra,x')
    >>> values, column, value
    (['C1', '"Q4" extra', 'x'], 2, '\'"Q4" extra\'')
    >>> why
    'text after the closing quote (") of the value: a quote encloses a whole value or is not there (write "Q4 extra", or Q4 extra)'
    >>> split('C1,"2400".00,x')[1][2].endswith('(write "2400.00", or 2400.00)')
    True
    """
    values: list[str] = []
    problem: tuple[int, str, str] | None = None
    at, end = 0, len(line)
    while True:
        column = len(values) + 1
        if line.startswith('"', at):
            close = closing_quote(line, at)
            if close < 0:
                values.append(line[at:])
                problem = problem or (column, line[at:], UNCLOSED)
                return values, problem
            comma = line.find(",", close + 1)
            stop = end if comma < 0 else comma
            if stop > close + 1:  # text after the closing quote
                raw = line[at:stop]
                whole = line[at + 1 : close].replace('""', '"') + line[close + 1 : stop]
                plain = '"' not in whole and "," not in whole
                fix = f"write {quoted(whole)}" + (f", or {whole}" if plain else "")
                problem = problem or (
                    column,
                    repr(raw)[:80],
                    f'text after the closing quote (") of the value: a quote encloses a whole '
                    f"value or is not there ({fix})",
                )
                values.append(raw)
            else:
                values.append(line[at + 1 : close].replace('""', '"'))
        else:
            comma = line.find(",", at)
            stop = end if comma < 0 else comma
            raw = line[at:stop]
            if '"' in raw:
                problem = problem or (
                    column,
                    repr(raw)[:80],
                    'a stray quote (") inside the value: a quote encloses a whole value, or is '
                    "not there",
                )
            values.append(raw)
        if comma < 0:
            return values, problem
        at = comma + 1


def quoted(value: str) -> str:
    """`value` as a quoted CSV value."""
    return '"' + value.replace('"', '""') + '"'


def closing_quote(text: str, at: int) -> int:
    r"""Where the quote opening a value at `at` closes (a doubled quote is one ``"``), or -1.

    With `at` -1, the first quote of `text` that is not doubled: where a value opened on an
    earlier line closes, on this one.

    >>> closing_quote('"a""b",c', 0), closing_quote('"open', 0), closing_quote('x""y"\n', -1)
    (5, -1, 4)
    """
    close = at + 1
    while True:
        close = text.find('"', close)
        if close < 0 or not text.startswith('"', close + 1):
            return close
        close += 2


def unclosed(text: str, at: int, line: int, what: str) -> str:
    """Why a quote opened at `at` of the whole file's `text` (on `line`) spoils its row.

    Read as CSV, the quote joins lines into one value up to its closing quote: say which
    (`joined`). `what` names the file's values (``claim value``).
    """
    close = closing_quote(text, at)
    if close < 0:
        last = line + len(io.StringIO(text[at:], newline="").readlines()) - 1
    else:
        last = line + len(io.StringIO(text[at:close], newline="").readlines()) - 1
    return joined(line, last, close >= 0, what)


def joined(line: int, last: int, closed: bool, what: str) -> str:
    """Why a quote opened on `line` and closed on `last` (or, not `closed`, never) spoils its row.

    >>> joined(3, 4, True, "table value")
    'a quote (") opens the value and is not closed on its line: the value runs over lines 3–4, joined into one row by a stray or unclosed quote ("); no table value holds a line break, so each line is read as a row of its own'
    >>> joined(3, 3, False, "table value")
    'a quote (") opens the value and is never closed: a stray or unclosed quote (")'
    """
    if closed:
        runs = f"over lines {line}–{last}"
    elif last > line:
        runs = f"to the end of the file (lines {line}–{last})"
    else:
        return 'a quote (") opens the value and is never closed: a stray or unclosed quote (")'
    return (
        f'a quote (") opens the value and is not closed on its line: the value runs {runs}, '
        f'joined into one row by a stray or unclosed quote ("); no {what} holds a line '
        "break, so each line is read as a row of its own"
    )


def shown_columns(names: Sequence[str]) -> str:
    """A header's first eight columns for a message, each cut to 60 characters.

    >>> shown_columns(["family_id", "x" * 70])
    "'family_id', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…'"
    """
    found = ", ".join(repr(n if len(n) <= 60 else n[:59] + "…") for n in names[:8])
    if len(names) > 8:
        found += f" and {len(names) - 8} more"
    return found


def separator_in(names: Sequence[str]) -> str | None:
    """The separator a header seems to use where a comma belongs (``';'``, a tab, ``'|'``).

    >>> separator_in(["family_id;attached_on"]), separator_in(["family_id"])
    ("';'", None)
    """
    for separator, what in ((";", "';'"), ("\t", "a tab"), ("|", "'|'")):
        if any(separator in n for n in names):
            return what
    return None
