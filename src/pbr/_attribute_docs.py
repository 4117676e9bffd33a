"""Field descriptions in the JSON Schema from the docstrings under each field, read when asked.

The record and decision models document every field with a docstring under it, and their JSON
Schema carries it as the field's ``description``. Pydantic can read these itself
(``use_attribute_docstrings``), but does so while each class is built: about 6% of every
command's start-up, for text only a schema uses. Here the module's source is read once, when
a schema is first asked for, through the models' ``json_schema_extra``. The schema is the same
(tests/test_attribute_docs.py holds it to pydantic's own reading).
"""

from __future__ import annotations

import ast
import inspect
import sys
from functools import cache
from itertools import pairwise
from typing import Any


def describe_fields(schema: dict[str, Any], cls: type) -> None:
    """Describe each property of a model's schema by its docstring, unless `Field` describes it.

    A model's ``json_schema_extra``: pydantic calls it with the model's schema as generated.
    """
    fields = getattr(cls, "model_fields", {})
    properties = schema.get("properties", {})
    for name, doc in field_docs(cls).items():
        field = fields.get(name)
        if field is None or field.description is not None:
            continue
        key = field.serialization_alias or field.alias or name
        place = properties.get(key)
        if isinstance(place, dict):  # over the type's own description, as pydantic does
            place["description"] = doc


def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of model `cls` or, for one it inherits, its base's.

    As pydantic reads them: a string straight after an annotated assignment, cleaned
    (`inspect.cleandoc`), in the nearest class of the MRO that annotates the field.
    """
    unread = set(getattr(cls, "model_fields", ()))
    docs: dict[str, str] = {}
    for klass in cls.__mro__:
        annotated = unread.intersection(vars(klass).get("__annotations__", ()))
        if not annotated:
            continue
        unread -= annotated
        written = _module_docs(klass.__module__).get(klass.__qualname__, {})
        docs.update({name: written[name] for name in annotated if name in written})
    return docs


@cache
def _module_docs(module_name: str) -> dict[str, dict[str, str]]:
    """Each top-level class of a module by name, and its attribute docstrings (parsed once)."""
    try:
        source = inspect.getsource(sys.modules[module_name])
    except (OSError, TypeError, KeyError):  # no source shipped: no descriptions, as pydantic
        return {}
    found: dict[str, dict[str, str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            found[node.name] = _class_docs(node)
    return found


def _class_docs(node: ast.ClassDef) -> dict[str, str]:
    docs: dict[str, str] = {}
    for stmt, after in pairwise(node.body):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[stmt.target.id] = inspect.cleandoc(after.value.value)
    return docs
