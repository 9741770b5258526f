"""Runtime key filters: an inner join whose only consumer joins its output with a small input on a key
from one of its own inputs gets that input cut to the keys the small one has, before it joins. The
consumer's result is the same (pandas' rows in memory, the same rows partitioned); the filtered step
reports fewer rows; a step the caller asks for, a second consumer, keys of different dtypes or a small
side that is not small leave the plan as it was; the step cache files the filtered output apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from step_cache_helpers import cached, cold

from aqtra_nb import Flow

rng = np.random.default_rng(21)
OFFERS = pd.DataFrame(  # a large input: part offers by suppliers
    {"part": rng.integers(0, 20_000, 300_000), "supplier": rng.integers(0, 2_000, 300_000)}
).assign(cost=lambda f: (f.part % 97) + f.supplier / 1000)
SUPPLIERS = pd.DataFrame({"supplier_id": np.arange(0, 2_000, 2), "name": [f"s{i}" for i in range(1_000)]})
PARTS = pd.DataFrame({"part": np.arange(0, 20_000, 97), "label": [f"p{i}" for i in range(207)]})


def _flow(*, parts: pd.DataFrame = PARTS, extra_consumer: bool = False) -> Flow:
    f = Flow("offers")
    f.objects.update(offers=OFFERS, suppliers=SUPPLIERS, parts=parts)
    offers, suppliers = f.from_frame("offers", name="offers"), f.from_frame("suppliers", name="suppliers")
    parts_step = f.from_frame("parts", name="parts")
    supplied = f.join("supplied", offers, suppliers, left_on="supplier", right_on="supplier_id")
    f.join("picked", parts_step, supplied, on="part")
    if extra_consumer:
        supplied.aggregate("per_supplier", by=["name"], aggregations={"n": "count()"})
    return f


def _expected(parts: pd.DataFrame = PARTS) -> pd.DataFrame:
    supplied = OFFERS.merge(SUPPLIERS, left_on="supplier", right_on="supplier_id")
    return parts.merge(supplied, on="part")


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns), ignore_index=True)


def test_the_plan_shows_the_filter_and_runs_the_filtered_step_after_its_source():
    plan = _flow().plan()
    assert plan.steps["supplied"].key_filter is not None
    assert "runtime filter: rows of input 1 kept only where part is among parts's part" in plan.explain()
    assert plan.order.index("parts") < plan.order.index("supplied") < plan.order.index("picked")


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
def test_the_consumer_gets_the_same_rows_and_the_filtered_step_fewer(mode):
    result = _flow().run(progress=False, record=False, mode=mode, outputs=["picked"])
    expected = _expected()
    got = result["picked"]
    if mode == "in_memory":
        pd.testing.assert_frame_equal(got, expected)
    else:
        pd.testing.assert_frame_equal(_sorted(got), _sorted(expected))
    supplied_rows = len(OFFERS.merge(SUPPLIERS, left_on="supplier", right_on="supplier_id"))
    assert result.steps["supplied"].rows < supplied_rows / 20
    assert result.steps["picked"].rows == len(expected)


def test_a_step_asked_for_keeps_all_its_rows():
    result = _flow().run(progress=False, record=False, mode="in_memory", outputs=["supplied", "picked"])
    full = OFFERS.merge(SUPPLIERS, left_on="supplier", right_on="supplier_id")
    pd.testing.assert_frame_equal(result["supplied"], full)
    pd.testing.assert_frame_equal(_flow().preview("supplied", rows=7), full.head(7))
    later = _flow().run(progress=False, record=False, mode="in_memory", outputs=["picked"])
    pd.testing.assert_frame_equal(later["supplied"], full)  # asked of the result afterwards: computed whole
    pd.testing.assert_frame_equal(result["picked"], _expected())
    assert _flow().plan().collecting(["supplied"]).steps["supplied"].key_filter is None


@pytest.mark.parametrize(
    "flow",
    [
        pytest.param(lambda: _flow(extra_consumer=True), id="a second consumer"),
        pytest.param(lambda: _flow(parts=PARTS.astype({"part": np.int32})), id="keys of another dtype"),
        pytest.param(
            lambda: _flow(parts=pd.DataFrame({"part": np.arange(150_000), "label": "x"})), id="not small"
        ),
    ],
)
def test_no_filter_where_it_could_change_a_result_or_would_not_pay(flow):
    plan = flow().plan()
    assert plan.steps["supplied"].key_filter is None
    assert "runtime filter" not in plan.explain()


def test_the_step_cache_files_the_filtered_output_apart(cache):
    first = _flow().run(progress=False, record=False, mode="in_memory", outputs=["picked"])
    cold(cache)
    asked = _flow().run(progress=False, record=False, mode="in_memory", outputs=["supplied", "picked"])
    assert not cached(asked)["supplied"]  # not the filtered rows saved by the first run
    pd.testing.assert_frame_equal(
        asked["supplied"], OFFERS.merge(SUPPLIERS, left_on="supplier", right_on="supplier_id")
    )
    cold(cache)
    again = _flow().run(progress=False, record=False, mode="in_memory", outputs=["picked"])
    assert cached(again)["picked"]
    pd.testing.assert_frame_equal(again["picked"], first["picked"])
