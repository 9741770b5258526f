"""The step cache in partitioned runs: intermediate steps worth it are written from the run's own graph
(one checked Parquet part per partition), unchanged ones load from there, changed ones recompute from
their nearest cached ancestors; results equal uncached runs; a corrupted part is recomputed, never
served."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from step_cache_helpers import cached, cold

from aqtra_nb import Flow
from aqtra_nb.engine.cache import StepCache


def report(path: Path) -> Flow:
    """orders (read, several partitions) -> by_region (group-by) -> top (filter on @min_revenue, the last step)."""
    f = Flow("partitioned_report", parameters={"min_revenue": 0.0})
    size = path.stat().st_size
    orders = f.read_csv("orders", path=str(path), blocksize=str(size // 3 + 1))
    by_region = orders.aggregate(
        "by_region", by=["region", "status"], aggregations={"revenue": "sum(amount)", "n": "count()"}
    )
    by_region.filter("top", condition="revenue >= @min_revenue")
    return f


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["region", "status"]).reset_index(drop=True)


@pytest.mark.parametrize("mode", ["partitioned", "in_memory"])
def test_changing_the_last_step_loads_the_steps_before_it(cache, orders_csv, mode):
    f = report(orders_csv)
    first = f.run(progress=False, record=False, mode=mode)
    assert not any(cached(first).values())
    cold(cache)  # as a new process: only what was written to disk
    if mode == "partitioned":
        written = {e.step: e for e in cache.entries()}
        assert written["orders"].parts is not None and len(written["orders"].parts) >= 2
        assert written["by_region"].parts is not None
    threshold = float(first["top"]["revenue"].median())
    changed = f.run(progress=False, record=False, mode=mode, min_revenue=threshold)
    assert cached(changed) == {"orders": True, "by_region": True, "top": False}
    plain = f.run(progress=False, record=False, mode=mode, min_revenue=threshold, cache=False)
    pd.testing.assert_frame_equal(sorted_frame(changed["top"]), sorted_frame(plain["top"]), check_exact=True)
    assert changed.steps["orders"].rows == plain.steps["orders"].rows == len(pd.read_csv(orders_csv))


def test_a_changed_step_recomputes_from_its_nearest_cached_ancestor(cache, orders_csv):
    f = report(orders_csv)
    f.run(progress=False, record=False, mode="partitioned")
    cold(cache)
    f.spec.steps[1].with_["aggregations"] = {"revenue": "max(amount)", "n": "count()"}
    changed = f.run(progress=False, record=False, mode="partitioned")
    assert cached(changed) == {"orders": True, "by_region": False, "top": False}
    plain = f.run(progress=False, record=False, mode="partitioned", cache=False)
    pd.testing.assert_frame_equal(sorted_frame(changed["top"]), sorted_frame(plain["top"]), check_exact=True)


def test_partition_wise_steps_are_not_written(cache, orders_csv):
    f = Flow("cheap_steps", parameters={"min_amount": 0.0})
    orders = f.read_csv("orders", path=str(orders_csv))
    big = orders.filter("big", condition="amount >= @min_amount").derive("net", columns={"x": "amount * 2"})
    big.aggregate("total", aggregations={"n": "count()"})
    f.run(progress=False, record=False, mode="partitioned")
    cold(cache)
    assert {e.step for e in cache.entries()} == {"orders", "total"}  # the reader and the collected output


def test_a_corrupted_partitioned_entry_is_recomputed_never_served(cache, orders_csv):
    f = report(orders_csv)
    first = f.run(progress=False, record=False, mode="partitioned")
    cold(cache)
    entry = next(e for e in cache.entries() if e.step == "orders")
    part = cache.folder / entry.data / entry.parts[1][0]
    raw = bytearray(part.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    part.write_bytes(bytes(raw))
    f.spec.steps[1].with_["aggregations"] = {"revenue": "sum(amount)", "n": "count()", "m": "max(amount)"}
    result = f.run(progress=False, record=False, mode="partitioned")
    assert cached(result) == {"orders": False, "by_region": False, "top": False}
    assert cache.entry(entry.key) is None or cache.entry(entry.key).data != entry.data  # removed (rewritten)
    pd.testing.assert_frame_equal(
        sorted_frame(result["top"]).drop(columns="m"), sorted_frame(first["top"]), check_exact=True
    )
    # a truncated part (a half-written file) is refused the same way, in an in-memory load too
    cold(cache)
    entry = next(e for e in cache.entries() if e.step == "orders")
    (cache.folder / entry.data / entry.parts[0][0]).write_bytes(raw[:100])
    assert cache.load(entry.key) is None and cache.entry(entry.key) is None
    assert not (cache.folder / entry.data).exists()


def test_a_failed_run_leaves_no_staged_parts(cache, tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("x\n1\n2\n0\n")

    def explode(df):
        if len(df) and (df["x"] == 0).any():
            raise ValueError("zero")
        return df

    f = Flow("fails")
    f.read_csv("numbers", path=str(path)).aggregate("n", by=["x"], aggregations={"c": "count()"}).script(
        "boom", function=explode, pure=True
    )
    with pytest.raises(Exception, match="zero"):
        f.run(progress=False, record=False, mode="partitioned")
    cold(cache)
    assert not list(cache.folder.glob(".parts-*"))


def test_a_step_found_not_worth_writing_is_not_staged_again(cache, orders_csv, monkeypatch):
    cache.min_seconds = 1000.0  # no step is worth writing: each is staged once, then known
    staged = []
    stage = StepCache.stage
    monkeypatch.setattr(StepCache, "stage", lambda self: staged.append(1) or stage(self))
    f = report(orders_csv)
    f.run(progress=False, record=False, mode="partitioned")
    assert len(staged) == 2  # orders and by_region (top is the collected output)
    cold(cache)
    assert not [e for e in cache.entries() if e.parts is not None]
    again = f.run(progress=False, record=False, mode="partitioned", min_revenue=5.0)
    assert len(staged) == 2 and not any(cached(again).values())
    assert again.steps["orders"].rows == len(pd.read_csv(orders_csv))
