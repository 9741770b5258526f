"""`run_cells`: a test's notebook cells executed in its temporary folder (see notebook_cells.py)."""

from __future__ import annotations

import pytest
from notebook_cells import execute_cells


@pytest.fixture
def run_cells(tmp_path):
    def run(cells: list[str], **kwargs) -> list:
        return execute_cells(cells, tmp_path, **kwargs)

    return run
