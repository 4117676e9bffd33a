"""Tables as pandas DataFrames that are numbers: money in whole pence, dates as datetime64.

Money columns hold **whole pence** as ``int64`` and say so in their names (``total_pence``):
integers add up exactly in pandas and numpy (``frame.sum()``, ``groupby().sum()``), where float
pounds drift by fractions of a penny and `Decimal` columns are not numbers to pandas. Every
table's rows add up to its totals to the penny (the rounding is allocated: see
`pbr.forecast._rounding`). For charts and spreadsheets, `pounds` gives the pounds view: the same
columns as float pounds without the suffix; each value is the float nearest the exact amount
(``701866.67``), so it plots and exports as you expect, and a sum of them rounds to the exact
total. Shares and numbers of families are float columns; dates are ``datetime64``: a window
table is indexed by its claim date, so that it sums and plots as a time series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pbr.forecast._extras import pandas
from pbr.money import in_exact_arithmetic

__all__ = ["PENCE", "pounds", "to_frame"]

PENCE = "_pence"
"""The suffix of a money column in whole pence."""


def to_frame(
    rows: Sequence[Mapping[str, Any]],
    index: str | None = None,
    *,
    empty: Mapping[str, Any] | None = None,
) -> Any:
    """A DataFrame of `rows`: `Decimal` columns as whole pence, dates as datetime64.

    The `index` column (``claim_date`` for windows) becomes a DatetimeIndex, so the frame sums
    (``frame.sum()``) and plots against time (``frame.plot(y=...)``); a date that is the same in
    every row (a forecast's ``as_of``) moves to ``frame.attrs`` and a column with no values is
    left out, so that every column sums. With no rows, the frame has the columns and dtypes
    that the row `empty` would give (and no row), so a table is the same table when it is empty.

    >>> frame = to_frame([{"year": "2012/13", "total": Decimal("0.10"), "on": date(2012, 6, 30)}],
    ...     index="on")
    >>> list(frame.columns), int(frame["total_pence"].iloc[0]), str(frame.index.dtype)
    (['year', 'total_pence'], 10, 'datetime64[us]')
    >>> none = to_frame([], index="on", empty={"year": "", "total": Decimal(0), "on": date.min})
    >>> none.shape, str(none["total_pence"].dtype), str(none.index.dtype)
    ((0, 2), 'int64', 'datetime64[us]')
    """
    if not rows and empty is not None:
        return to_frame([empty], index).iloc[0:0]
    pd = pandas()
    columns: dict[str, Any] = {}
    attrs: dict[str, Any] = {}
    names = list(dict.fromkeys(key for row in rows for key in row))
    for name in names:
        values = [row.get(name) for row in rows]
        present = [v for v in values if v is not None]
        if not present:
            continue
        if all(isinstance(v, Decimal) for v in present):
            pennies = [None if v is None else int(v * 100) for v in values]
            dtype = "int64" if len(present) == len(values) else "Int64"
            columns[name + PENCE] = pd.Series(pennies, dtype=dtype)
        elif all(isinstance(v, date) for v in present):
            if name != index and len(present) == len(values) and len(set(present)) == 1:
                attrs[name] = present[0]
                continue
            columns[name] = pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[us]")
        elif all(isinstance(v, Fraction | int) for v in present) and any(
            isinstance(v, Fraction) for v in present
        ):
            columns[name] = pd.Series(
                [None if v is None else float(v) for v in values], dtype="float64"
            )
        else:
            columns[name] = pd.Series(values)
    frame = pd.DataFrame(columns)
    if index is not None and index in frame.columns:
        frame = frame.set_index(index)
    frame.attrs.update(attrs)
    return frame


@in_exact_arithmetic
def pounds(table: Any) -> Any:
    """The pounds view of a frame, column or row of pence: each ``*_pence`` one as float pounds.

    Use it to plot or export; keep the pence for arithmetic (sum in pence, then view). A frame's
    ``*_pence`` columns become pounds without the suffix; a column with a pence twin
    (`pbr.to_pandas`' `Decimal` money) gives way to the twin's pounds, so no name is there twice.
    A Series named ``*_pence`` is a column: it becomes pounds, renamed, its index kept. Any other
    Series is a row (``frame.iloc[0]``): its ``*_pence`` labels become pounds, as a frame's
    columns do (a column not in pence is left as it is). Anything else is a `TypeError`.

    >>> from pbr.forecast import allocation
    >>> view = pounds(allocation(2630).to_pandas())
    >>> float(view["maximum"].iloc[1]), "maximum_pence" in view
    (2922666.67, False)
    >>> pounds(allocation(2630).to_pandas()["maximum_pence"]).name
    'maximum'
    """
    pd = pandas()
    if isinstance(table, pd.Series):
        return _series_pounds(table)
    if not isinstance(table, pd.DataFrame):
        from pbr._arguments import described

        raise TypeError(
            f"table must be a pandas DataFrame or Series, got {described(table)}; pass a "
            "forecast's to_pandas() (or a column or row of it)"
        )
    renamed = {c: c[: -len(PENCE)] for c in table.columns if _in_pence(c)}
    view = table.drop(columns=[c for c in renamed.values() if c in table.columns])
    for column in renamed:
        view[column] = view[column].astype("float64") / 100
    return view.rename(columns=renamed)


def _in_pence(label: object) -> bool:
    """Whether a column's (or row label's) name says it holds whole pence."""
    return isinstance(label, str) and label.endswith(PENCE)


def _series_pounds(series: Any) -> Any:
    """`pounds` of a Series: a ``*_pence`` column in pounds, or a row's pence labels in pounds."""
    if _in_pence(series.name):  # a column of pence: its index (claim dates, say) is kept
        return (series.astype("float64") / 100).rename(series.name[: -len(PENCE)])
    labels = list(series.index)
    if not any(_in_pence(label) for label in labels):
        return series.copy()  # a column (or row) with nothing in pence: as it is
    twins = {label[: -len(PENCE)] for label in labels if _in_pence(label)}
    values = {
        (label[: -len(PENCE)] if _in_pence(label) else label): (
            value / 100 if _in_pence(label) else value
        )
        for label, value in zip(labels, series.tolist(), strict=True)
        if _in_pence(label) or label not in twins
    }
    return pandas().Series(values, name=series.name)
