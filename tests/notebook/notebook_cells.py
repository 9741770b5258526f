"""Notebooks made of a few cells, executed on a real kernel (nbclient), and what their saved outputs
show; test modules import these by name (a conftest module's name is not unique across test folders)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

CELL_TIMEOUT = 120


def execute_cells(cells: list[str], cwd: Path, *, voila: bool = False) -> list:
    """Run `cells` in a fresh python3 kernel in `cwd`; returns the executed code cells. A notebook
    client keeps going after an error; Voilà's executor stops there and strips error outputs, as in
    Voilà (it hides tracebacks by default)."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    resources = {"metadata": {"path": str(cwd)}}
    if voila:
        from voila.execute import VoilaExecutor

        VoilaExecutor(nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources=resources).execute(
            nb, resources
        )
        return nb.cells
    NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources=resources, allow_errors=True
    ).execute()
    return nb.cells


def text_of(cell) -> str:
    """What a reader of the saved notebook sees as text: streams, text/plain, error tracebacks."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append("\n".join(output.traceback))
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "\n".join(parts)


def html_of(cell) -> str:
    return "\n".join(o.data["text/html"] for o in cell.outputs if "text/html" in o.get("data", {}))
