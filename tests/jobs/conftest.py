"""Job tests' fixtures: tiny notebooks written in the test's own folder, and a store of its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from aqtra_nb.store import Store


def write_notebook(path: Path, parameters: str | None, *cells: str, kernel: str = "python3") -> Path:
    """A notebook whose first cell (if given) is tagged `parameters`."""
    code = [nbformat.v4.new_code_cell(source) for source in cells]
    if parameters is not None:
        code.insert(0, nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb = nbformat.v4.new_notebook(cells=code)
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebook(tmp_path: Path) -> Callable[..., Path]:
    """`notebook(name, parameters_source, *cell_sources)` -> the path of a new notebook in tmp_path."""

    def make(name: str, parameters: str | None, *cells: str, kernel: str = "python3") -> Path:
        return write_notebook(tmp_path / name, parameters, *cells, kernel=kernel)

    return make


@pytest.fixture
def store(tmp_path: Path):
    """A SQLite store in the test's folder."""
    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    yield store
    store.close()
