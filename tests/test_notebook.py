"""The analyst's example notebook runs from a fresh install (executed with nbclient)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_forecast_notebook_runs() -> None:
    notebook = nbformat.read(EXAMPLES / "forecast.ipynb", as_version=4)  # type: ignore[no-untyped-call]
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(EXAMPLES)}},
    ).execute()
    outputs = [
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    ]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "658 funded families; maximum 2632000.00" in text
    assert "secured" in text
    assert "claimable now" in text
    # both charts show, each once, as the value of the cell that draws it (.plot() in a notebook)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2
    assert {o["output_type"] for o in images} == {"execute_result"}
