"""Output components (write_csv, write_parquet, to_frame): what they write reads back as the input, and a
failed run leaves earlier outputs alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest

from aqtra_nb import Flow, FlowValidationError, StepFailed, UnknownColumn


@pytest.fixture
def orders(sales):
    return sales["orders"]


def write(partitioned, frame, component, *, npartitions=4, **params):
    f = Flow("t")
    source = f.from_frame("source", partitioned(frame, npartitions))
    f.add("write", component, [source], **params)
    return f.run(progress=False)


def leftovers(directory):
    """Temporary files or directories of unfinished writes (`.<name>.<token>.tmp`)."""
    return sorted(p.name for p in directory.rglob("*") if p.name.endswith(".tmp"))


# -- write_csv --------------------------------------------------------------------------------------------


def test_write_csv_one_file_in_input_order(partitioned, assert_same, orders, tmp_path):
    path = tmp_path / "out" / "orders.csv"
    result = write(partitioned, orders, "write_csv", path=str(path))
    assert result.status == "succeeded" and result.steps["write"].rows == len(orders)
    back = pd.read_csv(path, parse_dates=["order_date"])
    assert_same(back, orders.assign(order_date=orders["order_date"].astype(back["order_date"].dtype)))
    assert sorted(p.name for p in path.parent.iterdir()) == ["orders.csv"]


def test_write_csv_separator_and_no_header(partitioned, assert_same, orders, tmp_path):
    path = tmp_path / "orders.txt"
    write(
        partitioned,
        orders[["order_id", "region", "amount"]],
        "write_csv",
        path=str(path),
        separator=";",
        header=False,
    )
    first = orders.iloc[0]
    assert path.read_text().splitlines()[0] == f'{first["order_id"]};"{first["region"]}";{first["amount"]}'
    back = pd.read_csv(path, sep=";", header=None, names=["order_id", "region", "amount"])
    assert_same(back, orders[["order_id", "region", "amount"]])


def test_write_csv_of_no_rows_writes_the_header(partitioned, orders, tmp_path):
    path = tmp_path / "none.csv"
    f = Flow("t")
    f.from_frame("source", partitioned(orders)).filter("none", condition="amount < 0").write_csv(
        "write", path=str(path)
    )
    f.run(progress=False)
    assert path.read_text().strip() == ",".join(f'"{c}"' for c in orders.columns)


def test_write_csv_relative_to_the_flow_file(tmp_path, assert_same, sales_dir):
    f = Flow("t")
    f.read_csv("read", path=str(sales_dir / "regions.csv")).write_csv("write", path="copies/regions.csv")
    f.save(tmp_path / "copy.flow.yaml")
    Flow.load(tmp_path / "copy.flow.yaml").run(progress=False)
    assert_same(pd.read_csv(tmp_path / "copies" / "regions.csv"), pd.read_csv(sales_dir / "regions.csv"))


# -- write_parquet ----------------------------------------------------------------------------------------


def test_write_parquet_one_file(partitioned, assert_same, orders, tmp_path):
    path = tmp_path / "orders.parquet"
    result = write(partitioned, orders, "write_parquet", path=str(path), compression="zstd")
    assert result.steps["write"].rows == len(orders)
    assert_same(pd.read_parquet(path), orders)
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"


def test_write_parquet_partitioned_directory(partitioned, assert_same, orders, tmp_path):
    path = tmp_path / "by_region"
    result = write(partitioned, orders, "write_parquet", path=str(path), partition_by=["region"])
    assert result.steps["write"].rows == len(orders)
    assert sorted(p.name for p in path.iterdir()) == sorted(f"region={r}" for r in orders["region"].unique())
    columns = [c for c in orders.columns if c != "region"] + ["region"]
    back = pd.read_parquet(path)
    back["region"] = back["region"].astype("str")
    assert_same(back, orders[columns], sort_by="order_id")

    f = Flow("t")  # and the reader reads it back the same way
    f.read_parquet("read", path=str(path))
    assert_same(f.run(progress=False)["read"], orders[columns], sort_by="order_id")
    assert leftovers(tmp_path) == []


def test_write_parquet_replaces_an_earlier_output(partitioned, orders, tmp_path):
    for target, options in [("orders.parquet", {}), ("by_status", {"partition_by": ["status"]})]:
        path = tmp_path / target
        write(partitioned, orders, "write_parquet", path=str(path), **options)
        f = Flow("t")
        source = f.from_frame("source", partitioned(orders))
        source.filter("paid", condition="status == 'paid'").write_parquet("write", path=str(path), **options)
        f.run(progress=False)
        back = pd.read_parquet(path)
        assert set(back["status"].astype("str")) == {"paid"}, target
        assert len(back) == (orders["status"] == "paid").sum()
    assert sorted(p.name for p in (tmp_path / "by_status").iterdir()) == ["status=paid"]
    assert leftovers(tmp_path) == []


# -- a failed run -----------------------------------------------------------------------------------------


def fail_in_the_last_partition(df: pd.DataFrame) -> pd.DataFrame:
    """Fails on the partition that holds the last orders, after the others had time to finish."""
    if (df["order_id"] > 1900).any():
        time.sleep(0.3)
        raise RuntimeError("no orders after 1900")
    return df


@pytest.mark.parametrize(
    ("component", "target", "options"),
    [
        ("write_csv", "orders.csv", {}),
        ("write_parquet", "orders.parquet", {}),
        ("write_parquet", "by_region", {"partition_by": ["region"]}),
    ],
)
def test_a_failing_upstream_step_leaves_the_earlier_output_alone(
    partitioned, orders, tmp_path, component, target, options
):
    path = tmp_path / target
    write(partitioned, orders, component, path=str(path), **options)
    before = sorted((p.relative_to(tmp_path), p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))

    f = Flow("t")
    source = f.from_frame("source", partitioned(orders))
    checked = source.script("checked", function=fail_in_the_last_partition)
    f.add("write", component, [checked], path=str(path), **options)
    with pytest.raises(StepFailed) as info:
        f.run(progress=False)
    assert info.value.step == "checked"

    assert leftovers(tmp_path) == []
    assert sorted((p.relative_to(tmp_path), p.stat().st_mtime_ns) for p in tmp_path.rglob("*")) == before


# -- to_frame ---------------------------------------------------------------------------------------------


def test_to_frame_hands_back_its_input(partitioned, assert_same, orders):
    f = Flow("t")
    big = f.from_frame("source", partitioned(orders)).filter("big", condition="amount > 1000")
    snapshot = big.to_frame("snapshot")
    snapshot.aggregate("count", aggregations={"n": "count()"})
    result = f.run(progress=False)
    assert "snapshot" in result.outputs and "count" in result.outputs
    assert_same(result["snapshot"], orders[orders["amount"] > 1000])
    assert result["count"]["n"].tolist() == [int((orders["amount"] > 1000).sum())]


# -- errors -----------------------------------------------------------------------------------------------


def test_write_parquet_unknown_partition_column(sales, plan_error, tmp_path):
    f = Flow("t")
    f.from_frame("source", sales["orders"]).write_parquet(
        "misspelt", path=str(tmp_path / "x"), partition_by=["regoin"]
    )
    error = plan_error(f, UnknownColumn)
    assert error.step == "misspelt" and error.field == "partition_by"
    assert "step 'misspelt', field 'partition_by'" in str(error) and "Did you mean 'region'?" in str(error)


@pytest.mark.parametrize(
    ("component", "params", "bad"),
    [
        ("write_csv", {"path": "x.csv", "sep": ";"}, "sep"),
        ("write_csv", {"path": "x.csv", "separator": ";;"}, "separator"),
        ("write_parquet", {"path": "x.parquet", "partition_on": ["a"]}, "partition_on"),
        ("to_frame", {"name": "x"}, "name"),
    ],
)
def test_unknown_parameter(component, params, bad):
    f = Flow("t")
    source = f.empty("source", columns={"a": "number"})
    with pytest.raises(FlowValidationError) as info:
        f.add("step", component, [source], **params)
    assert info.value.step == "step" and info.value.field == f"with.{bad}"


def test_a_write_removes_only_the_temporary_files_of_its_target_whose_writers_are_gone(orders, tmp_path):
    from aqtra_nb.components.temporary import HOST

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # ended and reaped: its pid is free
    dead = ended.pid
    hour_ago = time.time() - 2 * 3600
    planted = {
        f".orders.csv.{HOST}-{dead}-0000000a.tmp": "removed",  # its writer was killed
        f".orders.csv.{HOST}-{os.getpid()}-0000000b.tmp": "kept",  # its writer still runs
        ".orders.csv.ffffffff-1-0000000c.tmp": "kept",  # another host's writer, recently
        ".orders.csv.ffffffff-1-0000000d.tmp@old": "removed",  # ... and not for hours
        ".orders.csv.0000000e.tmp@old": "removed",  # an older version's name
        ".orders.csv.0000000f.tmp": "kept",
        f".other.csv.{HOST}-{dead}-00000010.tmp": "kept",  # another target
        f"orders.csv.{HOST}-{dead}-00000011.tmp": "kept",  # not our pattern
        f".orders.csv.{HOST}-{dead}-00000012.tmp/": "removed",  # a partitioned write's folder
    }
    for name in planted:
        path = tmp_path / name.split("@")[0].rstrip("/")
        if name.endswith("/"):
            (path / "region=North").mkdir(parents=True)
            (path / "region=North" / "part-0.parquet").write_bytes(b"x" * 100)
        else:
            path.write_bytes(b"x" * 100)
        if name.endswith("@old"):
            os.utime(path, (hour_ago, hour_ago))
    write(lambda frame, n: frame, orders, "write_csv", path=str(tmp_path / "orders.csv"))
    kept = {name.split("@")[0].rstrip("/") for name, fate in planted.items() if fate == "kept"}
    assert {p.name for p in tmp_path.iterdir()} == kept | {"orders.csv"}
