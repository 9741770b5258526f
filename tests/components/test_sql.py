"""read_sql and write_sql on SQLite and a real PostgreSQL: dtypes, pushdown in the SQL actually sent,
partitioned reads, write modes, one transaction per write (even when the writer is killed), errors."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from aqtra_nb import AqtraError, Flow, FlowValidationError, StepFailed
from aqtra_nb.components.sql.select import SqlFilter


@pytest.fixture
def url(database_url):
    """Each test on an empty SQLite file and on an empty PostgreSQL database."""
    yield database_url
    from aqtra_nb import connections

    with connections._LOCK:  # the components' pooled engines of this database
        for key in [k for k in connections._ENGINES if database_url in k]:
            connections._ENGINES.pop(key).dispose()


@pytest.fixture
def db(url):
    engine = sa.create_engine(url)
    yield engine
    engine.dispose()


def backend(url: str) -> str:
    return sa.engine.make_url(url).get_backend_name()


def table_rows(engine: sa.Engine, table: str, order_by: str = "id") -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY {order_by}"))]


def write(url, frame, *, mode_of_run="auto", table="things", **params):
    f = Flow("write")
    f.from_frame("source", frame).write_sql("save", url=url, table=table, **params)
    return f.run(progress=False, mode=mode_of_run, record=False)


def read(url, *, filter=None, parameters=None, **params):
    f = Flow("read", parameters=parameters or {})
    step = f.read_sql("source", url=url, **params)
    if filter:
        step.filter("filtered", condition=filter)
    return f.run(progress=False, record=False)["filtered" if filter else "source"]


@pytest.fixture
def typed():
    """Every kind of column the connectors map, with nulls (and an empty string, which is not null)."""
    n = 6
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype="int64"),
            "count": pd.array([1, None, 3, -4, 5, 2**40], dtype="Int64"),
            "price": [0.5, np.nan, 1.25, -2.0, 1e10, 3.0],
            "name": pd.Series(["a", None, "", "héllo", "x'y", 'q"uote'], dtype="str"),
            "day": pd.to_datetime(
                ["2024-01-01", None, "2024-02-29", "1999-12-31", "2030-06-01", "2024-01-02"]
            )
            .as_unit("s")
            .astype("datetime64[s]"),
            "at": pd.to_datetime(
                [
                    "2024-01-01 10:30:00.123456",
                    None,
                    "2024-02-29 23:59:59",
                    "1999-12-31",
                    "2030-06-01 01:02:03",
                    "2024-01-02",
                ],
                format="ISO8601",
            ).as_unit("us"),
            "at_tz": pd.to_datetime(
                [
                    "2024-01-01 10:30:00.5+02:00",
                    None,
                    "2024-02-29 23:59:59Z",
                    "1999-12-31 00:00:00Z",
                    "2030-06-01 00:00:00Z",
                    "2024-01-02 00:00:00Z",
                ],
                format="ISO8601",
                utc=True,
            ).as_unit("us"),
            "flag": pd.array([True, None, False, True, False, True], dtype="boolean"),
        }
    )


# -- round trips ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode_of_run", ["in_memory", "partitioned"])
def test_round_trip_keeps_values_and_dtypes(url, db, typed, mode_of_run):
    result = write(url, typed, create=True, mode_of_run=mode_of_run)
    assert result.status == "succeeded" and result.steps["save"].rows == len(typed)
    back = read(url, table="things").sort_values("id").reset_index(drop=True)
    expected = typed.assign(id=typed["id"].astype("Int64"))  # a created column may hold nulls later
    if backend(url) == "sqlite":  # SQLite has no time zone type: timestamps are stored in UTC
        expected["at_tz"] = expected["at_tz"].dt.tz_localize(None)
    pd.testing.assert_frame_equal(back, expected)
    types = {c["name"]: c["type"] for c in sa.inspect(db).get_columns("things")}
    assert isinstance(types["day"], sa.Date) and not isinstance(types["day"], sa.DateTime)
    assert isinstance(types["at"], sa.DateTime) and isinstance(types["count"], sa.BigInteger)
    if backend(url) == "postgresql":
        assert types["at_tz"].timezone and not types["at"].timezone


def test_tables_made_elsewhere_read_with_pandas_dtypes(url, db):
    with db.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE sales (id INTEGER NOT NULL PRIMARY KEY, amount NUMERIC(10, 2), region VARCHAR(20), "
                "sold DATE, paid BOOLEAN NOT NULL, note TEXT)"
            )
        )
        connection.execute(
            sa.text("INSERT INTO sales VALUES (:id, :amount, :region, :sold, :paid, :note)"),
            [
                {
                    "id": 1,
                    "amount": 10.25,
                    "region": "North",
                    "sold": dt.date(2024, 5, 1),
                    "paid": True,
                    "note": None,
                },
                {"id": 2, "amount": None, "region": None, "sold": None, "paid": False, "note": "late"},
            ],
        )
    out = read(url, table="sales").sort_values("id").reset_index(drop=True)
    expected = pd.DataFrame(
        {
            "id": np.array([1, 2], dtype="int64"),  # NOT NULL: plain int64
            "amount": [10.25, np.nan],  # decimals as float64
            "region": pd.Series(["North", None], dtype="str"),
            "sold": pd.to_datetime(["2024-05-01", None]).astype("datetime64[s]"),
            "paid": [True, False],
            "note": pd.Series([None, "late"], dtype="str"),
        }
    )
    pd.testing.assert_frame_equal(out, expected)


def test_schema_comes_from_the_catalog_without_reading_rows(url, db, typed):
    write(url, typed, create=True)
    statements = capture(url)
    f = Flow("plan")
    f.read_sql("source", url=url, table="things", columns=["id", "name"])
    plan = f.plan()
    assert plan.steps["source"].columns == {"id": "Int64", "name": "str"}
    assert not [s for s, _ in statements if "things" in s and s.lstrip().upper().startswith("SELECT")]


# -- pushdown ---------------------------------------------------------------------------------------------


def capture(url: str) -> list[tuple[str, object]]:
    """Statements (and their parameters) sent through the components' engine for `url` from now on."""
    from aqtra_nb.connections import Connections

    engine = Connections().from_url(url).engine()
    sent: list[tuple[str, object]] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", listener)
    return sent


def data_selects(sent, table="things"):
    return [(s, p) for s, p in sent if s.lstrip().upper().startswith("SELECT") and table in s]


def test_columns_and_filters_go_into_the_sql_as_bound_parameters(url, typed):
    write(url, typed, create=True)
    sent = capture(url)
    f = Flow("pushed", parameters={"min_price": -5.0})
    source = f.read_sql("source", url=url, table="things")
    big = source.filter(
        "big",
        condition="""price >= @min_price and name in ('a', 'héllo', "x'y", 'zz') and len(name) > 0 and flag == true""",
    )
    big.select("picked", columns=["id", "name"])
    plan = f.plan()
    assert isinstance(plan.steps["source"].read_filter, SqlFilter)
    assert (
        "filter pushed into reader: price >= -5.0 and name in ('a', 'héllo', \"x'y\", 'zz') and flag == True"
        in (plan.explain())
    )
    out = f.run(progress=False, record=False)["picked"]
    expected = typed[
        (typed.price >= -5.0) & typed.name.isin(["a", "héllo", "x'y"]) & typed.flag.fillna(False)
    ]
    assert list(expected["id"]) == [0, 3]
    pd.testing.assert_frame_equal(
        out.sort_values("id").reset_index(drop=True),
        expected[["id", "name"]].assign(id=expected["id"].astype("Int64")).reset_index(drop=True),
    )
    [(statement, parameters)] = data_selects(sent)
    selected = statement.upper().split("FROM")[0]
    assert "ID" in selected and "NAME" in selected  # only the columns the flow needs
    for unused in ("COUNT", "DAY", "AT_TZ"):
        assert unused not in selected
    where = statement.upper().split("WHERE", 1)[1]
    assert "PRICE >=" in where and "NAME IN" in where and "FLAG" in where and "LENGTH" not in where
    for literal in ("5.0", "héllo", "x'y", "'a'"):
        assert literal not in statement  # values travel as bound parameters, never in the SQL text
    values = list(parameters.values()) if isinstance(parameters, dict) else list(parameters)
    assert -5.0 in values and "héllo" in values and "x'y" in values


def test_only_comparisons_that_keep_every_row_are_pushed(url, typed):
    write(url, typed, create=True)
    f = Flow("some", parameters={"since": dt.date(2024, 1, 2)})
    f.read_sql("source", url=url, table="things").filter(
        "f", condition="name > 'b' and day >= @since and id * 2 > 3 and count != 1"
    )
    pushed = str(f.plan().steps["source"].read_filter)
    # text ordering follows the database's collation, so `name > 'b'` stays in the filter step
    assert pushed == "day >= '2024-01-02' and count != 1"
    out = f.run(progress=False, record=False)["f"].sort_values("id")
    assert list(out["id"]) == [4, 5]


def test_query_with_bound_placeholders(url, typed):
    write(url, typed, create=True)
    sent = capture(url)
    hostile = "a'; DROP TABLE things; --"
    out = read(
        url,
        query="SELECT id, name, price * 2 AS doubled FROM things WHERE price > :low OR name = :name",
        params={"low": "@low", "name": hostile},
        parameters={"low": 1.0},
        filter="id < 5",
    )
    assert sorted(out["id"]) == [2, 4]
    assert list(out.columns) == ["id", "name", "doubled"]
    statement, parameters = data_selects(sent)[-1]
    assert hostile not in statement and hostile in str(parameters)
    assert read(url, table="things")["id"].size == len(typed)  # still there


def test_query_schema_comes_from_limit_0_or_a_sample(url, typed):
    write(url, typed, create=True)
    f = Flow("q")
    f.read_sql("q", url=url, query="SELECT id, price, name, day FROM things", types={"day": "date"})
    columns = f.plan().steps["q"].columns
    assert columns == {"id": "Int64", "price": "float64", "name": "str", "day": "datetime64[s]"}


@pytest.mark.parametrize("on", ["id", "day", "at", "at_tz"])
def test_partitioned_read_equals_a_plain_read(url, on):
    n = 1000
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "day": pd.Series(
                pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D")
            ).astype("datetime64[s]"),
            "at": pd.Series(
                pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**9, n), "s")
            ).astype("datetime64[us]"),
            "v": rng.random(n),
        }
    )
    frame["at_tz"] = frame["at"].dt.tz_localize("Europe/Berlin", nonexistent="shift_forward", ambiguous=False)
    frame.loc[[3, 500], ["day", "at", "at_tz"]] = pd.NaT  # nulls land in the first range
    write(url, frame, create=True)
    plain = read(url, table="things").sort_values("id").reset_index(drop=True)
    sent = capture(url)
    f = Flow("split")
    f.read_sql("source", url=url, table="things", partition_on=on, partitions=4).filter(
        "kept", condition="v < 0.9"
    )
    result = f.run(progress=False, record=False, mode="partitioned")
    split = result["kept"].sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(split, plain[plain.v < 0.9].reset_index(drop=True))
    ranges = [s for s, _ in data_selects(sent) if "min(" not in s.lower()]
    assert len(ranges) == 4 and all(">=" in s and "v <" in s.lower().replace('"', "") for s in ranges)
    assert result.steps["source"].rows == len(split)


# -- write modes ------------------------------------------------------------------------------------------


def keyed(ids, value):
    return pd.DataFrame({"id": np.array(ids, dtype="int64"), "v": [f"{value}{i}" for i in ids]})


@pytest.fixture
def target(db):
    with db.begin() as connection:
        connection.execute(
            sa.text("CREATE TABLE target (id BIGINT PRIMARY KEY, v TEXT, other TEXT DEFAULT 'kept')")
        )
        connection.execute(sa.text("INSERT INTO target (id, v) VALUES (1, 'old1'), (2, 'old2'), (3, 'old3')"))
    return "target"


@pytest.mark.parametrize("mode_of_run", ["in_memory", "partitioned"])
def test_append_replace_upsert(url, db, target, mode_of_run):
    write(url, keyed([4, 5], "new"), table=target, mode_of_run=mode_of_run)
    assert [r[0] for r in table_rows(db, target)] == [1, 2, 3, 4, 5]

    result = write(
        url, keyed([2, 3, 9], "up"), table=target, mode="upsert", keys=["id"], mode_of_run=mode_of_run
    )
    assert result.steps["save"].rows == 3
    assert table_rows(db, target) == [
        (1, "old1", "kept"),
        (2, "up2", "kept"),  # updated: columns not written are left alone
        (3, "up3", "kept"),
        (4, "new4", "kept"),
        (5, "new5", "kept"),
        (9, "up9", "kept"),  # inserted
    ]

    write(url, keyed([7], "only"), table=target, mode="replace", mode_of_run=mode_of_run)
    assert table_rows(db, target) == [(7, "only7", "kept")]

    write(url, keyed([], "none"), table=target, mode="replace", mode_of_run=mode_of_run)
    assert table_rows(db, target) == []


def test_upsert_creates_the_table_with_its_key(url, db):
    write(url, keyed([1, 2], "a"), table="fresh", mode="upsert", keys=["id"], create=True)
    write(url, keyed([2, 3], "b"), table="fresh", mode="upsert", keys=["id"])
    assert table_rows(db, "fresh") == [(1, "a1"), (2, "b2"), (3, "b3")]
    assert sa.inspect(db).get_pk_constraint("fresh")["constrained_columns"] == ["id"]


# -- one transaction ------------------------------------------------------------------------------------


def fails_midway(frame):
    if frame["id"].max() >= 150:
        raise RuntimeError("upstream broke")
    return frame


@pytest.mark.parametrize(
    ("case", "expected", "field"),
    [
        ("duplicate key", "unique", "table"),
        ("type mismatch", "1.5", "table"),
        ("upsert duplicates in the input", "duplicate key in the input", "keys"),
        ("upstream failure", "upstream broke", None),
        ("create then fail", "dict", "table"),
    ],
)
def test_a_failed_write_leaves_the_table_as_it_was(url, db, target, case, expected, field):
    before = table_rows(db, target)
    frame = keyed(range(10, 210), "x")
    params = {"table": target, "chunk_rows": 25}  # the bad row is in the 5th batch: 4 were sent already
    if case == "duplicate key":
        frame.loc[120, "id"] = 2  # in the table already
    elif case == "type mismatch":
        frame = frame.assign(id=frame["id"].astype("float64"))
        frame.loc[120, "id"] = 1.5
    elif case == "upsert duplicates in the input":
        frame.loc[120, "id"] = 10
        params.update(mode="upsert", keys=["id"])
    elif case == "create then fail":
        frame = frame.assign(v=frame["v"].astype(object))
        frame.at[120, "v"] = {"not": "text"}
        params.update(table="created", create=True)
    f = Flow("broken")
    source = f.from_frame("source", frame)
    if case == "upstream failure":
        source = source.script("check", function=fails_midway)
    source.write_sql("save", url=url, **params)
    with pytest.raises(StepFailed) as info:
        f.run(progress=False, record=False, mode="partitioned")
    error = info.value
    assert expected.lower() in str(error).lower()
    assert error.step == ("check" if case == "upstream failure" else "save") and error.field == field
    assert table_rows(db, target) == before
    assert not sa.inspect(db).has_table("created")  # CREATE TABLE was rolled back too


def test_killing_the_writer_during_copy_leaves_the_table_as_it_was(postgres_database, tmp_path):
    url = postgres_database
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE target (id BIGINT PRIMARY KEY, v DOUBLE PRECISION)"))
        connection.execute(
            sa.text("INSERT INTO target SELECT g, g / 10.0 FROM generate_series(1, 1000) AS g")
        )
    target = "target"
    before = table_rows(engine, target)
    ready = tmp_path / "copying"
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        import numpy as np, pandas as pd
        from aqtra_nb import Flow
        from aqtra_nb.components.sql import drivers

        url, ready = sys.argv[1], Path(sys.argv[2])
        original = drivers.copy_chunk

        def slow_copy(copy, chunk):  # many slow chunks: the test kills us in the middle of the COPY
            original(copy, chunk)
            ready.touch()
            time.sleep(0.05)

        drivers.copy_chunk = slow_copy
        n = 500_000
        frame = pd.DataFrame({"id": np.arange(10_000, 10_000 + n), "v": np.random.rand(n)})
        f = Flow("big")
        f.from_frame("source", frame).write_sql("save", url=url, table="target", chunk_rows=2_000)
        f.run(progress=False, record=False)
        print("finished")
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script, url, str(ready)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.time() + 120
        copied = 0
        while time.time() < deadline and copied < 10_000:
            assert process.poll() is None, process.communicate()
            if ready.exists():
                with engine.connect() as connection:
                    copied = connection.execute(
                        sa.text("SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy")
                    ).scalar()
            time.sleep(0.05)
        assert copied >= 10_000, "the COPY did not get going"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert table_rows(engine, target) == before
    # the server noticed: the aborted COPY holds no lock, so the table takes writes again
    with engine.begin() as connection:
        connection.execute(sa.text("SET LOCAL lock_timeout = '20s'"))
        connection.execute(sa.text("INSERT INTO target VALUES (5000, 1.0)"))
    assert len(table_rows(engine, target)) == len(before) + 1
    engine.dispose()


# -- errors ---------------------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path, url, monkeypatch):
    """A project folder whose aqtra.yaml names the test database `warehouse` (its URL from the environment)."""
    monkeypatch.setenv("AQTRA_TEST_WAREHOUSE_URL", url)
    (tmp_path / "aqtra.yaml").write_text(
        "connections:\n  warehouse: {kind: sql, url: '${env:AQTRA_TEST_WAREHOUSE_URL}'}\n"
    )
    return tmp_path


def flow_file(folder: Path, steps: str) -> Path:
    path = folder / "f.flow.yaml"
    path.write_text("flow: sqlflow\nsteps:\n" + textwrap.dedent(steps))
    return path


def test_named_connection_from_the_project_folder(project, typed, url):
    write(url, typed, create=True)
    path = flow_file(
        project,
        """\
        - {id: src, component: read_sql, with: {connection: warehouse, table: things, columns: [id, name]}}
        - {id: out, component: write_sql, input: src, with: {connection: warehouse, table: copied, create: true}}
        """,
    )
    result = Flow.load(path).run(progress=False, record=False)
    assert result.steps["out"].rows == len(typed)
    assert len(read(url, table="copied")) == len(typed)


@pytest.mark.parametrize(
    ("steps", "field", "message"),
    [
        (
            "- {id: src, component: read_sql, with: {connection: warehous, table: things}}\n",
            "connection",
            "unknown connection 'warehous'. Did you mean 'warehouse'?",
        ),
        (
            "- {id: src, component: read_sql, with: {connection: warehouse, table: thing}}\n",
            "table",
            "no table 'thing' in the database. Did you mean 'things'?",
        ),
        (
            "- {id: src, component: read_sql, with: {connection: warehouse, table: things, columns: [nme]}}\n",
            "columns",
            "unknown column 'nme'. Did you mean 'name'?",
        ),
        (
            "- {id: src, component: read_sql, with: {connection: warehouse, table: things, partition_on: name, "
            "partitions: 2}}\n",
            "partition_on",
            "use an integer, date or timestamp column",
        ),
        (
            "- {id: src, component: read_sql, with: {connection: warehouse, query: 'SELECT * FROM thingz'}}\n",
            "query",
            "thingz",
        ),
        (
            "- {id: src, component: read_sql, with: {connection: warehouse, query: 'SELECT * FROM things WHERE id > :lo'}}\n",
            "params",
            "placeholder :lo has no value",
        ),
        (
            "- {id: src, component: read_sql, with: {connection: warehouse, table: things}}\n"
            "- {id: out, component: write_sql, input: src, with: {connection: warehouse, table: nothere}}\n",
            "table",
            "no table 'nothere' in the database. Did you mean 'other'?",
        ),
        (
            "- {id: src, component: read_sql, with: {connection: warehouse, table: things}}\n"
            "- {id: out, component: write_sql, input: src, with: {connection: warehouse, table: other}}\n",
            "table",
            "the table 'other' has no column 'count'",
        ),
        (
            "- {id: src, component: read_sql, with: {connection: warehouse, query: 'SELECT name AS id FROM things'}}\n"
            "- {id: out, component: write_sql, input: src, with: {connection: warehouse, table: other}}\n",
            "table",
            "type mismatch: column 'id'",
        ),
        (
            "- {id: src, component: read_sql, with: {connection: warehouse, table: other}}\n"
            "- {id: out, component: write_sql, input: src, with: {connection: warehouse, table: other, "
            "mode: upsert, keys: [label]}}\n",
            "keys",
            "upsert needs a primary key or unique constraint on (label)",
        ),
    ],
    ids=[
        "unknown-connection",
        "missing-table",
        "missing-column",
        "bad-partition-column",
        "bad-query",
        "unbound-placeholder",
        "missing-target-table",
        "target-lacks-column",
        "target-type-mismatch",
        "upsert-without-key",
    ],
)
def test_errors_name_the_step_and_field_and_are_recorded(
    project, url, db, typed, steps, field, message, capsys
):
    from aqtra_nb.cli import main
    from aqtra_nb.runs import default_store

    write(url, typed, create=True)
    with db.begin() as connection:
        connection.execute(sa.text("CREATE TABLE other (id INTEGER, label TEXT)"))
    path = flow_file(project, steps)
    with pytest.raises(AqtraError) as info:
        Flow.load(path).plan()
    error = info.value
    assert error.field == field and error.step in ("src", "out") and message in str(error)
    assert str(path) in str(error)

    assert main(["run", str(path), "--no-progress"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("error: ") and message in stderr and "Traceback" not in stderr
    run = default_store().runs(name="sqlflow", limit=1)[0]
    assert run.status == "failed" and message in run.error


def test_unreachable_database(tmp_path, postgres_url):
    dead = (
        sa.engine.make_url(postgres_url).set(port=1, database="nowhere").render_as_string(hide_password=False)
    )
    f = Flow("x")
    f.read_sql("src", url=dead, table="t")
    with pytest.raises(AqtraError) as info:
        f.plan()
    assert info.value.field == "url" and info.value.step == "src"
    assert "cannot connect to postgresql+psycopg://postgres@127.0.0.1:1/nowhere" in str(info.value)
    missing_dir = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"
    g = Flow("y")
    g.read_sql("src", url=missing_dir, table="t")
    with pytest.raises(AqtraError, match="unable to open database file") as info:
        g.plan()
    assert info.value.field == "url"


def test_a_password_in_a_url_is_refused():
    f = Flow("x")
    with pytest.raises(FlowValidationError, match="password in clear") as info:
        f.read_sql("src", url="postgresql+psycopg://me:hunter2@db.example/sales", table="t")
    assert "hunter2" not in str(info.value) and info.value.field == "with"


def test_a_failure_while_writing_is_a_failed_step_in_the_cli_and_the_run_record(
    project, url, db, target, capsys
):
    from aqtra_nb.cli import main
    from aqtra_nb.runs import default_store

    keyed([1, 50], "dup").to_csv(project / "rows.csv", index=False)
    path = flow_file(
        project,
        """\
        - {id: rows, component: read_csv, with: {path: rows.csv}}
        - {id: save, component: write_sql, input: rows, with: {connection: warehouse, table: target}}
        """,
    )
    assert main(["run", str(path), "--no-progress"]) == 1
    stderr = capsys.readouterr().err
    assert "step 'save', field 'table'" in stderr and "write_sql failed" in stderr
    assert "UNIQUE" in stderr.upper() and "Traceback" not in stderr
    run = default_store().runs(name="sqlflow", limit=1)[0]
    assert run.status == "failed"
    assert [(s.step_id, s.status) for s in run.steps if s.status == "failed"] == [("save", "failed")]
    assert [r[0] for r in table_rows(db, target)] == [1, 2, 3]


# -- the example notebook -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_sql_notebook_runs_against_postgresql(postgres_database, tmp_path, monkeypatch):
    import nbformat
    from test_notebooks import NOTEBOOKS_DIR, execute, problems

    monkeypatch.setenv("AQTRA_EXAMPLE_DATABASE_URL", postgres_database)
    nb = execute(nbformat.read(NOTEBOOKS_DIR / "04-sql-flow.ipynb", as_version=4), tmp_path)
    assert not problems(nb), "\n".join(problems(nb))
    engine = sa.create_engine(postgres_database)
    with engine.connect() as connection:
        totals = pd.read_sql("SELECT * FROM demo_region_revenue", connection)
        orders = pd.read_sql("SELECT * FROM demo_orders", connection)
    engine.dispose()
    big = orders[(orders.amount >= 100) & orders.status.isin(["paid", "shipped"])]
    expected = big.groupby("region")["amount"].sum()
    got = totals.set_index("region")["revenue"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


def test_reads_cannot_change_data(url, db, typed):
    write(url, typed, create=True)
    f = Flow("sneaky")
    f.read_sql("q", url=url, query="WITH gone AS (DELETE FROM things RETURNING id) SELECT id FROM gone")
    with pytest.raises(AqtraError) as info:
        f.plan()
    assert info.value.field == "query" and "the query fails" in str(info.value)
    if backend(url) == "postgresql":  # and reads run in READ ONLY transactions
        with db.begin() as connection:
            connection.execute(sa.text("CREATE SEQUENCE counter"))
        f = Flow("sneaky")
        f.read_sql("q", url=url, query="SELECT nextval('counter') AS n")
        with pytest.raises(StepFailed) as info:
            f.run(progress=False, record=False)
        assert info.value.field == "query"
        assert "cannot execute nextval() in a read-only transaction" in str(info.value)
    assert len(read(url, table="things")) == len(typed)


def test_text_substitution_is_refused_in_sql_queries(tmp_path):
    """`${name}` would format a value into the SQL; the error says to bind it instead."""
    url = f"sqlite:///{tmp_path / 'q.db'}"
    f = Flow("injectable", parameters={"region": "north"})
    with pytest.raises(AqtraError) as info:
        f.read_sql("q", url=url, query="SELECT * FROM things WHERE region = '${region}'")
    assert (info.value.step, info.value.field) == ("q", "with.query")
    assert "`${region}` is not substituted in `query`" in str(info.value) and ":name" in str(info.value)

    path = tmp_path / "injectable.flow.yaml"
    path.write_text(
        "flow: injectable\n"
        "parameters: {region: {type: string, default: north}}\n"
        "steps:\n"
        "  - id: q\n"
        "    component: read_sql\n"
        f"    with: {{url: '{url}', query: \"SELECT * FROM things WHERE region = '${{region}}'\"}}\n"
    )
    with pytest.raises(AqtraError) as info:
        Flow.load(path).plan()
    assert (info.value.file, info.value.step, info.value.field) == (str(path), "q", "with.query")
