"""Every exception pbr raises survives pickling: a worker process's error reaches its caller.

A `ProcessPoolExecutor` sends a worker's exception back pickled; one that cannot be rebuilt
breaks the whole pool (``BrokenProcessPool``) instead of reaching the caller as itself.
"""

from __future__ import annotations

import importlib
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import pbr
from pbr.errors import PbrError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

PUBLIC_MODULES = (
    "pbr",
    "pbr.audit",
    "pbr.batch",
    "pbr.engine",
    "pbr.errors",
    "pbr.forecast",
    "pbr.history",
    "pbr.io",
    "pbr.ledger",
    "pbr.output",
    "pbr.plans",
    "pbr.replay",
    "pbr.rules",
    "pbr.tables",
)

ARGUMENTS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "PbrError": (("something is wrong",), {}),
    "RulesDataError": (("mine.toml: not valid TOML",), {}),
    "UnknownInterpretation": (
        ("unknown interpretation 'employment_week'",),
        {"valid": ["employment_weeks", "sustained_weeks"]},
    ),
    "OutsideProgramme": (
        ("F1", "no rule set pays kind 'x'"),
        {"field": "payments.0.kind", "value": "x"},
    ),
    "PlanError": (("plan 'p': programme: wrong", "plan 'p': outcomes: empty"), {}),
    "CalendarError": (("k.csv: line 2: term: 'x'", "k.csv: line 3: start: 'y'"), {}),
    "ForecastError": (("cannot write /no/such/folder: it does not exist",), {}),
    "MissingExtra": (('reading XLSX needs openpyxl: pip install "pbr-claims[xlsx]"',), {}),
    "HistoryError": (("family 'F1': payment 'C-1' is not valid",), {}),
    "PaymentConflict": (("F1", "C-1", "amount", "700.00", "1500.00", "ledger l.db"), {}),
    "PaidTwice": (("F1", "L-2", "progress_to_work", "C-1", "the family record"), {}),
    "PaidBeforeAttachment": (("F1", "L-2", "2012-01-01", "2014-04-01", "ledger l.db"), {}),
    "NotPaidByProgramme": (("F1", "L-2", "attachment_fee", "no fee", "ledger l.db"), {}),
    "PaidUnderAnotherProgramme": (
        ("F1", "L-6", "supporting-families/1.0", "supporting-families", "tf-phase-2/1.0", "l.db"),
        {},
    ),
    "PaidTooMuch": (("F1", "the payments add up to 1e12", "ledger l.db", ["1.00", "2.00"]), {}),
    "UnreadableFile": (("cannot read no-such-file.jsonl: No such file or directory",), {}),
    "OutputError": (("cannot write /tmp: it is a folder",), {}),
    "LedgerError": (("ledger l.db: not a pbr ledger",), {}),
    "ReplayError": (("decision 'F1' is for another family",), {}),
}
"""Representative constructor arguments for each exception class, by name."""


def every_error_class() -> list[type[PbrError]]:
    """Every subclass of `PbrError` that pbr's public modules define (and `PbrError` itself)."""
    for name in PUBLIC_MODULES:
        importlib.import_module(name)
    found: list[type[PbrError]] = []
    waiting: list[type[PbrError]] = [PbrError]
    while waiting:
        kind = waiting.pop()
        if kind.__module__.startswith("pbr") and kind not in found:
            found.append(kind)
            waiting.extend(kind.__subclasses__())
    return sorted(found, key=lambda kind: kind.__name__)


def public_attributes(error: BaseException) -> dict[str, Any]:
    """An error's own attributes that are not private (`valid`, `family_id`, `field`...)."""
    names = {name for name in vars(error) if not name.startswith("_")}
    return {name: getattr(error, name) for name in sorted(names)}


def test_every_error_class_has_arguments_here() -> None:
    names = {kind.__name__ for kind in every_error_class()}
    assert names <= set(ARGUMENTS), f"add arguments for {sorted(names - set(ARGUMENTS))}"
    assert {"OutsideProgramme", "PaidTooMuch", "UnreadableFile"} <= names


@pytest.mark.parametrize("kind", every_error_class(), ids=lambda kind: kind.__name__)
def test_an_error_survives_pickling(kind: type[PbrError]) -> None:
    args, kwargs = ARGUMENTS[kind.__name__]
    error = kind(*args, **kwargs)
    error.add_note("a note added on the way")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is kind
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert public_attributes(copy) == public_attributes(error)
    assert copy.__notes__ == ["a note added on the way"]


def raise_outside_programme(family_id: str) -> None:
    """In a worker: raise the error a family outside every programme raises."""
    raise pbr.OutsideProgramme(
        family_id, "no rule set covers it", field="attached_on", value="2011-05-01"
    )


def test_an_error_in_a_worker_process_reaches_the_caller_as_itself() -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        future = pool.submit(raise_outside_programme, "F1")
        with pytest.raises(pbr.OutsideProgramme) as raised:
            future.result(timeout=60)
    assert str(raised.value) == "family 'F1': no rule set covers it"
    assert (raised.value.family_id, raised.value.field, raised.value.value) == (
        "F1",
        "attached_on",
        "2011-05-01",
    )


def test_each_missing_extra_is_a_missing_extra_naming_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An extra not installed is `pbr.MissingExtra` wherever it is needed (an `ImportError`
    too), so a caller catches every one of them, and the command line says each in one line."""
    import sys

    from pbr.output import xlsx_decisions
    from pbr.tables import write_tables

    for name in ("openpyxl", "pandas", "matplotlib", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, name, None)
    family = next(iter(pbr.read_records(EXAMPLES / "families.jsonl")))
    assert isinstance(family, pbr.Family)
    for needs, why in (
        (lambda: xlsx_decisions([]), r'openpyxl: pip install "pbr-claims\[xlsx\]"'),
        (lambda: write_tables([family], tmp_path / "f.xlsx"), r"pbr-claims\[xlsx\]"),
        (lambda: pbr.to_pandas([]), r'pip install "pbr-claims\[pandas\]"'),
    ):
        with pytest.raises(pbr.MissingExtra, match=why) as raised:
            needs()
        assert isinstance(raised.value, ImportError)
        assert isinstance(raised.value, pbr.PbrError)
