"""The optional compiled parts of pbr (everything else about the package is in pyproject.toml).

- `pbr._jsonscan` (C) checks a record's JSON in one pass: no key given twice (about 3.5 µs where
  the Python proof takes 27), every date in bounds.
- `pbr._rebuild` (C) builds a decision's models from values already valid, as `pbr.decisions`
  does in Python, in about half the time.
- `pbr._facts` (C) makes the record's cross-field check over a compiled record's facts, reading
  their slots directly: about a tenth of the Python check's instructions. It reads the slots'
  offsets, which the limited API hides, so it is built for one CPython version.
- The rules' hot modules (`pbr._native.COMPILED`) are compiled by mypyc from their own typed
  Python source: the same code, about a quarter less time a family, decisions byte for byte the
  same. ``PBR_PURE_PYTHON=1`` at install time leaves them as Python; at run time, it makes pbr
  import their source instead (see `pbr._native`).

All are optional: without a C compiler pbr installs without them and runs the same Python, with
the same answers, more slowly.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).resolve().parent


def compiled_modules() -> tuple[str, ...]:
    """`pbr._native.COMPILED`, read from its source (pbr is not importable while it builds)."""
    tree = ast.parse((HERE / "src" / "pbr" / "_native.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "COMPILED" for t in node.targets
        ):
            names = ast.literal_eval(node.value)
            assert isinstance(names, tuple)
            return tuple(str(name) for name in names)
    raise SystemExit("setup.py: no COMPILED in src/pbr/_native.py")


def mypyc_extensions() -> list[Extension]:
    """The compiled rule modules, unless PBR_PURE_PYTHON=1 or mypyc is not installed."""
    if os.environ.get("PBR_PURE_PYTHON") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:  # built without pyproject's build requirements: stay pure Python
        return []
    paths = ["src/" + name.replace(".", "/") + ".py" for name in compiled_modules()]
    try:
        extensions: list[Extension] = mypycify(paths, opt_level="3", group_name="pbr")
    except (Exception, SystemExit) as exc:  # mypy's check failed here: never fail the install
        print(
            f"setup.py: the rules stay Python, mypyc did not compile them: {exc}", file=sys.stderr
        )
        return []
    for extension in extensions:
        extension.optional = True  # no C compiler: the Python source is used, as above
    return extensions


MYPYC = mypyc_extensions()

setup(
    ext_modules=[
        *(
            Extension(
                f"pbr.{name}",
                [f"src/pbr/{name}.c"],
                optional=True,
                py_limited_api=True,
                define_macros=[("Py_LIMITED_API", "0x030B0000")],
            )
            for name in ("_jsonscan", "_rebuild")
        ),
        Extension("pbr._facts", ["src/pbr/_facts.c"], optional=True),
        *MYPYC,
    ],
    # `pbr._facts` and mypyc's modules are built for one CPython version, so the wheel is tagged
    # for that one (the scanner and the rebuilder alone would serve every CPython from 3.11 on)
)
