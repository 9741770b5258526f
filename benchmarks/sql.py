"""Benchmarks of the SQL connectors against pandas, on PostgreSQL and SQLite, in one process.

1. **Write** the 1M-row sales `orders` table (ints, floats, text, a timestamp) into a new table:
   ``write_sql`` (a ``from_frame → write_sql`` flow, ``create: true``; COPY on PostgreSQL, executemany on
   SQLite) against ``DataFrame.to_sql`` with its default method (SQLAlchemy ``executemany``) and with
   ``method="multi"`` (multi-row INSERTs, ``chunksize`` as large as the driver's limit of bound
   parameters allows). The table is dropped before each timed run, so every run creates it. A run that takes over a minute is
   not repeated.
2. **Read with a filter**: ``read_sql → filter → select`` of three columns of ``region == 'North' and
   amount >= 500`` (the filter and the columns go into the SQL) against ``pandas.read_sql`` of the whole
   table, then the same filter and columns in pandas; also ours with ``partitions: 4`` range queries.

Every result is checked before it counts (row counts and sums for writes, equal frames for reads). Each
time is the best of ``--repeat`` runs. Run from the repository root::

    python benchmarks/sql.py                             # 1M rows; a throwaway PostgreSQL is started
    python benchmarks/sql.py --postgres-url postgresql+psycopg://user@host/db   # an existing, empty database
    python benchmarks/sql.py --rows 100000 --repeat 1    # a smoke test

A throwaway PostgreSQL needs Debian's ``postgresql`` package (``tests/postgres_server.py`` starts it with
``fsync=off``, as in the tests). Runs are not recorded (``record=False``).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from _common import commit

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))  # postgres_server.py

from aqtra_nb import Flow, datasets  # noqa: E402
from aqtra_nb.store.database import make_engine  # noqa: E402

CONDITION = "region == 'North' and amount >= 500"
READ_COLUMNS = ["order_id", "region", "amount"]
LONG_RUN = 60.0  # seconds
MAX_PARAMETERS = {"postgresql": 65_535, "sqlite": 32_766}  # bound parameters per statement


def best_of(repeat: int, prepare: Callable[[], None], run: Callable[[], object]) -> tuple[float, object]:
    """The best time of `repeat` runs; a run over a minute is not repeated (to_sql "multi" takes minutes)."""
    times, result = [], None
    for _ in range(repeat):
        prepare()
        gc.collect()
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
        if times[-1] > LONG_RUN:
            break
    return min(times), result


def drop(engine: sa.Engine, table: str) -> Callable[[], None]:
    def prepare() -> None:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))

    return prepare


def check_written(engine: sa.Engine, table: str, orders: pd.DataFrame) -> None:
    with engine.connect() as connection:
        n, total = connection.execute(sa.text(f"SELECT count(*), sum(amount) FROM {table}")).one()
    assert n == len(orders), f"{table}: {n} rows, expected {len(orders)}"
    assert abs(float(total) - orders["amount"].sum()) < 1e-6 * abs(orders["amount"].sum())


def bench_write(url: str, orders: pd.DataFrame, repeat: int) -> list[tuple[str, float]]:
    backend = sa.engine.make_url(url).get_backend_name()
    engine = make_engine(url)  # pandas gets the same engine settings (SQLite pragmas, pool) as ours
    rows = []

    flow = Flow("write_bench")
    flow.from_frame("orders", orders).write_sql("save", url=url, table="bench_ours", create=True)
    seconds, _ = best_of(repeat, drop(engine, "bench_ours"), lambda: flow.run(progress=False, record=False))
    check_written(engine, "bench_ours", orders)
    rows.append(("write_sql", seconds))

    seconds, _ = best_of(
        repeat,
        drop(engine, "bench_pandas"),
        lambda: orders.to_sql("bench_pandas", engine, index=False),
    )
    check_written(engine, "bench_pandas", orders)
    rows.append(("pandas to_sql", seconds))

    chunk = MAX_PARAMETERS[backend] // len(orders.columns)
    seconds, _ = best_of(
        repeat,
        drop(engine, "bench_multi"),
        lambda: orders.to_sql("bench_multi", engine, index=False, method="multi", chunksize=chunk),
    )
    check_written(engine, "bench_multi", orders)
    rows.append((f'pandas to_sql(method="multi", chunksize={chunk:,})', seconds))
    for table in ("bench_pandas", "bench_multi"):
        drop(engine, table)()
    engine.dispose()
    return rows


def bench_read(url: str, orders: pd.DataFrame, repeat: int) -> list[tuple[str, float]]:
    """On `bench_ours`, written by bench_write."""
    engine = make_engine(url)
    expected = orders[(orders["region"] == "North") & (orders["amount"] >= 500)][READ_COLUMNS]
    expected = expected.sort_values("order_id").reset_index(drop=True)

    def ours(partitions: int) -> Callable[[], pd.DataFrame]:
        flow = Flow("read_bench")
        split = {"partition_on": "order_id", "partitions": partitions} if partitions > 1 else {}
        flow.read_sql("orders", url=url, table="bench_ours", **split).filter(
            "north", condition=CONDITION
        ).select("picked", columns=READ_COLUMNS)
        return lambda: flow.run(progress=False, record=False)["picked"]

    def pandas_whole() -> pd.DataFrame:
        with engine.connect() as connection:
            table = pd.read_sql("SELECT * FROM bench_ours", connection)
        return table[(table["region"] == "North") & (table["amount"] >= 500)][READ_COLUMNS]

    rows = []
    for name, query in [
        ("read_sql + filter (pushed down)", ours(1)),
        ("read_sql + filter, partitions=4", ours(4)),
        ("pandas read_sql of the table, then filter", pandas_whole),
    ]:
        seconds, result = best_of(repeat, lambda: None, query)
        got = result.sort_values("order_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
        rows.append((name, seconds))
    engine.dispose()
    return rows


def print_table(title: str, rows: list[tuple[str, float]], ours: str) -> None:
    base = dict(rows)[ours]
    print(f"\n### {title}\n")
    print(f"| implementation | seconds | time / {ours} |")
    print("|---|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {seconds / base:.1f}× |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url", help="an empty PostgreSQL database (default: start a throwaway one)"
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to write (default 1M)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--backends", default="postgresql,sqlite")
    args = parser.parse_args(argv)

    orders = datasets.sales(scale=args.rows / 1_000_000, seed=42)["orders"].head(args.rows)
    print(
        f"# SQL benchmarks, {datetime.date.today()}, commit {commit()}: "
        f"{len(orders):,} rows × {len(orders.columns)} columns; "
        f"best of {args.repeat}; Python {platform.python_version()}, pandas {pd.__version__}, "
        f"SQLAlchemy {sa.__version__}; {os.cpu_count()} CPUs"
    )
    server = None
    with tempfile.TemporaryDirectory(prefix="aqtra-sql-bench-") as folder:
        os.environ.setdefault("AQTRA_HOME", folder)
        urls = {"sqlite": f"sqlite:///{Path(folder) / 'bench.db'}"}
        if "postgresql" in args.backends:
            url = args.postgres_url
            if url is None:
                from postgres_server import PostgresServer

                server = PostgresServer()
                if not server.available:
                    print("no PostgreSQL here: pass --postgres-url or install Debian's postgresql")
                    return 1
                url = server.start()
                print("PostgreSQL: a throwaway server (fsync=off)")
            urls["postgresql"] = url
        try:
            for backend in [b for b in ("postgresql", "sqlite") if b in args.backends]:
                written = bench_write(urls[backend], orders, args.repeat)
                print_table(f"{backend}: write {len(orders):,} rows", written, "write_sql")
                read = bench_read(urls[backend], orders, args.repeat)
                print_table(
                    f"{backend}: read with a filter ({CONDITION})", read, "read_sql + filter (pushed down)"
                )
        finally:
            if server is not None:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
