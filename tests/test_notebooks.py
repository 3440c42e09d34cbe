"""The teaching notebooks (issue 8): each one runs top to bottom in a fresh kernel and draws at least one plot.

Every ``notebooks/*.ipynb`` is picked up by the glob, so a new notebook is tested by adding the file. Each runs
with nbclient in its own kernel, with the working directory ``notebooks/`` (as ``jupyter`` would run it there)
and ``MPLBACKEND=Agg`` as in CI; the notebooks select inline plots themselves (``%matplotlib inline``), so a
figure they show comes back as an image output.

The kernel is the interpreter running pytest, whatever kernel specs the machine has installed: only
ipykernel's own ``python3`` spec is looked up (no user or system kernel directories), and that spec launches
``sys.executable``. So in CI the notebooks import dcsim from ``.venv-ci``, and the test checks it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

nbformat = pytest.importorskip("nbformat", reason="the notebook tests need the test extras (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="the notebook tests need the test extras (nbclient)")
pytest.importorskip("ipykernel", reason="the notebook tests need the test extras (ipykernel)")

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 300
"""Generous: a notebook should take well under two minutes in all; this only stops a hung cell."""

CHECK_INTERPRETER = "import sys\nprint(sys.executable)"


def kernel_manager():
    """An nbclient-compatible kernel manager whose ``python3`` is this interpreter's ipykernel."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    specs = KernelSpecManager(kernel_dirs=[])  # ipykernel's native spec only: argv[0] is sys.executable
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_clean_and_complete(path: Path):
    """No outputs or execution counts in the repository, a title, what the student will learn, exercises."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, "a notebook without code"
    for cell in code:
        assert not cell.outputs and cell.execution_count is None, f"committed with outputs: {cell.source[:60]!r}"
    first, last = nb.cells[0], nb.cells[-1]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "opens with a markdown title"
    assert "What you will learn" in first.source
    assert last.cell_type == "markdown" and "## Exercises" in last.source, "ends with exercises"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_plots(path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits the environment
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(CHECK_INTERPRETER))
    km = kernel_manager()
    assert Path(km.kernel_spec.argv[0]) == Path(sys.executable)
    client = nbclient.NotebookClient(nb, km=km, timeout=CELL_TIMEOUT_S, startup_timeout=120,
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()  # raises CellExecutionError, with the failing cell and its traceback, on any error

    outputs = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type in ("display_data", "execute_result") and "image/png" in o.data]
    assert images, "the notebook drew no plot"
    printed = "".join(o.text for o in nb.cells[-1].outputs if o.output_type == "stream").strip()
    assert Path(printed) == Path(sys.executable), "the kernel ran another Python than the one running the tests"
