"""``pbr template``: empty CSV tables and a README of their columns, never over a table with rows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from pbr._terminal import printable
from pbr.cli._options import file_name

__all__ = ["add", "run"]


def add(sub: Any) -> None:
    """Register ``pbr template``."""
    tp = sub.add_parser("template", help="write empty CSV tables and a README of their columns")
    tp.add_argument(
        "folder",
        type=file_name,
        help="where to write the tables (created if missing); a table that has rows is kept",
    )
    tp.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO) -> int:
    """Write the templates; a table that already has rows is kept and said so."""
    from pbr.cli._options import key_files
    from pbr.output import check_distinct
    from pbr.tables import README_NAMES, TABLES, table_files, write_templates

    targets = [*(f"{table}.csv" for table in TABLES), *README_NAMES]
    writes: dict[str, str | None] = {
        f"the template {n}": str(Path(args.folder) / n) for n in targets
    }
    check_distinct(dict(key_files()), writes)  # a ledger's key, written over, is gone
    written = write_templates(args.folder)
    for path in written:
        out.write(f"{printable(str(path))}\n")
    for kept in table_files(args.folder).values():  # ``Payments.CSV`` as it is named
        if kept not in written:
            print(f"kept {printable(str(kept))}: it already has rows", file=sys.stderr)
    guide = [path for path in written if path.name in README_NAMES]
    for name in README_NAMES:
        theirs = Path(args.folder) / name
        if theirs.exists() and theirs not in written:
            where = f"written to {guide[0].name}" if guide else "not written"
            print(
                f"kept {printable(str(theirs))}: pbr did not write it (the column guide is {where})",
                file=sys.stderr,
            )
        if guide and theirs == guide[0]:
            break
    return 0
