"""The run store on SQLite and PostgreSQL: migrations, flow versions, run records from the event stream."""

import datetime as dt
import json
import subprocess
import sys

import pandas as pd
import pytest
from sqlalchemy import inspect, text

from aqtra_nb import Flow, StepFailed
from aqtra_nb.store import Store, StoreError
from aqtra_nb.store.database import make_engine, migrate


def boom(df):
    if len(df):  # planning calls it on an empty frame: fail on data only
        raise RuntimeError("boom")
    return df


def small_flow() -> Flow:
    f = Flow("recorded", parameters={"limit": 2})
    f.from_frame("src", pd.DataFrame({"x": [1, 2, 3, 4]})).filter("small", condition="x <= @limit")
    return f


def test_migrations_create_the_schema(database_url):
    store = Store(database_url)
    tables = set(inspect(store.engine).get_table_names())
    assert {"flows", "runs", "step_runs", "artifacts", "secrets", "entity_types", "alembic_version"} <= tables
    Store(database_url)  # opening again is a no-op
    with store.engine.connect() as connection:
        versions = set(connection.execute(text("select version_num from alembic_version")).scalars())
    from alembic.script import ScriptDirectory

    from aqtra_nb.store.database import MIGRATIONS

    assert versions == set(ScriptDirectory(str(MIGRATIONS)).get_heads())  # every branch at its head
    store.close()


def test_schema_matches_the_models(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from aqtra_nb.store.models import Base

    store = Store(database_url)
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    store.close()


def test_runs_are_recorded_from_the_event_stream(database_url):
    store = Store(database_url)
    flow = small_flow()
    result = flow.run(limit=3, record=store, progress=False)
    run = store.run(result.run_id[:6])
    assert run.status == "succeeded" and run.name == "recorded"
    assert run.parameters == {"limit": 3}
    assert {s.step_id: s.rows for s in run.steps} == {"src": 4, "small": 3}
    assert run.finished_at is not None and run.seconds >= 0
    # times come back tz-aware (UTC) on every backend, so they compare with each other and with now()
    assert run.started_at.utcoffset() == run.finished_at.utcoffset() == dt.timedelta(0)
    assert run.started_at <= run.finished_at <= dt.datetime.now(dt.UTC)
    assert run.flow.document["flow"] == "recorded"

    flow.run(limit=1, record=store, progress=False)
    assert len(store.flow_versions("recorded")) == 1  # same content, one version
    flow.step("small").limit("first", rows=1)
    flow.run(record=store, progress=False)
    assert len(store.flow_versions("recorded")) == 2
    assert [r.parameters["limit"] for r in store.runs(name="recorded")] == [2, 1, 3]
    store.close()


def test_failed_runs_are_recorded_with_the_error(database_url):
    store = Store(database_url)
    f = Flow("failing")
    f.from_frame("src", pd.DataFrame({"x": [1]})).script("bad", function=boom)
    with pytest.raises(StepFailed):
        f.run(record=store, progress=False)
    (run,) = store.runs(name="failing")
    assert run.status == "failed" and "boom" in run.error
    assert {s.step_id: s.status for s in run.steps}["bad"] == "failed"

    with pytest.raises(Exception, match="unknown parameter"):
        small_flow().run(record=store, progress=False, limt=1)
    (planning,) = store.runs(name="recorded")
    assert planning.status == "failed" and "unknown parameter 'limt'" in planning.error
    store.close()


def test_record_false_writes_nothing(database_url):
    store = Store(database_url)
    small_flow().run(record=False, progress=False)
    assert store.runs() == []
    store.close()


def test_unknown_run_id_is_a_clear_error(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    with pytest.raises(Exception, match="no run with id 'nope'"):
        store.run("nope")


def test_bad_urls_are_clear_errors(tmp_path):
    with pytest.raises(StoreError, match="not a database URL"):
        Store("not a url")
    with pytest.raises(StoreError, match="no database driver"):
        Store("nosuchdb://x/y")
    with pytest.raises(
        StoreError, match=r"cannot open the database postgresql\+psycopg://u:\*\*\*@127.0.0.1:1/x"
    ):
        Store("postgresql+psycopg://u:secretpw@127.0.0.1:1/x")


def test_the_store_url_may_name_environment_variables(database_url, monkeypatch):
    """`AqtraNb.database_url` may keep its password (here: the database name) in the environment: read when
    the engine is made, the reference kept in `Store.url` (what run processes are given)."""
    prefix, name = database_url.rsplit("/", 1)
    monkeypatch.setenv("AQTRA_TEST_STORE_DB", name)
    url = prefix + "/${env:AQTRA_TEST_STORE_DB}"
    store = Store(url)
    result = small_flow().run(record=store, progress=False)
    assert store.url == url
    store.close()
    assert Store(database_url).run(result.run_id).status == "succeeded"  # the same database
    monkeypatch.delenv("AQTRA_TEST_STORE_DB")
    with pytest.raises(StoreError, match="store's database URL .*'AQTRA_TEST_STORE_DB' is not set"):
        Store(url)
    with pytest.raises(StoreError, match=r"use \$\{env:NAME\}"):
        Store(prefix + "/${secret:DB}")


def test_upgrade_keeps_rows_from_the_first_migration(database_url):
    """Start at the first migration with data in it, then upgrade to head: nothing is lost."""
    engine = make_engine(database_url)
    migrate(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "insert into runs (id, kind, name, parameters, status, started_at) "
                "values ('r1', 'flow', 'old', '{\"a\": 1}', 'succeeded', CURRENT_TIMESTAMP)"
            )
        )
    store = Store(engine=engine)
    run = store.run("r1")
    assert run.name == "old" and run.parameters == {"a": 1}
    store.close()


def test_sqlite_uses_wal(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    with store.engine.connect() as connection:
        assert connection.execute(text("pragma journal_mode")).scalar() == "wal"


def test_cli_runs_list_and_show(tmp_path, sales_dir):
    env_home = tmp_path / "home"
    flow_file = tmp_path / "f.flow.yaml"
    flow_file.write_text(
        f"flow: cli_recorded\nsteps:\n  - {{id: r, component: read_parquet, with: {{path: {sales_dir}/regions.parquet}}}}\n"
    )
    env = {**__import__("os").environ, "AQTRA_HOME": str(env_home)}

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "aqtra_nb.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    assert cli("run", str(flow_file), "--json").returncode == 0
    listed = json.loads(cli("runs", "list", "--json").stdout)
    assert len(listed) == 1 and listed[0]["flow"] == "cli_recorded" and listed[0]["steps"]["r"]["rows"] == 8
    shown = cli("runs", "show", listed[0]["run_id"][:5])
    assert shown.returncode == 0 and "cli_recorded" in shown.stdout and "succeeded" in shown.stdout
    missing = cli("runs", "show", "zzz")
    assert missing.returncode == 2 and "no run with id 'zzz'" in missing.stderr
    assert cli("run", str(flow_file), "--no-record").returncode == 0
    assert len(json.loads(cli("runs", "list", "--json").stdout)) == 1
