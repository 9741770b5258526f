"""Planning validates everything before data is read, with errors located at file, step and field."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aqtra_nb.engine import plan_flow
from aqtra_nb.errors import (
    ExpressionError,
    FlowValidationError,
    ParameterError,
    UnknownColumn,
    UnknownComponent,
)
from aqtra_nb.spec import parse_flow

HEAD = """\
flow: t
parameters:
  min_amount: {type: number, default: 10}
steps:
  - id: orders
    component: read_parquet
    with: {path: orders.parquet}
"""


@pytest.fixture
def orders_file(tmp_path):
    frame = pd.DataFrame(
        {
            "order_id": range(6),
            "region": ["N", "S", "N", "E", "S", "N"],
            "status": ["paid", "paid", "cancelled", "paid", "shipped", "paid"],
            "amount": [5.0, 20.0, 30.0, 40.0, 50.0, 60.0],
            "discount": [0.0, 0.1, 0.0, 0.2, 0.0, 0.5],
            "note": ["a", "b", "c", "d", "e", "f"],
        }
    )
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "orders.parquet", row_group_size=2
    )
    return tmp_path


def plan_text(folder, steps: str, **params):
    path = folder / "t.flow.yaml"
    path.write_text(HEAD + steps)
    spec = parse_flow(path.read_text(), source=str(path))
    return plan_flow(spec, params)


def test_schemas_are_inferred_for_every_step(orders_file):
    plan = plan_text(
        orders_file,
        """\
  - id: net
    component: derive
    input: orders
    with: {columns: {net: "amount * (1 - discount)", big: "amount >= @min_amount"}}
  - id: totals
    component: aggregate
    input: net
    with: {by: [region], aggregations: {revenue: "sum(net)", n: "count()", m: "max(amount)"}}
""",
    )
    assert plan.order == ["orders", "net", "totals"]
    assert plan.steps["net"].columns["net"] == "float64"
    assert plan.steps["net"].columns["big"] in ("bool", "boolean")
    assert list(plan.steps["totals"].columns) == ["region", "revenue", "n", "m"]
    assert plan.steps["totals"].columns["n"] == "int64"


def test_unknown_column_names_file_step_field_and_hint(orders_file):
    with pytest.raises(UnknownColumn) as info:
        plan_text(
            orders_file,
            """\
  - id: big
    component: filter
    input: orders
    with: {condition: "ammount >= @min_amount"}
""",
        )
    message = str(info.value)
    assert message.startswith(
        f"{orders_file / 't.flow.yaml'}, step 'big', field 'condition': unknown column 'ammount'"
    )
    assert "Did you mean 'amount'?" in message
    assert info.value.step == "big" and info.value.field == "condition"


def test_unknown_column_in_a_list_field(orders_file):
    with pytest.raises(
        UnknownColumn, match=r"step 'totals', field 'by': unknown column 'regoin'\. Did you mean 'region'"
    ):
        plan_text(
            orders_file,
            """\
  - id: totals
    component: aggregate
    input: orders
    with: {by: [regoin], aggregations: {n: "count()"}}
""",
        )


def test_unknown_column_downstream_of_a_rename_is_caught(orders_file):
    with pytest.raises(UnknownColumn, match="step 'after', field 'condition'.*Did you mean 'total'"):
        plan_text(
            orders_file,
            """\
  - id: renamed
    component: select
    input: orders
    with: {columns: {amount: total, region: region}}
  - id: after
    component: filter
    input: renamed
    with: {condition: "total > 1 or totl > 2"}
""",
        )


def test_bad_expression_gives_position(orders_file):
    with pytest.raises(ExpressionError) as info:
        plan_text(
            orders_file,
            """\
  - id: big
    component: filter
    input: orders
    with: {condition: "amount.__class__ > 1"}
""",
        )
    assert info.value.step == "big" and info.value.field == "condition"
    assert info.value.position is not None
    assert "column" in str(info.value)


def test_unknown_parameter_in_expression(orders_file):
    with pytest.raises(
        ParameterError,
        match=r"step 'big', field 'condition': @min_amout is not a flow parameter\. "
        r"Did you mean 'min_amount'",
    ):
        plan_text(
            orders_file,
            """\
  - id: big
    component: filter
    input: orders
    with: {condition: "amount >= @min_amout"}
""",
        )


@pytest.mark.parametrize(
    ("steps", "expected", "error"),
    [
        (
            "  - {id: orders, component: filter, input: orders, with: {condition: 'true'}}\n",
            "step 'orders', field 'id': duplicate step id",
            FlowValidationError,
        ),
        (
            "  - {id: x, component: filter, input: ordrs, with: {condition: 'true'}}\n",
            "step 'x', field 'input': unknown input step 'ordrs'. Did you mean 'orders'?",
            FlowValidationError,
        ),
        (
            "  - {id: x, component: filtr, input: orders}\n",
            "step 'x', field 'component': unknown component 'filtr'. Did you mean 'filter'?",
            UnknownComponent,
        ),
        (
            "  - {id: x, component: filter, input: orders, with: {conditon: 'true'}}\n",
            "step 'x', field 'with.conditon': unknown parameter 'conditon' for component 'filter'. "
            "Did you mean 'condition'?",
            FlowValidationError,
        ),
        (
            "  - {id: x, component: limit, input: orders, with: {rows: many}}\n",
            "step 'x', field 'with.rows': Input should be a valid integer",
            FlowValidationError,
        ),
        (
            "  - {id: x, component: filter, input: orders}\n",
            "step 'x', field 'with.condition': component 'filter' requires this parameter",
            FlowValidationError,
        ),
        (
            "  - {id: x, component: join, input: orders, with: {on: region}}\n",
            "step 'x', field 'input': component 'join' takes 2 inputs, got 1",
            FlowValidationError,
        ),
        (
            "  - {id: a, component: filter, input: b, with: {condition: 'true'}}\n"
            "  - {id: b, component: filter, input: a, with: {condition: 'true'}}\n",
            "the steps form a cycle: a -> b -> a",
            FlowValidationError,
        ),
        (
            "  - {id: x, component: read_csv, with: {path: '${folder}/x.csv'}}\n",
            "step 'x', field 'with.path': `${folder}` refers to no flow parameter",
            ParameterError,
        ),
    ],
)
def test_structural_errors(orders_file, steps, expected, error):
    with pytest.raises(error) as info:
        plan_text(orders_file, steps)
    assert expected in str(info.value)


def test_columns_and_filters_are_pushed_into_the_reader(orders_file):
    plan = plan_text(
        orders_file,
        """\
  - id: big
    component: filter
    input: orders
    with: {condition: "amount >= @min_amount and status in ('paid', 'shipped') and len(note) > 0"}
  - id: totals
    component: aggregate
    input: big
    with: {by: [region], aggregations: {revenue: "sum(amount * (1 - discount))"}}
""",
        min_amount=25,
    )
    reader = plan.steps["orders"]
    assert reader.read_columns == ["region", "status", "amount", "discount", "note"]
    pushed = str(reader.read_filter)
    assert "amount" in pushed and "25" in pushed and "status" in pushed
    assert "note" not in pushed  # not translatable: stays in the filter step only
    assert "filter pushed into reader" in plan.explain()


def test_plan_does_not_read_parquet_row_groups(orders_file, monkeypatch):
    from aqtra_nb.components import inputs

    def boom(self, fragment):
        raise AssertionError("data was read during planning")

    monkeypatch.setattr(inputs._ReadFragment, "__call__", boom)
    plan = plan_text(orders_file, "  - {id: n, component: limit, input: orders, with: {rows: 2}}\n")
    assert list(plan.steps["n"].columns) == ["order_id", "region", "status", "amount", "discount", "note"]


def test_schema_inference_is_memoized_for_the_same_inputs_params_and_parameters(monkeypatch):
    """Re-planning a flow (every run) and repeated steps reuse inferred schemas; anything that can change
    a schema (input dtypes, params, parameter values) gives its own entry."""
    from aqtra_nb import Flow
    from aqtra_nb.components.transforms import Derive
    from aqtra_nb.engine import schemas

    schemas.clear()
    calls = []
    original = Derive.schema
    monkeypatch.setattr(
        Derive, "schema", lambda self, inputs: calls.append(self.ctx.step_id) or original(self, inputs)
    )

    def chain(frame, parameters):
        f = Flow("m", parameters=parameters)
        step = f.from_frame("src", frame)
        for i in range(3):
            step = step.derive(f"d{i}", columns={"x": "x + @step"})
        return f

    ints = chain(pd.DataFrame({"x": [1, 2]}), {"step": 1})
    assert ints.plan().steps["d2"].columns == {"x": "int64"}
    assert calls == ["d0"]  # d1 and d2 have the same input schema as d0
    ints.plan()
    assert calls == ["d0"]
    halves = chain(pd.DataFrame({"x": [1, 2]}), {"step": 0.5})
    assert halves.plan().steps["d2"].columns == {"x": "float64"}
    assert calls == ["d0", "d0", "d1"]  # d1's input is float now; d2 is the same as d1
    floats = chain(pd.DataFrame({"x": [1.5]}), {"step": 1})
    assert floats.plan().steps["d0"].columns == {"x": "float64"}
    renamed = Flow("m")
    renamed.from_frame("src", pd.DataFrame({"x": [1]})).derive("d", columns={"y": "x * 2"})
    assert renamed.plan().steps["d"].columns == {"x": "int64", "y": "int64"}


def test_schemas_of_components_with_user_code_are_not_memoized():
    from aqtra_nb import Flow
    from aqtra_nb.engine import schemas

    schemas.clear()
    seen = []

    def step(df):
        seen.append(len(df))
        return df.assign(y=1)

    f = Flow("s")
    f.from_frame("src", pd.DataFrame({"x": [1]})).script("s", function=step)
    f.plan()
    f.plan()
    assert seen == [0, 0]


def test_an_unknown_column_fails_every_time_it_is_planned():
    from aqtra_nb import Flow

    f = Flow("u")
    f.from_frame("src", pd.DataFrame({"amount": [1]})).derive("d", columns={"y": "amont + 1"})
    for _ in range(2):
        with pytest.raises(UnknownColumn, match="Did you mean 'amount'"):
            f.plan()


def test_schema_signature_names_columns_dtypes_and_index():
    from aqtra_nb.engine import schemas

    frame = pd.DataFrame(
        {
            "a": pd.Series([], dtype="int64"),
            "b": pd.Series([], dtype="str"),
            "c": pd.Series([], dtype="Int64"),
        }
    )
    assert schemas.signature(frame)[:2] == (("a", "b", "c"), tuple(frame.dtypes))
    assert schemas.signature(frame) != schemas.signature(frame.astype({"c": "float64"}))
    assert schemas.signature(frame) != schemas.signature(frame.rename_axis("i"))
    assert schemas.signature(frame) == schemas.signature(frame.copy())
