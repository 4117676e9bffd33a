"""The optional C part of pbr (everything else about the package is in pyproject.toml).

`pbr._jsonscan` checks a record's JSON in one pass: no key given twice (about 5 µs where the
Python proof takes 27), every date in bounds. It is optional: without a C compiler pbr installs
without it and `pbr._compiled` checks the same in Python, with the same answers, more slowly.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "pbr._jsonscan",
            ["src/pbr/_jsonscan.c"],
            optional=True,
            py_limited_api=True,  # one build serves every CPython from 3.11 on
            define_macros=[("Py_LIMITED_API", "0x030B0000")],
        )
    ],
    options={"bdist_wheel": {"py_limited_api": "cp311"}},  # the wheel's tag says so
)
