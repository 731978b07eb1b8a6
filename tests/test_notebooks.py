"""The example notebooks run headless, top to bottom, and show their results as rich output.

Each notebook is executed once per test session by a real Jupyter kernel (nbclient,
the ``python3`` kernel of ipykernel). Cells tagged ``picture`` must show a PNG image,
``html`` an HTML table, ``latex`` a LaTeX derivation, ``widget`` an ipywidgets view:
what a learner sees without ``%matplotlib inline`` or any other setup.
"""

import base64
from pathlib import Path

import nbclient  # the test extra installs nbclient, nbformat and ipykernel
import nbformat
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOKS = sorted(p.name for p in EXAMPLES.glob("*.ipynb"))
EXPECTED = {"picture": "image/png", "html": "text/html", "latex": "text/latex",
            "widget": "application/vnd.jupyter.widget-view+json"}


@pytest.fixture(scope="session")
def executed(tmp_path_factory):
    """``name -> executed notebook``, each run once, in a scratch directory."""
    done = {}

    def run(name):
        if name not in done:
            notebook = nbformat.read(EXAMPLES / name, as_version=4)
            where = tmp_path_factory.mktemp(name.replace(".", "_"))
            client = nbclient.NotebookClient(notebook, kernel_name="python3", timeout=600,
                                             resources={"metadata": {"path": str(where)}})
            client.execute()
            done[name] = notebook
        return done[name]

    return run


def test_there_are_notebooks():
    assert "learning_path.ipynb" in NOTEBOOKS


def test_notebooks_are_stored_without_outputs():
    for name in NOTEBOOKS:
        notebook = nbformat.read(EXAMPLES / name, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, name


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_and_shows_its_results(executed, name):
    notebook = executed(name)
    tagged = 0
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            assert output.output_type != "error", f"{name} cell {number}: {output.get('evalue')}"
            if output.output_type == "stream":
                assert output.name == "stdout", f"{name} cell {number} wrote to stderr: {output.text}"
        data = {}
        for output in cell.outputs:
            data.update(output.get("data", {}))
        for tag in cell.metadata.get("tags", []):
            if tag in EXPECTED:
                tagged += 1
                assert EXPECTED[tag] in data, f"{name} cell {number} shows no {EXPECTED[tag]}"
        if "image/png" in data:
            png = base64.b64decode(data["image/png"])
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000, f"{name} cell {number}"
    assert tagged >= 1
