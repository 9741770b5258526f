"""The step cache: a run recomputes exactly the steps whose key changed (checked step by step from the run
results), entries are checked before they are served, the folder keeps its size limit, and cached results
equal uncached ones."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from step_cache_helpers import cached, cold

from aqtra_nb import Flow, datasets
from aqtra_nb.components.base import Component, NoParams
from aqtra_nb.components.registry import registry
from aqtra_nb.engine.cache import StepCache
from aqtra_nb.errors import FlowValidationError
from aqtra_nb.spec import load_flow
from aqtra_nb.spec.models import StepCacheSpec

FLOWS_DIR = Path(__file__).resolve().parents[2] / "notebooks" / "flows"
FLOW_NAMES = sorted(p.name.removesuffix(".flow.yaml") for p in FLOWS_DIR.glob("*.flow.yaml"))


def two_branches(path: Path) -> Flow:
    """orders -> big (uses @min_amount) -> by_region; orders -> by_status (independent of it)."""
    f = Flow("branches", parameters={"min_amount": 100.0})
    orders = f.read_csv("orders", path=str(path))
    big = orders.filter("big", condition="amount >= @min_amount")
    big.aggregate("by_region", by=["region"], aggregations={"revenue": "sum(amount)"})
    orders.aggregate("by_status", by=["status"], aggregations={"n": "count()"})
    return f


def test_a_parameter_change_recomputes_exactly_the_steps_that_use_it(cache, orders_csv):
    f = two_branches(orders_csv)
    first = f.run(progress=False, record=False)
    assert not any(cached(first).values())
    cold(cache)
    again = f.run(progress=False, record=False)
    assert all(cached(again).values())
    # nothing downstream changed: the reader was not needed at all, and still reports its rows
    assert again.steps["orders"].rows == first.steps["orders"].rows
    cold(cache)
    changed = f.run(progress=False, record=False, min_amount=50.0)
    assert cached(changed) == {"orders": True, "big": False, "by_region": False, "by_status": True}
    uncached = f.run(progress=False, record=False, min_amount=50.0, cache=False)
    assert not any(cached(uncached).values())
    for step in ("by_region", "by_status"):
        pd.testing.assert_frame_equal(changed[step], uncached[step])
    pd.testing.assert_frame_equal(again["by_region"], first["by_region"])


def test_a_changed_step_recomputes_it_and_what_follows(cache, orders_csv):
    f = two_branches(orders_csv)
    f.run(progress=False, record=False)
    cold(cache)
    f.spec.steps[2].with_["aggregations"] = {"revenue": "sum(amount)", "n": "count()"}  # by_region
    result = f.run(progress=False, record=False)
    assert cached(result) == {"orders": True, "big": True, "by_region": False, "by_status": True}
    assert list(result["by_region"].columns) == ["region", "revenue", "n"]


def test_a_changed_input_file_recomputes_everything(cache, orders_csv, sales):
    f = two_branches(orders_csv)
    f.run(progress=False, record=False)
    cold(cache)
    sales["orders"].head(100).to_csv(orders_csv, index=False)  # a rewrite in place
    result = f.run(progress=False, record=False)
    assert not any(cached(result).values())
    assert result.steps["orders"].rows == 100


def test_a_frame_changed_in_place_is_not_served_from_the_cache(cache):
    frame = pd.DataFrame({"x": np.arange(10), "y": np.arange(10) * 2})
    f = Flow("in_place")
    f.from_frame("src", name="data").derive("twice", columns={"z": "y * 2"})
    f.run(frames={"data": frame}, progress=False, record=False)
    assert all(cached(f.run(frames={"data": frame}, progress=False, record=False)).values())
    frame.loc[3, "y"] = 100
    result = f.run(frames={"data": frame}, progress=False, record=False)
    assert cached(result)["twice"] is False and result["twice"].loc[3, "z"] == 200


class _Tripled(Component):
    """Test component: x times three (version 1) or times four (version 2)."""

    name = "test_tripled"
    Params: ClassVar = NoParams
    pure_schema = True
    factor: ClassVar[int] = 3

    def transform(self, inputs):
        return inputs[0].assign(x=inputs[0]["x"] * self.factor)


def test_a_new_component_version_recomputes_its_steps(cache):
    registry.register(_Tripled, replace=True)
    try:
        f = Flow("versions")
        f.from_frame("src", name="data").test_tripled("tripled").derive("after", columns={"y": "x + 1"})
        frame = pd.DataFrame({"x": [1, 2, 3]})
        f.run(frames={"data": frame}, progress=False, record=False)
        _Tripled.version, _Tripled.factor = "2", 4
        result = f.run(frames={"data": frame}, progress=False, record=False)
        assert cached(result) == {"src": False, "tripled": False, "after": False}
        assert result["after"]["y"].tolist() == [5, 9, 13]
    finally:
        _Tripled.version, _Tripled.factor = "1", 3
        registry._components.pop("test_tripled", None)


def test_opting_out_and_scripts(cache, orders_csv, tmp_path):
    calls = []

    def impure(df):
        if len(df):  # planning calls it on an empty frame too
            calls.append(len(df))
        return df

    f = Flow("opt_out")
    orders = f.read_csv("orders", path=str(orders_csv))
    orders.script("impure", function=impure)
    orders.script("declared_pure", function=impure, pure=True)
    orders.filter("never", condition="amount > 0")
    f.spec.steps[-1].cache = False
    out = tmp_path / "out.csv"
    orders.write_csv("sink", path=str(out))
    f.run(progress=False, record=False)
    assert len(calls) == 2
    out.unlink()
    cold(cache)
    result = f.run(progress=False, record=False)
    assert cached(result) == {
        "orders": True,
        "impure": False,  # not declared pure: runs every time
        "declared_pure": True,
        "never": False,  # cache: false in the flow
        "sink": False,  # sinks always run
    }
    assert len(calls) == 3 and out.exists()
    result = f.run(progress=False, record=False, cache=False)
    assert not any(cached(result).values()) and len(calls) == 5


def test_a_corrupted_entry_is_recomputed_never_served(cache, orders_csv):
    f = two_branches(orders_csv)
    first = f.run(progress=False, record=False)
    cold(cache)
    entry = next(e for e in cache.entries() if e.step == "by_region")
    data = cache.folder / entry.data
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    result = f.run(progress=False, record=False)
    assert cached(result)["by_region"] is False and cached(result)["big"] is True
    pd.testing.assert_frame_equal(result["by_region"], first["by_region"])
    # a half-written data file (truncated) and an entry without its data file alike
    cold(cache)
    entry = next(e for e in cache.entries() if e.step == "by_region")
    (cache.folder / entry.data).write_bytes(raw[:100])
    assert cache.load(entry.key) is None and cache.entry(entry.key) is None


def test_eviction_keeps_the_size_limit_least_recently_used_first(tmp_path):
    cache = StepCache(tmp_path / "cache", max_bytes=10**9)
    frames = {f"k{i}": pd.DataFrame({"x": np.random.default_rng(i).random(5000)}) for i in range(6)}
    for key, frame in frames.items():
        cache.save(key, frame, flow="f", step=key, component="c")
        cache.flush()
        time.sleep(0.02)  # distinct last-use times
    size = cache.entries()[0].bytes
    cache.load("k0")  # used again: now the most recent
    cache.max_bytes = 3 * size + size // 2
    removed = cache.evict()
    assert sorted(e.key for e in removed) == ["k1", "k2", "k3"]
    assert sorted(e.key for e in cache.entries()) == ["k0", "k4", "k5"]
    assert cache.size() <= cache.max_bytes
    assert len(list((tmp_path / "cache").glob("*.parquet"))) == 3


def test_frames_parquet_cannot_give_back_are_not_cached(tmp_path):
    cache = StepCache(tmp_path / "cache", max_bytes=10**9)
    cache.save("lists", pd.DataFrame({"x": [[1, 2], [3]]}), flow="f", step="s", component="c")
    cache.flush()
    assert cache.entries() == [] and cache.load("lists") is None


def _write_many(folder: str, worker: int) -> None:
    cache = StepCache(Path(folder), max_bytes=10**9)
    frame = pd.DataFrame({"x": np.arange(200_000) + worker * 0})  # the same content from every writer
    for _ in range(10):
        cache.save("same", frame, flow="f", step="s", component="c")
        cache.flush()


def test_processes_writing_one_key_leave_one_whole_entry(tmp_path):
    folder = tmp_path / "cache"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(str(folder), i)) for i in range(2)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    cache = StepCache(folder, max_bytes=10**9)
    assert [e.key for e in cache.entries()] == ["same"]
    assert cache.load("same")["x"].tolist() == list(range(200_000))
    assert not [p for p in os.listdir(folder) if p.endswith(".tmp")]


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cached-examples")
    datasets.write_sales(root / "data", scale=0.01)
    for name in FLOW_NAMES:
        shutil.copy(FLOWS_DIR / f"{name}.flow.yaml", root)
    return root


@pytest.mark.parametrize("name", FLOW_NAMES)
def test_cached_results_equal_uncached_ones_on_every_example_flow(cache, example_dir, name):
    from aqtra_nb.engine import execute_flow

    spec = load_flow(example_dir / f"{name}.flow.yaml")
    values = {"data_dir": str(example_dir / "data")} if "data_dir" in spec.parameters else {}
    plain = execute_flow(spec, values, progress=False, cache=False)
    execute_flow(spec, values, progress=False)
    cold(cache)
    from_disk = execute_flow(spec, values, progress=False)
    from_memory = execute_flow(spec, values, progress=False)
    sinks = {s.id for s in spec.steps if registry.get(s.component).is_sink}
    for result in (from_disk, from_memory):
        assert {sid for sid, hit in cached(result).items() if not hit} == sinks  # sinks always run
    assert plain.outputs.keys() == from_disk.outputs.keys()
    for step in plain.outputs:
        pd.testing.assert_frame_equal(from_disk[step], plain[step], check_exact=True)
        pd.testing.assert_frame_equal(from_memory[step], plain[step], check_exact=True)
        # every intermediate step too, each loaded from its own entry
    for sid in {s.id for s in spec.steps} - sinks:  # every intermediate step too, from its own entry
        pd.testing.assert_frame_equal(from_disk[sid], plain[sid], check_exact=True)


def test_only_outputs_worth_it_are_written_the_rest_stays_in_memory(cache):
    # A threshold well above a 200k-row filter's time even on a loaded machine (the default is 5 ms),
    # and a step well above it: the rule, not the machine's speed, decides.
    cache.min_seconds = 0.1

    def slow(df):
        time.sleep(0.4 if len(df) else 0)
        return df

    f = Flow("worth_it")
    frame = pd.DataFrame({"x": np.arange(200_000)})
    slow_step = f.from_frame("src", name="data").script("slow", function=slow, pure=True)
    slow_step.filter("cheap", condition="x >= 0").aggregate("total", aggregations={"n": "count()"})
    f.run(frames={"data": frame}, progress=False, record=False)
    cache.flush()
    written = {e.step for e in cache.entries()}
    assert "slow" in written and "cheap" not in written  # 400 ms: written; the filter took ~1 ms
    again = f.run(frames={"data": frame}, progress=False, record=False)
    assert all(cached(again).values())  # in this process, everything is in memory
    cold(cache)
    fresh = f.run(frames={"data": frame}, progress=False, record=False)  # as a new process
    # the cheap filter runs again, from the written output before it; the count, only if it was written
    assert cached(fresh) == {
        "src": True,
        "slow": True,
        "cheap": "total" in written,
        "total": "total" in written,
    }
    assert fresh["total"]["n"].tolist() == [200_000]
    assert fresh.steps["cheap"].rows == 200_000  # not written, but its row count was: known when skipped


def test_the_progress_bar_says_which_steps_came_from_the_cache():
    from aqtra_nb.engine import ProgressBar, RunEvent

    bar = ProgressBar(2, "f")
    bar(RunEvent("step_finished", "r", "orders", "read_csv", rows=1200, cached=True))
    text = bar.view.tqdm  # outside a notebook: tqdm on stderr
    assert text.postfix == "orders: 1,200 rows (cached)" and text.n == 1
    bar(RunEvent("step_finished", "r", "src", "from_frame", rows=None, cached=True))  # rows not known
    assert text.postfix == "src: (cached)" and text.n == 2
    assert bar.final_text().startswith("f: 2/2 steps in ")
    bar.close()


def test_content_hashing_sees_a_change_that_keeps_size_and_time(cache, tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("x\n1\n2\n")
    stamp = path.stat().st_mtime_ns

    def flow(content: bool) -> Flow:
        f = Flow(f"content_{content}")
        f.read_csv("numbers", path=str(path)).derive("twice", columns={"y": "x * 2"})
        if content:
            f.spec.steps[0].cache = StepCacheSpec(content=True)
        return f

    by_time, by_content = flow(False), flow(True)
    for f in (by_time, by_content):
        f.run(progress=False, record=False)
    path.write_text("x\n7\n9\n")  # same size
    os.utime(path, ns=(stamp, stamp))  # same time (a copy that kept it)
    cold(cache)
    stale = by_time.run(progress=False, record=False)
    fresh = by_content.run(progress=False, record=False)
    assert stale["twice"]["y"].tolist() == [2, 4]  # size + time: the change is not seen
    assert fresh["twice"]["y"].tolist() == [14, 18] and not any(cached(fresh).values())


def test_content_hashing_of_a_step_that_reads_no_files_is_refused(cache, tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("x\n1\n2\n")
    f = Flow("content_of_a_transform")
    f.read_csv("numbers", path=str(path)).derive("twice", columns={"y": "x * 2"})
    f.spec.steps[1].cache = StepCacheSpec(content=True)
    with pytest.raises(FlowValidationError, match="derive has no local files to hash") as raised:
        f.run(progress=False, record=False)
    assert raised.value.step == "twice" and raised.value.field == "cache.content"


def test_a_step_not_worth_writing_leaves_its_row_count(tmp_path):
    cache = StepCache(tmp_path / "cache", max_bytes=10**9)
    cache.save("cheap", pd.DataFrame({"x": range(42)}), flow="f", step="s", component="c", write=False)
    cache.flush()
    other = StepCache(tmp_path / "cache", max_bytes=10**9)  # another process
    assert other.load("cheap") is None and other.entry("cheap") is None and other.rows("cheap") == 42
    other.clear()
    assert other.rows("cheap") is None


def test_partitioned_runs_keep_their_outputs(cache, orders_csv):
    f = two_branches(orders_csv)
    first = f.run(progress=False, record=False, mode="partitioned")
    assert not any(cached(first).values())
    cold(cache)
    again = f.run(progress=False, record=False, mode="partitioned")
    assert all(cached(again).values())  # both outputs loaded; nothing read or computed
    for step in ("by_region", "by_status"):
        pd.testing.assert_frame_equal(again[step], first[step])
    changed = f.run(progress=False, record=False, mode="partitioned", min_amount=50.0)
    # the reader's partitions were written too: the changed branch runs from them, not from the CSV
    assert cached(changed) == {"orders": True, "big": False, "by_region": False, "by_status": True}
    plain = f.run(progress=False, record=False, mode="partitioned", min_amount=50.0, cache=False)
    for step in ("by_region", "by_status"):
        pd.testing.assert_frame_equal(changed[step], plain[step])
