"""notebooks/explore.ipynb runs top to bottom and writes its PDF."""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]


def test_explore_notebook_runs_and_writes_a_pdf(tmp_path, monkeypatch):
    nb = nbformat.read(ROOT / "notebooks" / "explore.ipynb", as_version=4)
    # write into tmp_path: point ROOT of the notebook at a copy whose notebooks/ folder is temporary
    nb.cells[1].source = nb.cells[1].source.replace(
        'ROOT = Path.cwd().parent if Path.cwd().name == "notebooks" else Path.cwd()', f"ROOT = Path({str(ROOT)!r})")
    nb.cells[-1].source = nb.cells[-1].source.replace('out = ROOT / "notebooks" / "out"',
                                                      f"out = Path({str(tmp_path)!r})")
    # the kernel runs with the interpreter running the tests (the venv), whatever kernelspecs are installed
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.kernel_manager_class = _manager(sys.executable)
    client.execute()
    pdfs = list(tmp_path.glob("*.pdf"))
    assert len(pdfs) == 1 and pdfs[0].name == "audit_2026-11-01_2026-11-07.pdf"
    assert "Page 1 of" in PdfReader(pdfs[0]).pages[0].extract_text()
    charts = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "application/vnd.vegalite.v5+json" in o.get("data", {}) or "text/html" in o.get("data", {})]
    assert len(charts) >= 2


def _manager(python: str):
    """A kernel manager that starts ipykernel with this interpreter, whatever kernelspecs are installed."""
    from jupyter_client.manager import KernelManager

    class Manager(KernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            return [python, "-m", "ipykernel_launcher", "-f", self.connection_file]

    return Manager
