"""A module another thread is still importing is never taken for a loaded one.

pbr looks some modules up in `sys.modules` rather than importing them (a module not loaded
cannot have made the object in hand). While another thread imports it, `sys.modules` already
holds the module, without the names it has not reached yet: `pbr.evaluate` in one thread must
still answer while another thread runs its first `pbr.evaluate_many` (which imports
`pbr._compiled`).
"""

from __future__ import annotations

import sys
import types
from datetime import date

import pytest

import pbr
from pbr import _arguments, batch

AS_OF = date(2015, 3, 31)
FAMILY = pbr.Family.model_validate(
    {
        "family_id": "F1",
        "attached_on": "2013-05-01",
        "members": [{"person_id": "A1", "date_of_birth": "1984-03-12"}],
    }
)


def half_imported(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Put a module object under `name` that has none of its names yet, as mid-import."""
    monkeypatch.setitem(sys.modules, name, types.ModuleType(name))


def test_evaluate_answers_while_the_compiled_records_are_half_imported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = pbr.evaluate(FAMILY, as_of=AS_OF)
    half_imported(monkeypatch, "pbr._compiled")
    assert pbr.evaluate(FAMILY, as_of=AS_OF) == expected


@pytest.mark.parametrize("name", ["pbr.records", "pbr._rejection", "pbr.tables"])
def test_a_batch_s_type_checks_take_a_half_imported_module_for_no_instance(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    half_imported(monkeypatch, name)
    item = object()
    assert not batch._is_family(item)
    assert not batch._is_rejection(item)
    assert not batch._is_table_family(item)


@pytest.mark.parametrize("name", ["pbr._compiled", "pydantic", "pbr.rules", "pbr.plans"])
def test_argument_checks_take_a_half_imported_module_for_no_instance(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    half_imported(monkeypatch, name)
    assert _arguments._is(object(), name, "Anything") is False
    _arguments.check_family(FAMILY)
    with pytest.raises(TypeError, match=r"expected a pbr\.Family"):
        _arguments.check_family({"family_id": "F1"})
