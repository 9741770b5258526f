"""A flow over a file larger than a quarter of the memory the engine plans with runs partitioned, holding a
few partitions at a time, never the whole file: in a fresh process whose engine is told the machine has
64 MB (`engine.run._memory`), a 16 M-row Parquet file (~530 MB as pandas columns) is filtered, derived
and aggregated with a peak resident memory far below the file's size, and the sums equal numpy's."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROWS = 16_000_000
BATCH = 1_000_000
WHOLE_BYTES = ROWS * (3 * 8 + 9)  # key, value, quantity as 8 bytes; flag as Arrow text (offset + byte)
MEMORY = 64 * 2**20  # the machine the engine is told it runs on: the file is many times a quarter of it

CHILD = textwrap.dedent(
    """
    import json, sys
    import dask
    import pyarrow as pa, pyarrow.parquet as pq
    from aqtra_nb import Flow
    from aqtra_nb.components import inputs
    from aqtra_nb.engine import run

    def status(field):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024

    path, small, memory = sys.argv[1], sys.argv[2], int(sys.argv[3])
    run._memory = lambda: memory
    inputs.ROWS_PER_PARTITION = 250_000
    dask.config.set(num_workers=2)  # peak memory grows with the partitions in flight, not the file

    def flow(data):
        f = Flow("large")
        (
            f.read_parquet("rows", path=data)
            .filter("kept", condition="value >= 0.25 and flag != 'c'")
            .derive("priced", columns={"total": "value * quantity"})
            .aggregate("sums", by=["key"], aggregations={"total": "sum(total)", "n": "count()"})
        )
        return f

    # the libraries' pools and threads started on a small file first, so the peak below is the run's own
    pq.write_table(pa.table({"key": [1], "value": [0.5], "quantity": [1.0], "flag": ["a"]}), small)
    flow(small).run(progress=False, record=False, cache=False, mode="partitioned")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM (where it cannot, the peak below only counts more)
    except OSError:
        pass
    base = status("VmRSS")
    large = flow(path)
    mode = run.choose_mode(large.plan(), "auto", None)
    sums = large.run(progress=False, record=False, cache=False)["sums"].sort_values("key")
    print(json.dumps({"mode": mode, "peak": status("VmHWM") - base, "sums": sums.to_dict("list")}))
    """
)


def _write(path) -> tuple[np.ndarray, np.ndarray]:
    """The file, written a million rows at a time, and per key the sum of value * quantity and the count
    of the rows the flow keeps."""
    totals, counts = np.zeros(1000), np.zeros(1000, dtype=np.int64)
    schema = pa.schema(
        [("key", pa.int64()), ("value", pa.float64()), ("quantity", pa.float64()), ("flag", pa.string())]
    )
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, ROWS, BATCH):
            i = np.arange(start, start + BATCH)
            key, value, quantity = i * 7919 % 1000, (i % 997) / 997, (i % 13).astype(float)
            flag = np.array(["a", "b", "c"])[i % 3]
            columns = {"key": key, "value": value, "quantity": quantity, "flag": flag}
            writer.write_table(pa.table(columns, schema=schema), row_group_size=250_000)
            kept = (value >= 0.25) & (flag != "c")
            totals += np.bincount(key[kept], weights=(value * quantity)[kept], minlength=1000)
            counts += np.bincount(key[kept], minlength=1000)
    return totals, counts


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_file_larger_than_a_quarter_of_memory_runs_partitioned_in_bounded_memory(tmp_path):
    totals, counts = _write(tmp_path / "large.parquet")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(tmp_path / "large.parquet"),
            str(tmp_path / "small.parquet"),
            str(MEMORY),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["mode"] == "partitioned"
    assert report["peak"] < WHOLE_BYTES / 3, f"peak {report['peak'] / 2**20:.0f} MB"
    sums = report["sums"]
    assert sums["key"] == list(range(1000))
    np.testing.assert_allclose(sums["total"], totals, rtol=1e-9)
    assert sums["n"] == counts.tolist()


def test_a_container_memory_limit_is_the_memory_runs_are_planned_for(tmp_path, monkeypatch):
    """In a container the machine's memory is the host's: the cgroup limit, when lower, is what the mode
    choice, the shuffle and broadcasts plan for; "max" (v2) means no limit."""
    from aqtra_nb.engine import run

    unlimited, limited = tmp_path / "memory.max", tmp_path / "memory.limit_in_bytes"
    unlimited.write_text("max\n")
    limited.write_text(f"{2**28}\n")
    monkeypatch.setattr(run, "CGROUP_LIMITS", (str(unlimited), str(tmp_path / "absent")))
    machine = run._memory()
    assert machine > 2**28
    monkeypatch.setattr(run, "CGROUP_LIMITS", (str(unlimited), str(limited)))
    assert run._memory() == 2**28
    assert run._in_memory_limit() == 2**28 // 32


def test_the_mode_is_chosen_on_the_row_groups_a_pushed_filter_leaves(tmp_path, monkeypatch):
    """A file too big to run in memory whole, filtered on a column it is sorted by: the row groups the
    filter's statistics exclude are not counted, so the run is in memory, with the same rows."""
    from aqtra_nb import Flow
    from aqtra_nb.engine import run

    path = tmp_path / "sorted.parquet"
    pq.write_table(
        pa.table({"day": np.arange(100_000), "value": np.arange(100_000) / 7}), path, row_group_size=1000
    )

    def flow(condition: str | None) -> Flow:
        f = Flow("sorted")
        rows = f.read_parquet("rows", path=str(path))
        if condition is not None:
            rows.filter("kept", condition=condition)
        return f

    whole = flow(None).plan().steps["rows"]
    monkeypatch.setattr(run, "_in_memory_limit", lambda: whole.component.size_hint(whole.read_columns) // 4)
    assert run.choose_mode(flow(None).plan(), "auto", None) == "partitioned"
    assert run.choose_mode(flow("value > 10").plan(), "auto", None) == "partitioned"  # no group excluded
    late = flow("day >= 95000")
    assert run.choose_mode(late.plan(), "auto", None) == "in_memory"
    kept = late.run(progress=False, record=False, cache=False)["kept"]
    assert kept["day"].tolist() == list(range(95_000, 100_000))
