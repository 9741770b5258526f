"""Benchmarks of the aqtra_nb engine against hand-written and other-framework equivalents, in one process.

Two benchmarks, each printed as a table of seconds (best of ``--repeat`` runs) and the ratio
``ours / this`` (above 1.0 means our engine is slower):

1. **Sales query** on the synthetic sales data (``aqtra_nb.datasets.write_sales``) at each scale
   (1 = one million orders): read ``orders.parquet``; keep ``amount >= 100 and status in ('paid',
   'shipped')``; per region ``revenue = sum(amount * (1 - coalesce(discount, 0)))``, ``n = count()``
   and ``customers = count_distinct(customer_id)``; add the region's ``manager`` from
   ``regions.parquet``; sort by revenue, descending. It runs in two variants, with and without
   ``count_distinct`` (without it Dask can use its tree reduction). Implementations: our ``Flow``
   (Python builder, ``f.run(progress=False)``, which records the run; also with ``record=False``),
   pandas, Dask written the way an expert would, Polars (lazy) and DuckDB (SQL). All results are checked to be equal before anything is timed: a
   difference raises ``ResultMismatch``.
2. **A 200-step chain** of trivial steps over a 1,000-row frame (each step adds 1 to column ``x``):
   our engine (``derive`` steps, plan + execute), Apache Hamilton (generated functions, driver build +
   execute) and Kedro (nodes in a ``Pipeline``, ``SequentialRunner`` over a ``MemoryDataset``
   catalog), next to a plain pandas loop doing the same work, so that per-node overhead = (time -
   pandas loop) / steps.

Run from the repository root (needs the ``bench`` extra: ``pip install -e ".[bench]"``)::

    python benchmarks/engine.py                      # scales 1 and 5, best of 3
    python benchmarks/engine.py --scales 1 --repeat 5
    python benchmarks/engine.py --quick              # scale 0.1, one repeat: a smoke test
    python benchmarks/engine.py --profile            # also cProfile our engine in both benchmarks

Data is generated once per scale into ``benchmarks/.data`` (git-ignored); the runs that ``Flow.run``
records go to a store there too (``AQTRA_HOME=benchmarks/.data/aqtra_home``). The exit status is 1 if an
implementation raised (it is shown as FAILED in the table), and the script stops with a traceback if
two implementations disagree.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime
import importlib.util
import inspect
import io
import logging
import os
import platform
import pstats
import sys
import sysconfig
import traceback
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from unittest import mock

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
from _common import best_of, commit, generated, load_average

from aqtra_nb import Flow, datasets

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "benchmarks" / ".data"
AQTRA_HOME = DATA_DIR / "aqtra_home"  # runs recorded by Flow.run go here, not into ~/.aqtra_nb
SEED = 42

MIN_AMOUNT = 100
STATUSES = ("paid", "shipped")
CONDITION = f"amount >= {MIN_AMOUNT} and status in ('paid', 'shipped')"
REVENUE_RTOL = 1e-9

OURS = "aqtra_nb Flow"
OURS_NO_RECORD = "aqtra_nb, record=False"
OURS_NO_MEMO = "aqtra_nb, record=False, no memo"
PLAN_ONLY = "aqtra_nb plan only"
PLAN_ONLY_NO_MEMO = "aqtra_nb plan only, no memo"
Query = Callable[[], pd.DataFrame | None]  # None: a partial measurement with no result to check


class ResultMismatch(AssertionError):
    """Two implementations of a benchmark returned different results."""


@dataclass
class Row:
    """One line of a result table."""

    benchmark: str
    implementation: str
    seconds: float | None
    error: str | None = None


# -- data -----------------------------------------------------------------------------------------------


def sales_data(scale: float) -> Path:
    """The sales Parquet files for `scale`, generated on first use (into a temporary folder, then renamed)."""
    target = DATA_DIR / f"sales-scale{scale:g}-seed{SEED}"
    if (target / "orders.parquet").exists() and (target / "regions.parquet").exists():
        return target
    print(f"generating sales data at scale {scale:g} into {target} ...", flush=True)
    return generated(
        target, lambda staging: datasets.write_sales(staging, scale=scale, seed=SEED, formats="parquet")
    )


# -- the sales query, five ways ----------------------------------------------------------------------------
# Each function prepares what is not timed and returns the timed query: a callable returning a pandas frame
# with columns region, revenue, n, [customers,] manager, sorted by revenue descending.


def sales_flow(data: Path, distinct: bool) -> Flow:
    """The sales query as a Flow, built with the Python builder."""
    flow = Flow("sales_benchmark")
    orders = flow.read_parquet("orders", path=str(data / "orders.parquet"))
    regions = flow.read_parquet("regions", path=str(data / "regions.parquet"))
    big = orders.filter("big", condition=CONDITION)
    aggregations = {"revenue": "sum(amount * (1 - coalesce(discount, 0)))", "n": "count()"}
    if distinct:
        aggregations["customers"] = "count_distinct(customer_id)"
    totals = big.aggregate("totals", by=["region"], aggregations=aggregations)
    with_manager = totals.lookup("with_manager", regions, on="region", columns=["manager"])
    with_manager.sort("report", by="revenue", descending=True)
    return flow


def sales_aqtra(data: Path, distinct: bool) -> Query:
    """Our engine: the Flow is built once (not timed); `run` plans and executes it on Dask (threads)
    and, as by default, records the run in the store (a throwaway one under `benchmarks/.data`)."""
    flow = sales_flow(data, distinct)
    return lambda: flow.run(progress=False).outputs["report"]


def sales_aqtra_no_record(data: Path, distinct: bool) -> Query:
    """Our engine without recording the run (`record=False`): the cost of planning and Dask alone."""
    flow = sales_flow(data, distinct)
    return lambda: flow.run(progress=False, record=False).outputs["report"]


def sales_pandas(data: Path, distinct: bool) -> Query:
    """Hand-written pandas: read only the needed columns, filter, named aggregation, merge, sort."""
    columns = ["region", "status", "amount", "discount"] + (["customer_id"] if distinct else [])

    def query() -> pd.DataFrame:
        orders = pd.read_parquet(data / "orders.parquet", columns=columns)
        big = orders[(orders["amount"] >= MIN_AMOUNT) & orders["status"].isin(STATUSES)]
        big = big.assign(net=big["amount"] * (1 - big["discount"].fillna(0)))
        aggregations = {"revenue": ("net", "sum"), "n": ("net", "size")}
        if distinct:
            aggregations["customers"] = ("customer_id", "nunique")
        totals = big.groupby("region", sort=False).agg(**aggregations).reset_index()
        regions = pd.read_parquet(data / "regions.parquet", columns=["region", "manager"])
        report = totals.merge(regions, on="region", how="left")
        return report.sort_values("revenue", ascending=False, ignore_index=True)

    return query


def sales_dask(data: Path, distinct: bool) -> Query:
    """Dask as an expert writes it: only the needed columns, filters pushed into the Parquet reader
    (row-wise), Arrow-backed strings, a tree-reduction groupby-agg; `count_distinct` through
    `SeriesGroupBy.nunique` (exact: it drops duplicates across partitions), computed in the same
    `dask.compute` so the file is read once; the 8-row result is joined and sorted in pandas."""
    columns = ["region", "amount", "discount"] + (["customer_id"] if distinct else [])

    def query() -> pd.DataFrame:
        with dask.config.set({"dataframe.convert-string": True}):
            orders = dd.read_parquet(
                data / "orders.parquet",
                columns=columns,
                filters=[("amount", ">=", MIN_AMOUNT), ("status", "in", STATUSES)],
            )
            big = orders.assign(net=orders["amount"] * (1 - orders["discount"].fillna(0)))
            grouped = big.groupby("region")
            parts = [grouped.agg(revenue=("net", "sum"), n=("net", "size"))]
            if distinct:
                parts.append(grouped["customer_id"].nunique().rename("customers"))
            computed = dask.compute(*parts)
        totals = pd.concat(computed, axis=1).reset_index()
        regions = pd.read_parquet(data / "regions.parquet", columns=["region", "manager"])
        report = totals.merge(regions, on="region", how="left")
        return report.sort_values("revenue", ascending=False, ignore_index=True)

    return query


def sales_polars(data: Path, distinct: bool) -> Query:
    """Polars lazy: scan_parquet lets the optimizer push the projection and the predicate."""
    import polars as pl

    def query() -> pd.DataFrame:
        aggregations = [
            (pl.col("amount") * (1 - pl.col("discount").fill_null(0))).sum().alias("revenue"),
            pl.len().alias("n"),
        ]
        if distinct:
            aggregations.append(pl.col("customer_id").n_unique().alias("customers"))
        regions = pl.scan_parquet(data / "regions.parquet").select("region", "manager")
        report = (
            pl.scan_parquet(data / "orders.parquet")
            .filter((pl.col("amount") >= MIN_AMOUNT) & pl.col("status").is_in(STATUSES))
            .group_by("region")
            .agg(aggregations)
            .join(regions, on="region", how="left")
            .sort("revenue", descending=True)
        )
        return report.collect().to_pandas()

    return query


def sales_duckdb(data: Path, distinct: bool) -> Query:
    """DuckDB SQL straight over the Parquet files (a fresh in-memory connection per run)."""
    import duckdb

    orders = str(data / "orders.parquet").replace("'", "''")
    regions = str(data / "regions.parquet").replace("'", "''")
    customers = ", count(DISTINCT customer_id) AS customers" if distinct else ""
    statuses = ", ".join(f"'{s}'" for s in STATUSES)
    sql = f"""
        WITH totals AS (
            SELECT region, sum(amount * (1 - coalesce(discount, 0))) AS revenue, count(*) AS n{customers}
            FROM read_parquet('{orders}')
            WHERE amount >= {MIN_AMOUNT} AND status IN ({statuses})
            GROUP BY region
        )
        SELECT totals.*, regions.manager
        FROM totals LEFT JOIN read_parquet('{regions}') AS regions USING (region)
        ORDER BY revenue DESC
    """

    def query() -> pd.DataFrame:
        with duckdb.connect() as connection:
            return connection.sql(sql).df()

    return query


SALES_IMPLEMENTATIONS: dict[str, Callable[[Path, bool], Query]] = {
    OURS: sales_aqtra,
    OURS_NO_RECORD: sales_aqtra_no_record,
    "pandas": sales_pandas,
    "Dask (expert)": sales_dask,
    "Polars (lazy)": sales_polars,
    "DuckDB": sales_duckdb,
}


def normalise_sales(frame: pd.DataFrame, distinct: bool) -> pd.DataFrame:
    """Plain dtypes and a 0..n-1 index, so results from different libraries compare."""
    counts = ["n", "customers"] if distinct else ["n"]
    out = pd.DataFrame(
        {
            "region": frame["region"].astype(str).to_numpy(dtype=object),
            "revenue": frame["revenue"].astype("float64").to_numpy(),
            **{name: frame[name].astype("int64").to_numpy() for name in counts},
            "manager": frame["manager"].astype(str).to_numpy(dtype=object),
        }
    )
    extra = sorted(set(map(str, frame.columns)) - set(out.columns))
    if extra:
        raise ResultMismatch(f"unexpected columns {extra}")
    return out


def check_sales(results: dict[str, pd.DataFrame], distinct: bool, label: str) -> None:
    """Every result equals the first one: same rows in the same order, revenue within REVENUE_RTOL."""
    frames = {name: normalise_sales(frame, distinct) for name, frame in results.items()}
    reference_name, reference = next(iter(frames.items()))
    if len(reference) != 8:
        raise ResultMismatch(f"{label}: {reference_name} returned {len(reference)} regions, expected 8")
    for name, frame in frames.items():
        problem = None
        if frame.shape != reference.shape:
            problem = f"shape {frame.shape} != {reference.shape}"
        else:
            for column in reference.columns:
                if column == "revenue":
                    same = np.allclose(frame[column], reference[column], rtol=REVENUE_RTOL, atol=0)
                else:
                    same = frame[column].tolist() == reference[column].tolist()
                if not same:
                    problem = f"column {column!r} differs"
                    break
        if problem:
            raise ResultMismatch(
                f"{label}: {name} disagrees with {reference_name} ({problem})\n"
                f"{reference_name}:\n{reference.to_string()}\n{name}:\n{frame.to_string()}"
            )


# -- the 200-step chain ------------------------------------------------------------------------------------


def chain_input(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"x": np.zeros(rows, dtype="int64"), "y": np.arange(rows, dtype="int64")})


def chain_pandas(frame: pd.DataFrame, steps: int) -> Query:
    """The work alone: `steps` times `assign(x=x + 1)` in a loop."""

    def query() -> pd.DataFrame:
        current = frame
        for _ in range(steps):
            current = current.assign(x=current["x"] + 1)
        return current

    return query


def chain_flow(frame: pd.DataFrame, steps: int) -> Flow:
    flow = Flow("chain_benchmark")
    previous = flow.from_frame("s0", frame)
    for i in range(1, steps + 1):
        previous = previous.derive(f"s{i}", columns={"x": "x + 1"})
    return flow


def chain_aqtra(frame: pd.DataFrame, steps: int) -> Query:
    """Our engine: the Flow is built once (not timed); `run` plans (validation, schemas) and executes."""
    flow = chain_flow(frame, steps)
    return lambda: flow.run(progress=False).outputs[f"s{steps}"]


def chain_aqtra_no_record(frame: pd.DataFrame, steps: int) -> Query:
    """Our engine without recording the run (`record=False`)."""
    flow = chain_flow(frame, steps)
    return lambda: flow.run(progress=False, record=False).outputs[f"s{steps}"]


def chain_aqtra_plan(frame: pd.DataFrame, steps: int) -> Query:
    """Planning alone (validate, infer every schema, prune columns), for the breakdown; no result."""
    flow = chain_flow(frame, steps)

    def query() -> None:
        flow.plan()

    return query


@contextlib.contextmanager
def nothing_memoized() -> Iterator[None]:
    """Plan as a first run of a flow whose steps all differ: no memoized schema (every step's schema is
    inferred by running its pandas code on empty frames) and no parsed expression from before."""
    from aqtra_nb.engine import schemas
    from aqtra_nb.expr import parse

    parse._parse_expression.cache_clear()
    parse._parse_aggregation.cache_clear()
    with mock.patch.object(schemas, "_key", lambda *args: None):
        yield


def chain_aqtra_no_memo(frame: pd.DataFrame, steps: int) -> Query:
    """Our engine (record=False) with nothing memoized: the cost of a flow of all-different steps."""
    flow = chain_flow(frame, steps)

    def query() -> pd.DataFrame:
        with nothing_memoized():
            return flow.run(progress=False, record=False).outputs[f"s{steps}"]

    return query


def chain_aqtra_plan_no_memo(frame: pd.DataFrame, steps: int) -> Query:
    """Planning alone with nothing memoized."""
    flow = chain_flow(frame, steps)

    def query() -> None:
        with nothing_memoized():
            flow.plan()

    return query


def hamilton_module(steps: int) -> types.ModuleType:
    """A module of `steps` functions `s{i}(s{i-1}) -> s{i-1}.assign(x=x + 1)`, generated as source."""
    lines = ["import pandas as pd", ""]
    for i in range(1, steps + 1):
        lines += [
            f"def s{i}(s{i - 1}: pd.DataFrame) -> pd.DataFrame:",
            f"    return s{i - 1}.assign(x=s{i - 1}['x'] + 1)",
            "",
        ]
    module = types.ModuleType(f"hamilton_chain_{steps}")
    exec(compile("\n".join(lines), f"<{module.__name__}>", "exec"), module.__dict__)
    sys.modules[module.__name__] = module
    return module


def chain_hamilton(frame: pd.DataFrame, steps: int) -> Query:
    """Apache Hamilton: the module is generated once (not timed); driver build + execute are timed."""
    from hamilton import base, driver

    module = hamilton_module(steps)

    def query() -> pd.DataFrame:
        dr = driver.Builder().with_modules(module).with_adapters(base.DictResult()).build()
        return dr.execute([f"s{steps}"], inputs={"s0": frame})[f"s{steps}"]

    return query


def chain_hamilton_execute(frame: pd.DataFrame, steps: int) -> Query:
    """Apache Hamilton with the driver built once (not timed): execute alone."""
    from hamilton import base, driver

    dr = driver.Builder().with_modules(hamilton_module(steps)).with_adapters(base.DictResult()).build()
    return lambda: dr.execute([f"s{steps}"], inputs={"s0": frame})[f"s{steps}"]


def _add_one(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(x=frame["x"] + 1)


def chain_kedro(frame: pd.DataFrame, steps: int) -> Query:
    """Kedro: Pipeline of `steps` nodes + SequentialRunner over a MemoryDataset catalog, both timed.

    MemoryDataset's default copy mode for pandas frames copies on every save and load: that is part of
    what Kedro costs, so it is kept.
    """
    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    logging.disable(logging.INFO)  # importing kedro logs its logging setup at INFO
    try:
        from kedro.io import DataCatalog, MemoryDataset
        from kedro.pipeline import Pipeline, node
        from kedro.runner import SequentialRunner
    finally:
        logging.disable(logging.NOTSET)
    logging.getLogger("kedro").setLevel(logging.WARNING)  # no per-node INFO lines during the run

    def query() -> pd.DataFrame:
        pipeline = Pipeline([node(_add_one, f"s{i - 1}", f"s{i}", name=f"n{i}") for i in range(1, steps + 1)])
        catalog = DataCatalog({"s0": MemoryDataset(frame)})
        output = SequentialRunner().run(pipeline, catalog)[f"s{steps}"]
        return output.load() if hasattr(output, "load") else output  # Kedro >= 1.0 returns the dataset

    return query


CHAIN_IMPLEMENTATIONS: dict[str, Callable[[pd.DataFrame, int], Query]] = {
    OURS: chain_aqtra,
    OURS_NO_RECORD: chain_aqtra_no_record,
    OURS_NO_MEMO: chain_aqtra_no_memo,
    PLAN_ONLY: chain_aqtra_plan,
    PLAN_ONLY_NO_MEMO: chain_aqtra_plan_no_memo,
    "pandas loop (the work alone)": chain_pandas,
    "Hamilton": chain_hamilton,
    "Hamilton execute only": chain_hamilton_execute,
    "Kedro": chain_kedro,
}
CHAIN_BASELINE = "pandas loop (the work alone)"


def check_chain(results: dict[str, pd.DataFrame | None], steps: int, rows: int) -> None:
    for name, frame in results.items():
        if frame is None:
            continue
        x = frame["x"].to_numpy()
        if len(x) != rows or not (x == steps).all():
            raise ResultMismatch(
                f"chain: {name} returned x = {sorted(set(x.tolist()))[:5]}, expected {steps}"
            )


# -- running and timing --------------------------------------------------------------------------------------


def run_benchmark(
    label: str,
    factories: dict[str, Callable[[], Query]],
    check: Callable[[dict[str, pd.DataFrame]], None],
    repeat: int,
) -> list[Row]:
    """Prepare each implementation, run it once (warm-up and result check), then time the survivors."""
    print(f"{label}: checking results ...", flush=True)
    queries: dict[str, Query] = {}
    results: dict[str, pd.DataFrame] = {}
    errors: dict[str, str] = {}
    for name, factory in factories.items():
        try:
            query = factory()
            results[name] = query()
            queries[name] = query
        except Exception as exc:  # shown as FAILED; the script exits 1
            errors[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            print(f"  {name} FAILED:\n{_indent(traceback.format_exc(limit=-3))}", file=sys.stderr, flush=True)
    if results:
        check(results)
    print(f"{label}: timing (best of {repeat}) ...", flush=True)
    seconds = best_of(queries, repeat)
    return [Row(label, name, seconds.get(name), errors.get(name)) for name in factories]


def _available(implementations: dict[str, Callable[..., Query]]) -> dict[str, Callable[..., Query]]:
    """Variants this version of the engine has: `record=False` needs run recording, "no memo" the memo."""
    missing = set()
    if "record" not in inspect.signature(Flow.run).parameters:
        missing |= {OURS_NO_RECORD, OURS_NO_MEMO}
    if importlib.util.find_spec("aqtra_nb.engine.schemas") is None:
        missing |= {OURS_NO_MEMO, PLAN_ONLY_NO_MEMO}
    return {name: make for name, make in implementations.items() if name not in missing}


def sales_benchmarks(scales: list[float], repeat: int) -> list[Row]:
    rows: list[Row] = []
    for scale in scales:
        data = sales_data(scale)
        for distinct in (True, False):
            label = f"sales, scale {scale:g}, " + ("with count_distinct" if distinct else "no count_distinct")
            implementations = _available(SALES_IMPLEMENTATIONS)
            factories = {name: partial(make, data, distinct) for name, make in implementations.items()}
            check = partial(check_sales, distinct=distinct, label=label)
            rows += run_benchmark(label, factories, check, repeat)
    return rows


def chain_benchmark(steps: int, rows: int, repeat: int) -> list[Row]:
    frame = chain_input(rows)
    label = f"chain, {steps} steps x {rows} rows"
    implementations = _available(CHAIN_IMPLEMENTATIONS)
    factories = {name: partial(make, frame, steps) for name, make in implementations.items()}
    return run_benchmark(label, factories, partial(check_chain, steps=steps, rows=rows), repeat)


# -- reporting ---------------------------------------------------------------------------------------------


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.rstrip().splitlines())


def _seconds(value: float | None) -> str:
    return "FAILED" if value is None else f"{value:.3f}"


def print_sales_table(rows: list[Row], repeat: int) -> None:
    by_label: dict[str, list[Row]] = {}
    for row in rows:
        by_label.setdefault(row.benchmark, []).append(row)
    print(f"\n## Sales query: seconds, best of {repeat}; `ours/this` > 1 means our engine is slower\n")
    print(f"| {'benchmark':<42} | {'implementation':<22} | {'seconds':>8} | {'ours/this':>9} |")
    print(f"|{'-' * 44}|{'-' * 24}|{'-' * 9}:|{'-' * 10}:|")
    for label, group in by_label.items():
        ours = next(r.seconds for r in group if r.implementation == OURS)
        for row in group:
            ratio = f"{ours / row.seconds:.2f}x" if ours is not None and row.seconds else "-"
            print(f"| {label:<42} | {row.implementation:<22} | {_seconds(row.seconds):>8} | {ratio:>9} |")


def print_chain_table(rows: list[Row], steps: int, repeat: int) -> None:
    baseline = next(r.seconds for r in rows if r.implementation == CHAIN_BASELINE)
    ours = next(r.seconds for r in rows if r.implementation == OURS)
    print(f"\n## {rows[0].benchmark}: seconds, best of {repeat}; per node = seconds / {steps}\n")
    print(
        f"| {'implementation':<32} | {'seconds':>8} | {'us/node':>9} | {'overhead us/node':>16} | "
        f"{'ours/this':>9} |"
    )
    print(f"|{'-' * 34}|{'-' * 9}:|{'-' * 10}:|{'-' * 17}:|{'-' * 10}:|")
    for row in rows:
        if row.seconds is None:
            print(f"| {row.implementation:<32} | {'FAILED':>8} | {'-':>9} | {'-':>16} | {'-':>9} |")
            continue
        per_node = row.seconds / steps * 1e6
        overhead = "-"
        if baseline is not None and row.implementation not in (CHAIN_BASELINE, PLAN_ONLY, PLAN_ONLY_NO_MEMO):
            overhead = f"{(row.seconds - baseline) / steps * 1e6:.1f}"
        ratio = f"{ours / row.seconds:.1f}x" if ours is not None else "-"
        print(
            f"| {row.implementation:<32} | {row.seconds:>8.4f} | {per_node:>9.1f} | {overhead:>16} | {ratio:>9} |"
        )


def print_targets(sales: list[Row], chain: list[Row], steps: int) -> None:
    def seconds(rows: list[Row], label: str, name: str) -> float | None:
        return next((r.seconds for r in rows if r.benchmark == label and r.implementation == name), None)

    def verdict(ratio: float | None, limit: float) -> str:
        if ratio is None:
            return "n/a (an implementation failed)"
        return f"{ratio:.2f}x -> {'met' if ratio <= limit else 'MISSED'}"

    print("\n## Targets\n")
    for label in dict.fromkeys(r.benchmark for r in sales):
        ours = seconds(sales, label, OURS)
        dask_s, polars_s = seconds(sales, label, "Dask (expert)"), seconds(sales, label, "Polars (lazy)")
        vs_dask = ours / dask_s if ours and dask_s else None
        vs_polars = ours / polars_s if ours and polars_s else None
        print(
            f"- {label}: ours / expert Dask <= 1.0: {verdict(vs_dask, 1.0)}; "
            f"ours / Polars <= 2.0 (stretch): {verdict(vs_polars, 2.0)}"
        )
    if chain:
        label = chain[0].benchmark
        baseline = seconds(chain, label, CHAIN_BASELINE)
        hamilton = seconds(chain, label, "Hamilton")
        for name in (OURS, OURS_NO_RECORD, OURS_NO_MEMO):
            ours = seconds(chain, label, name)
            if None in (baseline, ours, hamilton):
                continue
            ours_overhead = (ours - baseline) / steps * 1e6
            hamilton_overhead = (hamilton - baseline) / steps * 1e6
            status = "met" if ours_overhead <= max(hamilton_overhead, 12.0) else "MISSED"
            print(
                f"- chain, {name}: our overhead {ours_overhead:.0f} us/node vs Hamilton (build + execute) "
                f"{hamilton_overhead:.0f} us/node (target: not above Hamilton's) -> {status}"
            )


def print_header(args: argparse.Namespace) -> None:
    import duckdb
    import hamilton.version
    import kedro
    import polars

    versions = {
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "dask": dask.__version__,
        "polars": polars.__version__,
        "duckdb": duckdb.__version__,
        "hamilton": ".".join(map(str, hamilton.version.VERSION)),
        "kedro": kedro.__version__,
    }
    load = load_average()
    now = datetime.datetime.now().isoformat(timespec="minutes")
    print(f"# aqtra_nb engine benchmarks, {now}, commit {commit()}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"1-min load average at start {load:.2f}"
    )
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"scales {args.scales}, best of {args.repeat}, chain {args.steps} steps x {args.rows} rows\n")
    if load > 0.5:
        print(f"WARNING: load average {load:.2f}: other processes compete for the CPUs; timings are noisy.\n")


# -- profiling ---------------------------------------------------------------------------------------------


def profile_ours(scale: float | None, steps: int | None, rows: int, top: int = 25) -> None:
    """cProfile of our engine (the sales query with count_distinct at `scale`, the chain of `steps`).

    Both run on Dask's synchronous scheduler so that the work of the tasks is on the profiled thread too
    (cProfile sees only the thread that enables it). Computations Dask starts by itself while building
    the graph (such as `sort_values` sampling divisions) still use its threaded scheduler: they show up
    as time waiting on locks under `dask/local.py:get_async`.
    """
    cases: dict[str, Callable[[], object]] = {}
    if scale is not None:
        sales = sales_flow(sales_data(scale), distinct=True)
        title = f"sales with count_distinct, scale {scale:g}, scheduler='sync'"
        cases[title] = partial(sales.run, progress=False, scheduler="sync")
    if steps is not None:
        chain = chain_flow(chain_input(rows), steps)
        cases[f"chain {steps} steps, scheduler='sync'"] = partial(chain.run, progress=False, scheduler="sync")
    for title, case in cases.items():
        case()  # warm-up
        profiler = cProfile.Profile()
        profiler.enable()
        case()
        profiler.disable()
        for order, restrictions in [("cumulative", []), ("tottime", []), ("cumulative", ["aqtra_nb"])]:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(*restrictions, top)
            text = out.getvalue().split("\n\n", 1)[-1].strip()
            for prefix in _path_prefixes():
                text = text.replace(prefix, "")
            scope = ", aqtra_nb functions only" if restrictions else ""
            print(f"\n## profile: {title}, by {order}{scope}\n")
            print(text)


def _path_prefixes() -> list[str]:
    """Folders stripped from profile lines, longest first: `dask/base.py`, `aqtra_nb/engine/run.py`."""
    paths = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"], str(REPO_ROOT)}
    return [p.rstrip(os.sep) + os.sep for p in sorted(paths, key=len, reverse=True)]


# -- main --------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,5", help="comma-separated sales scales (1 = 1M orders)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs per implementation; the best counts"
    )
    parser.add_argument("--quick", action="store_true", help="smoke test: scale 0.1, one repeat")
    parser.add_argument("--steps", type=int, default=200, help="chain length")
    parser.add_argument("--rows", type=int, default=1000, help="rows of the chain's frame")
    parser.add_argument("--only", choices=["sales", "chain"], help="run one of the two benchmarks")
    parser.add_argument("--profile", action="store_true", help="print cProfile tables of our engine")
    args = parser.parse_args(argv)
    if args.quick:
        args.scales, args.repeat = "0.1", 1
    args.scale_list = [float(s) for s in args.scales.split(",") if s.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Flow.run records every run in a store: keep the benchmark's runs out of the user's history.
    os.environ["AQTRA_HOME"] = str(AQTRA_HOME)
    os.environ["AQTRA_CACHE_BYTES"] = "0"  # the engine computing, not the step cache (benchmarks/cache.py)
    os.environ.pop("AQTRA_DATABASE_URL", None)
    print_header(args)
    sales = sales_benchmarks(args.scale_list, args.repeat) if args.only != "chain" else []
    chain = chain_benchmark(args.steps, args.rows, args.repeat) if args.only != "sales" else []
    if sales:
        print_sales_table(sales, args.repeat)
    if chain:
        print_chain_table(chain, args.steps, args.repeat)
    print_targets(sales, chain, args.steps)
    print(f"\n1-min load average at the end: {load_average():.2f}")
    if args.profile:
        profile_ours(
            args.scale_list[0] if args.only != "chain" else None,
            args.steps if args.only != "sales" else None,
            args.rows,
        )
    failed = [f"{r.benchmark}: {r.implementation}: {r.error}" for r in sales + chain if r.error]
    if failed:
        print("\nFAILED implementations:\n" + "\n".join(f"- {line}" for line in failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
