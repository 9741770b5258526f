"""Entity components on SQLite and PostgreSQL: read_model pushes its filter into the SQL as bound parameters,
lookup_reference and load_references resolve references, write_model writes in one transaction per run."""

import datetime as dt

import dask
import dask.dataframe as dd
import pandas as pd
import pytest
import sqlalchemy as sa

from aqtra_nb import Flow, FlowValidationError, StepFailed, UnknownColumn
from aqtra_nb.entities import Entity, PrimaryKey, Reference
from aqtra_nb.store import Store

RUN_MODES = ["in_memory", "partitioned"]


class Vendor(Entity):
    code: PrimaryKey[str]
    name: str
    country: str | None = None


class Invoice(Entity):
    number: PrimaryKey[int]
    amount: float
    vendor: Reference[Vendor] | None = None
    issued: dt.date | None = None
    paid: bool = False


class Part(Entity):
    sku: PrimaryKey[str]
    replaced_by: Reference["Part"] | None = None


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    Entity.bind(store)
    yield store
    Entity.bind(None)
    store.close()


@pytest.fixture
def vendors(store):
    Vendor.write(
        pd.DataFrame(
            {
                "code": ["ACME", "BOLT", "CORE"],
                "name": ["Acme", "Bolt", "Core"],
                "country": ["DE", "FR", None],
            }
        )
    )
    return {v.code: v.id for v in Vendor.all()}


@pytest.fixture
def invoices(vendors):
    Invoice.write(
        [
            {"number": 1, "amount": 120.0, "vendor": vendors["ACME"], "issued": dt.date(2024, 1, 5)},
            {"number": 2, "amount": 40.0, "vendor": vendors["BOLT"], "paid": True},
            {"number": 3, "amount": 990.0, "vendor": None, "issued": dt.date(2024, 3, 1)},
        ]
    )
    return vendors


class Statements:
    """The SQL sent to the database, with its parameters (`before_cursor_execute`)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.sent = engine, []

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._capture)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._capture)

    def _capture(self, conn, cursor, statement, parameters, context, executemany):
        self.sent.append((statement, parameters))

    def selecting(self, table: str) -> list[tuple[str, object]]:
        return [
            (s, p) for s, p in self.sent if s.lstrip().upper().startswith("SELECT") and f"FROM {table}" in s
        ]


def run(flow: Flow, mode: str = "auto", **params):
    return flow.run(params, progress=False, record=False, mode=mode)


def table_frame(entity) -> pd.DataFrame:
    return entity.frame().drop(columns=["created_at", "updated_at", "created_by", "updated_by"])


# -- read_model -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", RUN_MODES)
def test_read_model_pushes_filter_and_columns_into_bound_sql(store, invoices, mode):
    f = Flow("r", parameters={"min_amount": 100.0})
    f.read_model(
        "big", entity="Invoice", filter="amount >= @min_amount and not paid", columns=["number", "amount"]
    )
    with Statements(store.engine) as sql:
        result = run(f, mode, min_amount=100.0)
    assert result["big"].to_dict("list") == {"number": [1, 3], "amount": [120.0, 990.0]}
    assert result["big"].dtypes.astype(str).to_dict() == {"number": "Int64", "amount": "float64"}
    reads = [(s, p) for s, p in sql.selecting("entity_invoice") if "count(" not in s.lower()]
    assert len(reads) == 1
    statement, parameters = reads[0]
    assert "WHERE" in statement and "100" not in statement  # the value is a bound parameter
    assert 100.0 in (parameters.values() if isinstance(parameters, dict) else parameters)
    assert "vendor" not in statement.split("FROM")[0]  # only the needed columns


def test_a_filter_step_after_read_model_is_pushed_into_the_sql_too(store, invoices):
    f = Flow("r")
    f.read_model("all", entity="Invoice").filter("unpaid", condition="paid == false and amount > 50")
    assert "filter pushed into reader: SQL WHERE paid == False and amount > 50" in f.plan().explain()
    with Statements(store.engine) as sql:
        result = run(f, "partitioned")
    assert result["unpaid"]["number"].tolist() == [1, 3]
    (statement, _), *_ = [r for r in sql.selecting("entity_invoice") if "count(" not in r[0].lower()]
    assert "WHERE" in statement and "50" not in statement


def test_read_model_schema_comes_from_the_entity_without_the_store(store):
    f = Flow("r")
    f.read_model("rows", entity="Invoice")
    plan = f.plan()
    assert plan.steps["rows"].columns == {
        "id": "Int64",
        "number": "Int64",
        "amount": "float64",
        "vendor": "Int64",
        "issued": "datetime64[s]",
        "paid": "boolean",
        "created_at": "datetime64[us, UTC]",
        "updated_at": "datetime64[us, UTC]",
        "created_by": "str",
        "updated_by": "str",
    }
    assert not sa.inspect(store.engine).has_table("entity_invoice")  # planning touched no table


def test_read_model_mistakes_fail_in_planning(store, plan_error):
    f = Flow("r")
    f.read_model("rows", entity="Invoce")
    error = plan_error(f, FlowValidationError)
    assert error.step == "rows" and error.field == "entity" and "Did you mean 'Invoice'" in str(error)

    f = Flow("r")
    f.read_model("rows", entity="Invoice", filter="amout > 3")
    error = plan_error(f, UnknownColumn)
    assert error.field == "filter" and "Did you mean 'amount'" in str(error)

    f = Flow("r")
    f.read_model("rows", entity="Invoice", filter="amount % 2 == 0")
    assert "cannot be translated to SQL" in str(plan_error(f))

    f = Flow("r")
    f.read_model("rows", entity="Invoice", columns=["number", "total"])
    assert plan_error(f, UnknownColumn).field == "columns"


def test_entities_named_by_module_in_a_flow_file(store, invoices):
    f = Flow.from_yaml(
        f"""
flow: by_module
steps:
  - id: vendors
    component: read_model
    with: {{entity: "{__name__}:Vendor", filter: "not_null(country)", columns: [code]}}
"""
    )
    assert run(f)["vendors"]["code"].tolist() == ["ACME", "BOLT"]


# -- lookup_reference and load_references ------------------------------------------------------------------


@pytest.mark.parametrize("mode", RUN_MODES)
def test_lookup_reference_maps_keys_to_ids(store, vendors, partitioned, mode):
    rows = pd.DataFrame(
        {"number": [10, 11, 12, 13], "amount": [1.0, 2.0, 3.0, 4.0], "vendor": ["BOLT", "ACME", None, "BOLT"]}
    )
    f = Flow("l")
    f.from_frame("rows", partitioned(rows, 2)).lookup_reference("ids", entity="Vendor", key="vendor")
    out = run(f, mode)["ids"]
    assert str(out["vendor"].dtype) == "Int64"
    assert out["vendor"].tolist() == [vendors["BOLT"], vendors["ACME"], pd.NA, vendors["BOLT"]]


def test_lookup_reference_of_unknown_keys_fails_or_gives_null(store, vendors):
    rows = pd.DataFrame({"supplier_code": ["ACME", "NOPE"]})
    f = Flow("l")
    f.from_frame("rows", rows).lookup_reference("ids", entity="Vendor", key="supplier_code", output="vendor")
    with pytest.raises(StepFailed, match="no Vendor record with code 'NOPE'"):
        run(f)
    f = Flow("l")
    f.from_frame("rows", rows).lookup_reference(
        "ids", entity="Vendor", key="supplier_code", output="vendor", missing="null"
    )
    out = run(f)["ids"]
    assert out.columns.tolist() == ["supplier_code", "vendor"] and out["vendor"].tolist() == [
        vendors["ACME"],
        pd.NA,
    ]


@pytest.mark.parametrize("mode", RUN_MODES)
def test_load_references_adds_the_referenced_fields(store, invoices, mode):
    f = Flow("j")
    f.read_model("inv", entity="Invoice", columns=["number", "vendor"]).load_references(
        "full", entity="Vendor", column="vendor", fields=["name", "country"]
    )
    out = run(f, mode)["full"]
    assert out.columns.tolist() == ["number", "vendor", "vendor_name", "vendor_country"]
    assert out["vendor_name"].tolist()[:2] == ["Acme", "Bolt"] and pd.isna(out["vendor_name"].tolist()[2])
    assert str(out["vendor_name"].dtype) == "str"
    plan = f.plan()
    assert plan.steps["full"].columns["vendor_country"] == "str"


# -- write_model ------------------------------------------------------------------------------------------


def write(rows: pd.DataFrame, mode: str, run_mode: str = "auto", partitions: int = 2, **params):
    f = Flow("w")
    source = f.from_frame("rows", rows if run_mode == "in_memory" else _dask(rows, partitions))
    source.write_model("save", entity="Invoice", mode=mode, **params)
    return run(f, run_mode)


def _dask(frame, partitions):
    """Several partitions, pandas dtypes kept (no `from conftest import`: another folder's conftest may
    hold that module name by the time this runs)."""
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_pandas(frame, npartitions=partitions, sort=False)


@pytest.mark.parametrize("run_mode", RUN_MODES)
def test_write_model_modes(store, vendors, run_mode):
    created = write(
        pd.DataFrame(
            {"number": [1, 2, 3], "amount": [10.0, 20.0, 30.0], "vendor": [vendors["ACME"], None, None]}
        ),
        "create",
        run_mode,
    )
    assert created.steps["save"].rows == 3
    assert table_frame(Invoice)[["number", "amount", "paid"]].to_dict("list") == {
        "number": [1, 2, 3],
        "amount": [10.0, 20.0, 30.0],
        "paid": [False, False, False],  # the default
    }
    write(pd.DataFrame({"number": [2], "paid": [True]}), "update", run_mode)
    write(pd.DataFrame({"number": [3, 4], "amount": [33.0, 40.0]}), "upsert", run_mode)
    assert table_frame(Invoice)[["number", "amount", "paid"]].to_dict("list") == {
        "number": [1, 2, 3, 4],
        "amount": [10.0, 20.0, 33.0, 40.0],
        "paid": [False, True, False, False],
    }
    ids = Invoice.frame(columns=["id", "number"])
    write(ids[ids["number"] >= 3][["id"]], "delete", run_mode)
    assert Invoice.frame()["number"].tolist() == [1, 2]


def test_write_model_round_trip_from_read_model(store, invoices):
    f = Flow("bump")
    f.read_model("unpaid", entity="Invoice", filter="not paid").script(
        "raise_10pct", function=lambda df: df.assign(amount=df["amount"] * 1.1)
    ).write_model("save", entity="Invoice", mode="update")
    assert run(f).steps["save"].rows == 2
    assert Invoice.frame(order_by="number")["amount"].round(2).tolist() == [132.0, 40.0, 1089.0]


def boom_on_data(df):
    if len(df):
        raise RuntimeError("upstream broke")
    return df


@pytest.mark.parametrize("run_mode", RUN_MODES)
@pytest.mark.parametrize(
    ("case", "rows", "mode", "message"),
    [
        (
            "a bad value in the last row",
            {"number": [2, 3, 7], "amount": [1.0, 2.0, None]},
            "upsert",
            "row 3, field 'amount'",
        ),
        (
            "a duplicate key",
            {"number": [7, 1], "amount": [1.0, 2.0]},
            "create",
            "with number 1 exists already",
        ),
        (
            "a missing record",
            {"number": [2, 99], "paid": [True, True]},
            "update",
            "no Invoice record with number 99",
        ),
        (
            "a dangling reference",
            {"number": [8], "amount": [1.0], "vendor": [12345]},
            "create",
            "no Vendor record",
        ),
    ],
)
def test_a_failed_write_leaves_the_table_unchanged(store, invoices, run_mode, case, rows, mode, message):
    before = table_frame(Invoice)
    with pytest.raises(StepFailed) as info:
        write(pd.DataFrame(rows), mode, run_mode)
    assert info.value.step == "save" and message in str(info.value), case
    pd.testing.assert_frame_equal(table_frame(Invoice), before)


def test_a_failing_upstream_step_writes_nothing(store, invoices):
    before = table_frame(Invoice)
    f = Flow("w")
    f.from_frame("rows", _dask(pd.DataFrame({"number": [5, 6], "amount": [1.0, 2.0]}), 2)).script(
        "boom", function=boom_on_data
    ).write_model("save", entity="Invoice")
    with pytest.raises(StepFailed, match="upstream broke"):
        run(f, "partitioned")
    pd.testing.assert_frame_equal(table_frame(Invoice), before)


def test_a_database_error_mid_write_rolls_back_the_statements_before_it(store):
    Part.create(sku="A")
    first = Part.frame(columns=["id", "sku"])
    rows = pd.DataFrame({"sku": ["A", "B"], "replaced_by": [first["id"][0], 99999]})
    f = Flow("w")
    f.from_frame("rows", rows).write_model("save", entity="Part", mode="upsert")
    with Statements(store.engine) as sql:
        with pytest.raises(StepFailed, match="database refused the write"):
            run(f)
    assert any(s.lstrip().upper().startswith("UPDATE") for s, _ in sql.sent)  # A was updated, then B failed
    parts = Part.frame()
    assert parts["sku"].tolist() == ["A"] and parts["replaced_by"].isna().all()


def test_write_model_checks_columns_in_planning(store, plan_error):
    f = Flow("w")
    f.from_frame("rows", pd.DataFrame({"number": [1], "amout": [1.0]})).write_model("save", entity="Invoice")
    error = plan_error(f, UnknownColumn)
    assert error.step == "save" and "Did you mean 'amount'" in str(error)

    f = Flow("w")
    f.from_frame("rows", pd.DataFrame({"amount": [1.0]})).write_model("save", entity="Invoice")
    assert "requires field(s) number" in str(plan_error(f, FlowValidationError))

    f = Flow("w")
    f.from_frame("rows", pd.DataFrame({"amount": [1.0]})).write_model("save", entity="Invoice", mode="update")
    assert plan_error(f, UnknownColumn).field == "key"
