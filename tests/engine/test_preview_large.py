"""A preview of a file too large to read whole for a glance (more than `run.PREVIEW_WHOLE_BYTES`, though a
run of it would be in memory) reads only the first partitions it needs, and shows the rows the whole
computation would start with; a forced in-memory preview, and small inputs, still read everything once."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aqtra_nb import Flow
from aqtra_nb.components import inputs
from aqtra_nb.engine import run

ROWS, GROUP = 8000, 1000


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "big.parquet"
    rng = np.random.default_rng(4)
    table = pa.table({"id": np.arange(ROWS), "amount": rng.random(ROWS).round(4)})
    pq.write_table(table, path, row_group_size=GROUP)
    return path


@pytest.fixture
def rows_read(monkeypatch):
    """Rows the Parquet reader takes from the file, whichever way it reads; partitions of one row group."""
    counted: list[int] = []
    original = inputs._filtered_table

    def counting(*args, **kwargs):
        table = original(*args, **kwargs)
        counted.append(table.num_rows)
        return table

    monkeypatch.setattr(inputs, "_filtered_table", counting)
    monkeypatch.setattr(inputs, "ROWS_PER_PARTITION", GROUP)
    return counted


def _flow(data) -> Flow:
    f = Flow("preview")
    valued = f.read_parquet("rows", path=str(data)).derive("valued", columns={"double": "amount * 2"})
    valued.filter("kept", condition="double > 0.4")  # not pushed into the reader: rows read are all rows
    return f


def test_a_large_input_is_previewed_from_its_first_partitions(data, rows_read, monkeypatch):
    monkeypatch.setattr(run, "PREVIEW_WHOLE_BYTES", 1)
    f = _flow(data)
    head = f.preview("kept", rows=50)
    assert rows_read == [GROUP]  # one row group gives the 50 rows
    whole = f.run(progress=False, record=False, mode="in_memory")["kept"]
    assert head.equals(whole.head(50).reset_index(drop=True))


def test_a_forced_in_memory_preview_reads_everything(data, rows_read, monkeypatch):
    monkeypatch.setattr(run, "PREVIEW_WHOLE_BYTES", 1)
    head = run.preview_plan(_flow(data).plan(), "kept", 50, mode="in_memory")
    assert len(head) == 50
    assert rows_read == [ROWS]


def test_a_small_input_is_read_whole_once(data, rows_read):
    head = _flow(data).preview("kept", rows=50)
    assert len(head) == 50
    assert rows_read == [ROWS]
