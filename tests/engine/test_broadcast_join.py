"""A join whose one side is small by the planner's estimate (rows and bytes: a small table, or a large one
after filters) is a broadcast join in the partitioned mode: the small side is made one partition and joined
to each partition of the big side, so neither is shuffled; semi and anti joins whose first input is small
look up only the big side's keys the small side has. A side over the limits, or whose size nothing tells,
is shuffled. Rows are pandas' in every join type and both modes."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from aqtra_nb import Flow
from aqtra_nb.components.base import dask_settings
from aqtra_nb.engine.partitioned import build_frames
from aqtra_nb.errors import StepFailed

rng = np.random.default_rng(13)
BIG = pd.DataFrame(  # three partitions of a pandas frame given to a partitioned run
    {
        "line": np.arange(600_000),
        "order": rng.integers(0, 600, 600_000),
        "amount": rng.random(600_000).round(3),
    }
)
SMALL = pd.DataFrame(
    {
        "order": np.arange(0, 900, 3),  # some big keys have no small row, some small keys no big row
        "priority": [f"p{i % 5}" for i in range(300)],
    }
)


def _frames() -> dict[str, pd.DataFrame]:
    return {"big": BIG, "small": SMALL}


def _shuffles(plan) -> bool:
    with dask_settings():
        frames, _ = build_frames(plan)
        expression = frames["joined"].optimize().expr
    return any("Shuffle" in type(node).__name__ for node in expression.walk())


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
    assert plan.steps["joined"].broadcast == (0 if first == "small" else 1)
    side = "first" if first == "small" else "second"
    assert f"partitioned runs broadcast the {side} input" in plan.explain()
    assert not _shuffles(plan)


def test_the_side_kept_whole_by_the_join_type_is_not_broadcast(monkeypatch):
    monkeypatch.setattr("aqtra_nb.engine.plan.BROADCAST_ROWS", 1000)  # the big side is over it
    plan = _flow("small", "big", "left").plan(frames=_frames())  # each big partition would keep it again
    assert plan.steps["joined"].broadcast is None
    assert "partitioned runs shuffle both" in plan.explain()


def test_a_side_over_the_limits_is_not_broadcast(monkeypatch):
    plan_sizes = _flow("big", "small", "inner").plan(frames=_frames()).steps["joined"].sizes
    assert plan_sizes is not None and plan_sizes[0] is not None and plan_sizes[1] is not None
    small_bytes = plan_sizes[1][1]
    monkeypatch.setattr("aqtra_nb.engine.plan.broadcast_limit", lambda: int(small_bytes) - 1)
    plan = _flow("big", "small", "inner").plan(frames=_frames())
    assert plan.steps["joined"].broadcast is None


def test_the_smaller_estimate_is_broadcast_and_the_row_limit_holds(monkeypatch):
    plan = _flow("big", "big", "inner").plan(frames={"big": BIG})
    assert plan.steps["joined"].broadcast == 1  # 600k rows of 24 bytes: under both limits
    monkeypatch.setattr("aqtra_nb.engine.plan.BROADCAST_ROWS", len(BIG) - 1)
    plan = _flow("big", "big", "inner").plan(frames={"big": BIG})
    assert plan.steps["joined"].broadcast is None
    assert _shuffles(plan)


def test_sides_whose_size_nothing_tells_are_shuffled():
    frames = {
        "big": dd.from_pandas(BIG, npartitions=8, sort=False),
        "small": dd.from_pandas(SMALL, npartitions=3, sort=False),
    }
    plan = _flow("big", "small", "inner").plan(frames=frames)
    assert plan.steps["joined"].broadcast is None
    assert "~? rows" in plan.explain()
    assert _shuffles(plan)
    result = _flow("big", "small", "inner").run(
        progress=False, record=False, mode="partitioned", frames=frames
    )
    pd.testing.assert_frame_equal(
        _sorted(result["joined"]), _sorted(_expected("big", "small", "inner")), check_dtype=False
    )


def test_broadcast_false_shuffles_both_inputs():
    f = Flow("broadcast")
    left, right = f.from_frame("big", name="big"), f.from_frame("small", name="small")
    f.join("joined", left, right, on="order", broadcast=False)
    plan = f.plan(frames=_frames())
    assert plan.steps["joined"].broadcast is None
    assert "partitioned runs shuffle both" in plan.explain()
    result = f.run(progress=False, record=False, mode="partitioned", frames=_frames())
    pd.testing.assert_frame_equal(
        _sorted(result["joined"]), _sorted(_expected("big", "small", "inner")), check_dtype=False
    )


def test_a_side_far_larger_than_estimated_fails_clearly_instead_of_filling_memory(monkeypatch):
    monkeypatch.setattr("aqtra_nb.engine.plan.BROADCAST_MARGIN", 1e-9)  # as if the estimate were far off
    flow = _flow("big", "small", "inner")
    assert flow.plan(frames=_frames()).steps["joined"].broadcast == 1
    with pytest.raises(StepFailed, match="broadcast: false") as failed:
        flow.run(progress=False, record=False, mode="partitioned", frames=_frames(), cache=False)
    assert failed.value.step == "joined"
    assert "second input is" in str(failed.value)


def test_a_step_that_cannot_be_estimated_only_makes_its_joins_shuffle(monkeypatch):
    def unreadable(step):
        raise OSError("footer unreadable")

    monkeypatch.setattr("aqtra_nb.engine.estimates._read", unreadable)
    plan = _flow("big", "small", "inner").plan(frames=_frames())
    assert plan.steps["joined"].broadcast is None
    assert "first input ~? rows, second input ~? rows" in plan.explain()


def _lookup(**params) -> Flow:
    f = Flow("broadcast")
    main, ref = f.from_frame("big", name="big"), f.from_frame("small", name="small")
    f.lookup("joined", main, ref, on="order", columns={"priority": "level"}, **params)
    return f


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
def test_a_lookup_reference_small_by_estimate_is_broadcast(mode):
    # three partitions of repeated keys (the first row of a key is the one looked up)
    reference = BIG[["order"]].assign(priority=[f"p{i % 7}" for i in range(len(BIG))])
    frames = {"big": BIG.iloc[:5000], "small": reference}
    plan = _lookup().plan(frames=frames)
    assert plan.steps["joined"].broadcast == 1
    assert "partitioned runs broadcast the second input" in plan.explain()
    assert not _shuffles(plan)
    got = _lookup().run(progress=False, record=False, mode=mode, frames=frames)["joined"]
    first = reference.drop_duplicates("order").rename(columns={"priority": "level"})
    want = BIG.iloc[:5000].merge(first, on="order", how="left")
    pd.testing.assert_frame_equal(_sorted(got), _sorted(want), check_dtype=False)
    assert _lookup(broadcast=False).plan(frames=frames).steps["joined"].broadcast is None
