"""Shared fixtures: the synthetic sales tables (in memory and as files) and helpers to compare and plan."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import dask
import dask.dataframe as dd
import pandas as pd
import pytest

from aqtra_nb import AqtraError, Flow, datasets


@pytest.fixture(autouse=True, scope="session")
def aqtra_home(tmp_path_factory: pytest.TempPathFactory):
    """Runs are recorded by default: keep the tests' records (and secrets) out of the user's ~/.aqtra_nb.
    Subprocesses inherit it. Tests that want PostgreSQL ask for it explicitly (`store` fixture)."""
    home = tmp_path_factory.mktemp("aqtra_home")
    saved = {key: os.environ.pop(key, None) for key in ("AQTRA_HOME", "AQTRA_DATABASE_URL")}
    os.environ["AQTRA_HOME"] = str(home)
    yield home
    for key, value in saved.items():
        os.environ.pop(key, None)
        if value is not None:
            os.environ[key] = value


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL server URL: the one `.ci/run` started, or a throwaway cluster started here."""
    url = os.environ.get("AQTRA_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    from postgres_server import PostgresServer

    server = PostgresServer()
    if not server.available:
        pytest.skip("no PostgreSQL here: set AQTRA_TEST_POSTGRES_URL or install Debian's postgresql")
    yield server.start()
    server.stop()


@pytest.fixture
def postgres_database(postgres_url: str) -> str:
    """A fresh, empty database on the test server, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on an embedded SQLite file and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'aqtra.db'}"
    return request.getfixturevalue("postgres_database")


SALES_SCALE = 0.002  # 2,000 orders, 50 customers, 20 products, 8 regions


@pytest.fixture(scope="session")
def sales() -> dict[str, pd.DataFrame]:
    """`datasets.sales(scale=0.002)`: orders, customers, products, regions. Shared: do not modify."""
    return datasets.sales(scale=SALES_SCALE, seed=42)


@pytest.fixture(scope="session")
def sales_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with `<table>.parquet` and `<table>.csv` for every sales table (same data as `sales`)."""
    directory = tmp_path_factory.mktemp("sales")
    datasets.write_sales(directory, scale=SALES_SCALE, seed=42)
    return directory


def to_dask(frame: pd.DataFrame, npartitions: int = 4) -> dd.DataFrame:
    """A Dask frame of several partitions with the pandas dtypes unchanged (Dask would otherwise turn
    `str` and object columns, lists included, into its own `string[pyarrow]`)."""
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_pandas(frame, npartitions=npartitions, sort=False)


@pytest.fixture(scope="session")
def partitioned() -> Callable[..., dd.DataFrame]:
    """`partitioned(frame, npartitions=4)`: the frame as Dask partitions, to pass to `from_frame`."""
    return to_dask


def assert_same_frame(
    result: pd.DataFrame,
    expected: pd.DataFrame,
    *,
    sort_by: str | Sequence[str] | None = None,
    **kwargs: object,
) -> None:
    """`assert_frame_equal` after sorting both frames by `sort_by` (when row order is not defined) and
    resetting their indexes."""
    if sort_by is not None:
        keys = [sort_by] if isinstance(sort_by, str) else list(sort_by)
        result = result.sort_values(keys, kind="stable")
        expected = expected.sort_values(keys, kind="stable")
    pd.testing.assert_frame_equal(result.reset_index(drop=True), expected.reset_index(drop=True), **kwargs)


@pytest.fixture(scope="session")
def assert_same() -> Callable[..., None]:
    """`assert_same(result, expected, sort_by=None, **assert_frame_equal_options)`."""
    return assert_same_frame


@pytest.fixture(scope="session")
def plan_error() -> Callable[..., AqtraError]:
    """`plan_error(flow, kind=AqtraError, **run_options)`: the error that planning the flow raises."""

    def plan(flow: Flow, kind: type[AqtraError] = AqtraError, **options: object) -> AqtraError:
        with pytest.raises(kind) as info:
            flow.plan(**options)
        return info.value

    return plan


# Plan-time type checks (tests/expr/test_types.py, tests/components/test_aggregate_types.py): one step of
# `component` with `with_` over a small orders Parquet file, validated by the CLI.
TYPED_FLOW = """\
flow: typed
parameters:
  limit: {{type: integer, default: 3}}
steps:
  - id: orders
    component: read_parquet
    with: {{path: {path}}}
  - id: pick
    component: {component}
    input: orders
    with: {with_}
"""


@pytest.fixture
def typed_flow() -> str:
    """TYPED_FLOW for tests in folders whose own conftest.py shadows this one's module name."""
    return TYPED_FLOW


@pytest.fixture(scope="module")
def typed_orders(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("typed")
    return datasets.write_sales(folder, scale=0.0005, formats=("parquet",))["orders"]["parquet"]


@pytest.fixture
def validate_typed(
    typed_orders: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> Callable[..., tuple[int, str]]:
    """`validate_typed(with_, component)`: (exit code, stderr) of `aqtra-nb validate` on TYPED_FLOW."""
    from aqtra_nb.cli import main

    def run(with_: str, component: str) -> tuple[int, str]:
        path = tmp_path / "typed.flow.yaml"
        path.write_text(TYPED_FLOW.format(path=typed_orders, component=component, with_=with_))
        code = main(["validate", str(path)])
        _, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, err

    return run


# Browser tests: Playwright's sync API driving the system's Chromium (never a downloaded one). One browser
# per test module, stopped with the module: a running Playwright keeps an event loop running in the
# main thread, which would break later tests that call asyncio.run (pytest-playwright's own `browser`
# lives for the whole session, so it is not used).


@pytest.fixture(scope="module")
def browser():
    from aqtra_nb.errors import AqtraError
    from aqtra_nb.publish.browser import launch_args, sync_playwright

    try:
        options = launch_args()
    except AqtraError as exc:  # CI installs Debian's chromium (.ci/run); elsewhere say what is missing
        pytest.skip(str(exc))
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**options)
        yield launched
        launched.close()


@pytest.fixture
def context(browser):
    created = browser.new_context(viewport={"width": 1280, "height": 1000})
    yield created
    created.close()


@pytest.fixture
def page(context):
    return context.new_page()
