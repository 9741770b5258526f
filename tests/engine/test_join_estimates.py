"""The planner estimates each step's rows from what it knows before reading (Parquet row counts and
row-group statistics, textbook selectivities elsewhere) and broadcasts a join's side when its estimated
bytes are small: the choice follows the estimate (`PlannedStep.broadcast`, `plan.explain()`), a side
estimated over the limit is shuffled, and the rows are pandas' either way."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aqtra_nb import Flow
from aqtra_nb.engine import estimates

ROWS = 200_000
START = dt.date(1992, 1, 1)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("estimates")
    rng = np.random.default_rng(7)
    days = np.sort(rng.integers(0, 2000, ROWS))  # sorted: row groups hold day ranges
    facts = pa.table(
        {
            "key": pa.array(rng.integers(0, 5000, ROWS), pa.int64()),
            "day": pa.array([START + dt.timedelta(days=int(d)) for d in days], pa.date32()),
            "spread": pa.array(rng.integers(0, 1000, ROWS), pa.int64()),  # unsorted: every row group 0..999
            "amount": pa.array(rng.random(ROWS).round(2)),
        }
    )
    pq.write_table(facts, folder / "facts.parquet", row_group_size=10_000)
    dims = pa.table(
        {
            "key": pa.array(np.arange(5000), pa.int64()),
            "segment": pa.array([f"s{k % 5}" for k in range(5000)], pa.string()),
        }
    )
    pq.write_table(dims, folder / "dims.parquet")
    return folder


def _flow(data, condition: str) -> Flow:
    f = Flow("estimates")
    facts = f.read_parquet("facts", path=str(data / "facts.parquet"))
    kept = f.filter("kept", facts, condition=condition)
    dims = f.read_parquet("dims", path=str(data / "dims.parquet"))
    f.join("joined", dims, kept, on="key", how="left")  # only the second input may be broadcast
    return f


def _rows(plan, step: str) -> float:
    found = estimates.estimate(plan.steps, plan.order)[step]
    assert found is not None
    return found.rows


def _facts(data) -> pd.DataFrame:
    frame = pd.read_parquet(data / "facts.parquet")
    return frame.assign(day=pd.to_datetime(frame["day"]))


def _truth(data, condition) -> int:
    frame = _facts(data)
    return int(condition(frame).sum())


@pytest.mark.parametrize(
    ("condition", "truth"),
    [
        ("day < date('1992-07-01')", lambda f: f["day"] < pd.Timestamp("1992-07-01")),  # sorted: pruned
        ("day >= date('1996-01-01')", lambda f: f["day"] >= pd.Timestamp("1996-01-01")),
        ("spread < 100", lambda f: f["spread"] < 100),  # unsorted: from each row group's min and max
        (
            "spread >= 100 and day < date('1993-01-01')",
            lambda f: (f["spread"] >= 100) & (f["day"] < pd.Timestamp("1993-01-01")),
        ),
    ],
)
def test_filters_after_parquet_readers_are_estimated_from_statistics(data, condition, truth):
    plan = _flow(data, condition).plan()
    want = _truth(data, truth)
    assert want / 1.5 <= _rows(plan, "kept") <= want * 1.5


def test_a_condition_without_statistics_takes_a_textbook_share(data):
    plan = _flow(data, "amount * 2 > 1").plan()  # not a column against a value
    assert _rows(plan, "kept") == pytest.approx(ROWS * estimates.RANGE)


def test_the_broadcast_follows_the_estimate(data, monkeypatch):
    few, most = "day < date('1992-03-01')", "day >= date('1992-03-01')"
    sizes = {c: _flow(data, c).plan().steps["joined"].sizes for c in (few, most)}
    few_bytes, most_bytes = sizes[few][1][1], sizes[most][1][1]  # type: ignore[index]
    assert few_bytes * 5 < most_bytes
    # a limit between the two estimates: the filtered side is broadcast only when it keeps few rows
    monkeypatch.setattr("aqtra_nb.engine.plan.broadcast_limit", lambda: int(few_bytes * 2))
    few_plan, most_plan = _flow(data, few).plan(), _flow(data, most).plan()
    assert few_plan.steps["joined"].broadcast == 1
    assert "partitioned runs broadcast the second input" in few_plan.explain()
    assert most_plan.steps["joined"].broadcast is None
    assert "partitioned runs shuffle both" in most_plan.explain()
    facts, dims = _facts(data), pd.read_parquet(data / "dims.parquet")
    for condition, bound in ((few, facts["day"] < pd.Timestamp("1992-03-01")), (most, None)):
        kept = facts[bound] if bound is not None else facts[facts["day"] >= pd.Timestamp("1992-03-01")]
        want = dims.merge(kept, on="key", how="left")
        got = _flow(data, condition).run(progress=False, record=False, mode="partitioned")["joined"]
        order = ["key", "day", "spread", "amount"]
        pd.testing.assert_frame_equal(
            got.sort_values(order, ignore_index=True)[list(want.columns)],
            want.sort_values(order, ignore_index=True),
            check_dtype=False,
        )


def test_footers_are_read_again_when_a_file_changes(tmp_path):
    path = tmp_path / "facts.parquet"
    for rows in (1000, 3000):
        pq.write_table(pa.table({"key": pa.array(range(rows), pa.int64())}), path)
        f = Flow("estimates")
        f.read_parquet("facts", path=str(path))
        plan = f.plan()
        assert _rows(plan, "facts") == rows
