"""The analyst's example notebook runs from a fresh install (executed with nbclient)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # run by the full command; left out by -m 'not slow'

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_forecast_notebook_runs() -> None:
    notebook = nbformat.read(EXAMPLES / "forecast.ipynb", as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(EXAMPLES)}},
    ).execute()
    outputs = [
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    ]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    # the Lancashire questions: maximum by year, at risk if half succeed, base and pessimistic
    assert "2,192 funded families; maximum £8,768,000.00" in text
    assert (
        "If half succeed: forecast £6,429,866.67, after the last claim window £584,533.33, "
        "never payable £584,533.33, at risk £1,169,066.67" in text
    )
    assert "rates drawn from the scenario ranges" in text
    tables = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "maximum_by_claim" in tables
    assert "pessimistic" in tables
    assert "Hammersmith & Fulham" in tables
    # every chart shows, each once, as the value of the cell that draws it (.plot() in a notebook)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 4
    assert {o["output_type"] for o in images} == {"execute_result"}
