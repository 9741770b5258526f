"""A join whose one side has few partitions (a small table, or a large one after filters) and whose other
side has more is a broadcast join in the partitioned mode: the small side is made one partition and joined
to each partition of the big side, so neither is shuffled; semi and anti joins whose first input is small
look up only the big side's keys the small side has. Rows are pandas' in every join type and both modes."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from aqtra_nb import Flow
from aqtra_nb.components.base import dask_settings
from aqtra_nb.engine.partitioned import build_frames

rng = np.random.default_rng(13)
BIG = pd.DataFrame(
    {
        "line": np.arange(4000),
        "order": rng.integers(0, 600, 4000),
        "amount": rng.random(4000).round(3),
    }
)
SMALL = pd.DataFrame(
    {
        "order": np.arange(0, 900, 3),  # some big keys have no small row, some small keys no big row
        "priority": [f"p{i % 5}" for i in range(300)],
    }
)


def _frames() -> dict[str, dd.DataFrame]:
    return {
        "big": dd.from_pandas(BIG, npartitions=8, sort=False),
        "small": dd.from_pandas(SMALL, npartitions=3, sort=False),
    }


def _flow(first: str, second: str, how: str) -> Flow:
    f = Flow("broadcast")
    left, right = f.from_frame(first, name=first), f.from_frame(second, name=second)
    f.join("joined", left, right, on="order", how=how)
    return f


def _expected(first: str, second: str, how: str) -> pd.DataFrame:
    left, right = {"big": BIG, "small": SMALL}[first], {"big": BIG, "small": SMALL}[second]
    if how in ("semi", "anti"):
        found = left["order"].isin(right["order"])
        return left[found if how == "semi" else ~found]
    return left.merge(right, on="order", how=how)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), ignore_index=True)


CASES = [
    ("big", "small", "inner"),
    ("big", "small", "left"),
    ("small", "big", "inner"),
    ("small", "big", "right"),
    ("small", "big", "semi"),
    ("small", "big", "anti"),
    ("big", "small", "semi"),
    ("big", "small", "anti"),
]


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
@pytest.mark.parametrize(("first", "second", "how"), [*CASES, ("big", "small", "outer")])
def test_joins_give_pandas_rows(first, second, how, mode):
    result = _flow(first, second, how).run(progress=False, record=False, mode=mode, frames=_frames())
    got = result["joined"]
    want = _expected(first, second, how)
    pd.testing.assert_frame_equal(_sorted(got), _sorted(want), check_dtype=False)


@pytest.mark.parametrize(("first", "second", "how"), CASES)
def test_a_small_side_is_joined_without_a_shuffle(first, second, how):
    plan = _flow(first, second, how).plan(frames=_frames())
    with dask_settings():
        frames, _ = build_frames(plan)
        expression = frames["joined"].optimize().expr
    kinds = {type(node).__name__ for node in expression.walk()}
    assert not {kind for kind in kinds if "Shuffle" in kind}


def test_two_big_sides_are_still_shuffled():
    plan = _flow("big", "big", "inner").plan(frames={"big": _frames()["big"]})
    with dask_settings():
        frames, _ = build_frames(plan)
        expression = frames["joined"].optimize().expr
    assert any("Shuffle" in type(node).__name__ for node in expression.walk())
