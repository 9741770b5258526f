"""A local partitioned run whose inputs fit in a quarter of memory shuffles in memory (Dask's task
shuffle) instead of through files on disk; larger inputs and a method the user configured are left to
Dask; the rows of a join that shuffles both sides are pandas' either way."""

from __future__ import annotations

import dask
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aqtra_nb import Flow
from aqtra_nb.components import inputs
from aqtra_nb.engine import partitioned, run

ROWS = 6000


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "ROWS_PER_PARTITION", 1000)  # six partitions a side: both are shuffled
    rng = np.random.default_rng(5)
    for name in ("left", "right"):
        table = pa.table({"key": rng.integers(0, 2000, ROWS), f"{name}_value": rng.random(ROWS)})
        pq.write_table(table, tmp_path / f"{name}.parquet", row_group_size=1000)
    return tmp_path


@pytest.fixture
def seen(monkeypatch):
    """The shuffle method Dask is configured with while the partitioned run computes."""
    methods: list[str | None] = []
    original = partitioned.run_partitioned

    def spying(*args, **kwargs):
        methods.append(dask.config.get("dataframe.shuffle.method", None))
        return original(*args, **kwargs)

    monkeypatch.setattr(partitioned, "run_partitioned", spying)
    return methods


def _joined(data):
    f = Flow("shuffled")
    left = f.read_parquet("left", path=str(data / "left.parquet"))
    right = f.read_parquet("right", path=str(data / "right.parquet"))
    f.join("joined", left, right, on="key")
    return f.run(progress=False, record=False, mode="partitioned")["joined"]


def _expected(data) -> pd.DataFrame:
    left, right = pd.read_parquet(data / "left.parquet"), pd.read_parquet(data / "right.parquet")
    return left.merge(right, on="key")


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), ignore_index=True)


def test_small_inputs_shuffle_in_memory(data, seen):
    got = _joined(data)
    assert seen == ["tasks"]
    pd.testing.assert_frame_equal(_sorted(got), _sorted(_expected(data)), check_dtype=False)


def test_inputs_larger_than_a_quarter_of_memory_are_left_to_dask(data, seen, monkeypatch):
    monkeypatch.setattr(run, "_memory", lambda: 4)
    got = _joined(data)
    assert seen == [None]
    pd.testing.assert_frame_equal(_sorted(got), _sorted(_expected(data)), check_dtype=False)


def test_a_configured_method_is_kept(data, seen):
    with dask.config.set({"dataframe.shuffle.method": "disk"}):
        _joined(data)
    assert seen == ["disk"]
