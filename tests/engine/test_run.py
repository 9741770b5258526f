"""Running: one Dask graph, one event stream, step failures that name the step, outputs kept intact."""

import threading

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from aqtra_nb import Flow, StepFailed
from aqtra_nb.engine import EventStream, plan_flow, run_plan


def explode_on_negative(df):
    if (df["x"] < 0).any():
        raise ValueError("negative x")
    return df


@pytest.fixture
def frame():
    return pd.DataFrame({"g": list("abcab") * 20, "x": range(100)})


def test_events_and_result_come_from_one_stream(frame):
    f = Flow("ev")
    with dask.config.set({"dataframe.convert-string": False}):
        src = f.from_frame("src", dd.from_pandas(frame, npartitions=4))
    src.filter("odd", condition="x % 2 == 1").aggregate("agg", by=["g"], aggregations={"n": "count()"})
    seen = []
    plan = plan_flow(f.spec, objects=f.objects)
    result = run_plan(plan, events=EventStream([seen.append]))
    kinds = [e.kind for e in seen]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    finished = {e.step: e for e in seen if e.kind == "step_finished"}
    assert set(finished) == {"src", "odd", "agg"}
    assert finished["src"].rows == 100 and finished["odd"].rows == 50 and finished["agg"].rows == 3
    assert all(e.seconds >= 0 for e in finished.values())
    assert result.steps["odd"].rows == 50 and result.status == "succeeded"
    assert result.to_dict()["steps"]["agg"]["rows"] == 3
    assert "<table>" in result._repr_html_()
    pdt.assert_frame_equal(
        result["agg"].sort_values("g").reset_index(drop=True),
        frame[frame.x % 2 == 1].groupby("g").size().rename("n").reset_index(),
    )


def test_failing_step_names_step_and_component_and_keeps_earlier_outputs(frame, tmp_path):
    out = tmp_path / "out.csv"
    good = Flow("ok")
    good.from_frame("src", frame).write_csv("save", path=str(out))
    good.run(progress=False)
    before = out.read_bytes()

    bad = Flow("bad")
    src = bad.from_frame("src", frame.assign(x=frame.x - 50))
    checked = src.script("check", function=explode_on_negative)
    checked.write_csv("save", path=str(out))
    events = []
    with pytest.raises(StepFailed) as info:
        run_plan(plan_flow(bad.spec, objects=bad.objects), events=EventStream([events.append]))
    error = info.value
    assert error.step == "check" and error.component == "script"
    assert "step 'check'" in str(error) and "negative x" in str(error)
    assert isinstance(error.__cause__, ValueError)
    assert [e.kind for e in events][-2:] == ["step_failed", "run_failed"]
    assert out.read_bytes() == before  # the earlier output is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary files left


class CountingPartitions:
    """Makes partition i and remembers which partitions were made."""

    def __init__(self):
        self.calls, self.lock = [], threading.Lock()

    def __dask_tokenize__(self):
        return ("counting", id(self))

    def __call__(self, i):
        with self.lock:
            self.calls.append(i)
        return pd.DataFrame({"i": [i] * 1000, "v": range(1000)})


def test_preview_reads_only_the_partitions_it_needs():
    part = CountingPartitions()
    calls = part.calls
    big = dd.from_map(
        part,
        list(range(50)),
        meta=pd.DataFrame({"i": pd.Series([], dtype="int64"), "v": pd.Series([], dtype="int64")}),
    )
    f = Flow("p")
    f.from_frame("src", big).derive("d", columns={"w": "v * 2"})
    head = f.preview("d", rows=10)
    assert len(head) == 10 and list(head.columns) == ["i", "v", "w"]
    assert (head.w == head.v * 2).all()
    assert len(set(calls)) <= 2


def test_unknown_output_is_an_error(frame):
    f = Flow("o")
    f.from_frame("src", frame)
    with pytest.raises(Exception, match="no step 'nope' to collect"):
        f.run(outputs=["nope"], progress=False)


def test_intermediate_steps_can_be_read_from_the_result(frame):
    f = Flow("i")
    f.from_frame("src", frame).filter("small", condition="x < 10").limit("first", rows=3)
    result = f.run(progress=False)
    assert len(result["small"]) == 10  # computed on demand
    assert list(result["first"].x) == [0, 1, 2]


@pytest.mark.slow
def test_runs_on_a_real_local_cluster(frame, tmp_path):
    distributed = pytest.importorskip("distributed")
    f = Flow("cluster", parameters={"limit": 40})
    src = f.from_frame("src", frame)
    src.filter("small", condition="x < @limit").aggregate("agg", by=["g"], aggregations={"s": "sum(x)"})
    local = f.run(progress=False)["agg"].sort_values("g").reset_index(drop=True)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as c:
        remote = f.run(scheduler=c.scheduler_address, progress=False)
    assert remote.status == "succeeded"
    assert remote.steps["small"].rows == 40
    pdt.assert_frame_equal(remote["agg"].sort_values("g").reset_index(drop=True), local)


@pytest.mark.slow
def test_unreachable_scheduler_is_a_clear_error(frame):
    f = Flow("x")
    f.from_frame("src", frame)
    with pytest.raises(Exception, match="cannot connect to the Dask scheduler at tcp://127.0.0.1:1"):
        f.run(scheduler="tcp://127.0.0.1:1", progress=False)


def test_collected_steps_are_not_pruned_by_their_consumers(tmp_path):
    frame = pd.DataFrame({"region": ["N", "S", "N", "E"] * 25, "amount": range(100), "note": ["x"] * 100})
    frame.to_parquet(tmp_path / "o.parquet")
    f = Flow("c")
    orders = f.read_parquet("orders", path=str(tmp_path / "o.parquet"))
    orders.filter("north", condition="region == 'N'").select("amounts", columns=["amount"])
    result = f.run(progress=False, outputs=["orders", "amounts"])
    assert len(result["orders"]) == 100 and list(result["orders"].columns) == ["region", "amount", "note"]
    assert len(result["amounts"]) == 50
    on_demand = f.run(progress=False)
    assert len(on_demand["orders"]) == 100 and len(on_demand["north"].columns) == 3
    assert len(f.preview("orders", rows=1000)) == 100


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
def test_both_modes_give_the_same_result_and_events(mode, tmp_path):
    """Many partitions through aggregate → lookup → sort (Dask may shuffle), and the same in memory."""
    rng = np.random.default_rng(0)
    orders = pd.DataFrame(
        {
            "region": rng.choice(["N", "S", "E", "W"], 200_000),
            "customer": rng.integers(0, 500, 200_000),
            "amount": rng.random(200_000) * 100,
        }
    )
    regions = pd.DataFrame({"region": ["N", "S", "E", "W"], "manager": ["a", "b", "c", "d"]})
    frames = {"orders": dd.from_pandas(orders, npartitions=64) if mode == "partitioned" else orders}
    f = Flow("modes")
    o = f.from_frame("o", name="orders")
    r = f.from_frame("r", regions)
    totals = o.filter("big", condition="amount > 10").aggregate(
        "totals",
        by=["region"],
        aggregations={
            "revenue": "sum(amount)",
            "n": "count()",
            "customers": "count_distinct(customer)",
            "mid": "median(amount)",
        },
    )
    totals.lookup("named", r, on="region", columns=["manager"]).sort("report", by="revenue", descending=True)
    result = f.run(frames=frames, mode=mode, progress=False, record=False)
    big = orders[orders.amount > 10]
    expected = (
        big.groupby("region")
        .agg(
            revenue=("amount", "sum"),
            n=("amount", "size"),
            customers=("customer", "nunique"),
            mid=("amount", "median"),
        )
        .reset_index()
        .merge(regions, on="region")
        .sort_values("revenue", ascending=False)
    )
    pdt.assert_frame_equal(result["report"], expected.reset_index(drop=True), check_dtype=False)
    assert result.steps["big"].rows == len(big) and result.steps["report"].rows == 4
    assert all(s.status == "succeeded" and s.seconds is not None for s in result.steps.values())


@pytest.mark.parametrize("mode", ["in_memory", "partitioned"])
def test_errors_while_running_are_step_failures_in_both_modes(mode, tmp_path):
    """An AqtraError a component raises at run time (here: its file went away after planning) is a
    StepFailed naming step, component and field, so the CLI exits 1 for it, not 2 as for a bad flow."""
    path = tmp_path / "orders.csv"
    path.write_text("region,amount\nN,1\nS,2\n")
    f = Flow("gone")
    f.read_csv("orders", path=str(path)).filter("big", condition="amount > 1")
    plan = plan_flow(f.spec)
    path.unlink()
    events = []
    with pytest.raises(StepFailed) as info:
        run_plan(plan, mode=mode, events=EventStream([events.append]))
    error = info.value
    assert (error.step, error.component, error.field) == ("orders", "read_csv", "path")
    assert "read_csv failed: CSV file not found" in str(error) and "backend" not in str(error)
    assert type(error.__cause__).__name__ == "AqtraError"
    assert [e.kind for e in events][-2:] == ["step_failed", "run_failed"]


def test_collecting_a_pruned_step_keeps_the_plan_and_reads_once(tmp_path, monkeypatch):
    """Asking for a step's whole output re-does only the pushdown: a reader that loads its data while
    planning (JSON) loads it once, and the collected step keeps all its columns."""
    from aqtra_nb.components.inputs import ReadJson

    loads = []
    original = ReadJson._load
    monkeypatch.setattr(ReadJson, "_load", lambda self, path: loads.append(path) or original(self, path))
    pd.DataFrame({"region": ["N", "S", "N"], "amount": [1, 2, 3], "note": list("abc")}).to_json(
        tmp_path / "o.json", orient="records"
    )
    f = Flow("j")
    f.read_json("orders", path=str(tmp_path / "o.json")).select("amounts", columns=["amount"])
    plan = f.plan()
    assert plan.steps["orders"].needed == {"amount"} and len(loads) == 1
    collecting = plan.collecting(["orders"])
    assert collecting.steps["orders"].needed is None and plan.steps["orders"].needed == {"amount"}
    assert collecting.steps["orders"].schema is plan.steps["orders"].schema
    result = run_plan(collecting, outputs=["orders", "amounts"])
    assert list(result["orders"].columns) == ["region", "amount", "note"]
    assert list(result["amounts"].amount) == [1, 2, 3]
    assert len(loads) == 1
