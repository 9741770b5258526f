"""Components across rows or inputs (join, lookup, aggregate, sort, limit, distinct, union, pivot) against
pandas, on inputs of several Dask partitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aqtra_nb import AqtraError, Flow, FlowValidationError, UnknownColumn


@pytest.fixture
def orders(sales):
    return sales["orders"]


@pytest.fixture
def customers(sales):
    return sales["customers"]


@pytest.fixture
def products(sales):
    return sales["products"]


def run_one(partitioned, frame, component, *, npartitions=4, **params):
    f = Flow("t")
    source = f.from_frame("source", partitioned(frame, npartitions))
    f.add("step", component, [source], **params)
    return f.run(progress=False)["step"]


def run_two(partitioned, left, right, component, *, npartitions=(4, 3), **params):
    f = Flow("t")
    first = f.from_frame("left", partitioned(left, npartitions[0]))
    second = f.from_frame("right", partitioned(right, npartitions[1]))
    f.add("step", component, [first, second], **params)
    return f.run(progress=False)["step"]


# -- join -------------------------------------------------------------------------------------------------


@pytest.fixture
def some_orders(orders):
    """Orders of customers 1..30 only, and customers 20..50 only: every join type differs."""
    return orders[orders["customer_id"] <= 30]


@pytest.fixture
def some_customers(customers):
    return customers[customers["customer_id"] >= 20]


@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
def test_join_on(partitioned, assert_same, some_orders, some_customers, how):
    out = run_two(partitioned, some_orders, some_customers, "join", how=how, on="customer_id")
    expected = some_orders.merge(some_customers, how=how, on="customer_id", suffixes=("", "_right"))
    assert list(out.columns) == list(expected.columns)
    assert "region_right" in out.columns and "name" in out.columns
    assert_same(out, expected, sort_by=["customer_id", "order_id"])


@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
def test_join_left_on_right_on(partitioned, assert_same, some_orders, some_customers, how):
    people = some_customers.rename(columns={"customer_id": "person"})
    out = run_two(partitioned, some_orders, people, "join", how=how, left_on="customer_id", right_on="person")
    expected = some_orders.merge(
        people, how=how, left_on="customer_id", right_on="person", suffixes=("", "_right")
    )
    assert_same(out, expected, sort_by=["customer_id", "person", "order_id"])


def test_join_on_several_keys_with_suffixes(partitioned, assert_same, orders):
    targets = (
        orders.groupby(["region", "status"], as_index=False)
        .agg(amount=("amount", "mean"), quantity=("quantity", "max"))
        .iloc[::2]
    )
    out = run_two(
        partitioned,
        orders,
        targets,
        "join",
        npartitions=(4, 2),
        how="left",
        on=["region", "status"],
        suffixes=["_order", "_target"],
    )
    expected = orders.merge(targets, how="left", on=["region", "status"], suffixes=("_order", "_target"))
    assert {"amount_order", "amount_target", "quantity_order", "quantity_target"} <= set(out.columns)
    assert_same(out, expected, sort_by="order_id")


def test_join_multiplies_rows_for_duplicate_keys(partitioned, assert_same):
    left = pd.DataFrame({"k": [1, 1, 2, 3], "a": [1.0, 2.0, 3.0, 4.0]})
    right = pd.DataFrame({"k": [1, 1, 2, 4], "b": pd.array(["x", "y", "z", "w"], "str")})
    out = run_two(partitioned, left, right, "join", npartitions=(2, 2), how="outer", on="k")
    assert_same(out, left.merge(right, how="outer", on="k"), sort_by=["k", "a", "b"])


@pytest.mark.parametrize("big_first", [True, False])
def test_an_inner_join_of_a_large_and_a_small_input_equals_pandas_merge(partitioned, assert_same, big_first):
    """The same rows as pandas' merge, null keys included, whichever input is the large one (a planner
    may broadcast either, or reduce the large one by the small one's keys)."""
    rng = np.random.default_rng(7)
    keys = pd.array(rng.integers(0, 50_000, 200_000), "Int64")
    keys[::97] = pd.NA
    big = pd.DataFrame({"k": keys, "amount": rng.random(200_000)})
    small = pd.DataFrame(
        {"k": pd.array([*range(0, 3_000, 3), None], "Int64"), "label": [f"s{i}" for i in range(1_001)]}
    )
    left, right = (big, small) if big_first else (small, big)
    out = run_two(partitioned, left, right, "join", how="inner", on="k")
    expected = left.merge(right, how="inner", on="k", suffixes=("", "_right"))
    assert 0 < len(expected) < len(big) / 10
    assert_same(out, expected, sort_by=["k", "amount", "label"])


def _matching_rows(left, right, how, left_on, right_on):
    """pandas' EXISTS / NOT EXISTS: left rows whose keys occur (or not) among the right's."""
    keys = right[right_on].drop_duplicates().set_axis(left_on, axis=1).assign(matched=True)
    marked = left.merge(keys, how="left", on=left_on)
    return marked[marked.matched.notna() == (how == "semi")].drop(columns="matched")


@pytest.mark.parametrize("how", ["semi", "anti"])
@pytest.mark.parametrize("keys", [("customer_id", "customer_id"), (["region", "status"], ["area", "state"])])
@pytest.mark.parametrize("split", [True, False])
@pytest.mark.parametrize("copies", [2, 5])  # a second input shorter or longer than the first
def test_semi_and_anti_join_keep_first_input_rows_once(
    partitioned, assert_same, orders, how, keys, split, copies
):
    left_on, right_on = keys
    right = orders[orders.customer_id % 3 == 0].rename(columns={"region": "area", "status": "state"})
    right = pd.concat([right] * copies)  # duplicate matches must not multiply rows
    f = Flow("t")
    first = f.from_frame("left", partitioned(orders, 4) if split else orders)
    second = f.from_frame("right", partitioned(right, 3) if split else right)
    f.add("step", "join", [first, second], how=how, left_on=left_on, right_on=right_on)
    out = f.run(progress=False)["step"]
    expected = _matching_rows(orders, right, how, *map(_as_list, keys))
    assert 0 < len(out) < len(orders)
    assert list(out.columns) == list(orders.columns)
    assert_same(out, expected, sort_by="order_id")


def _as_list(keys):
    return [keys] if isinstance(keys, str) else keys


def test_a_semi_join_reads_only_the_keys_of_the_second_input(sales):
    f = Flow("t")
    orders = f.from_frame("orders", sales["orders"])
    customers = f.from_frame("customers", sales["customers"])
    f.add("step", "join", [orders, customers], how="semi", on="customer_id")
    plan = f.plan()
    assert plan.steps["customers"].needed == {"customer_id"}


# -- lookup -----------------------------------------------------------------------------------------------


def test_lookup_adds_columns_and_never_multiplies_rows(partitioned, assert_same, orders, products):
    reference = pd.concat([products, products.assign(unit_price=products["unit_price"] + 1e6)])
    reference = reference[reference["product_id"] != 3]  # orders of product 3 find nothing
    out = run_two(
        partitioned,
        orders,
        reference,
        "lookup",
        on="product_id",
        columns={"name": "product_name", "unit_price": "price"},
    )
    first = reference.drop_duplicates("product_id")[["product_id", "name", "unit_price"]]
    expected = orders.merge(first, how="left", on="product_id").rename(
        columns={"name": "product_name", "unit_price": "price"}
    )
    assert len(out) == len(orders)
    assert out.loc[out["product_id"] == 3, "price"].isna().all()
    assert (out["price"].dropna() < 1e6).all()  # the first row of a duplicated key wins
    assert_same(out, expected, sort_by="order_id")


def test_lookup_left_on_right_on_and_a_list_of_columns(partitioned, assert_same, orders, customers):
    people = customers.rename(columns={"customer_id": "person", "region": "home"})
    out = run_two(
        partitioned,
        orders,
        people,
        "lookup",
        left_on="customer_id",
        right_on="person",
        columns=["segment", "home"],
    )
    expected = orders.merge(
        people[["person", "segment", "home"]], how="left", left_on="customer_id", right_on="person"
    ).drop(columns="person")
    assert list(out.columns) == [*orders.columns, "segment", "home"]
    assert_same(out, expected, sort_by="order_id")


def test_lookup_when_the_main_input_has_a_column_named_like_the_reference_key(partitioned, assert_same):
    main = pd.DataFrame({"pid": [1, 2, 3, 1], "product_id": [10, 20, 30, 40]})
    reference = pd.DataFrame({"product_id": [1, 2, 2], "name": pd.array(["a", "b", "c"], "str")})
    out = run_two(
        partitioned,
        main,
        reference,
        "lookup",
        npartitions=(2, 2),
        left_on="pid",
        right_on="product_id",
        columns={"name": "product"},
    )
    expected = main.assign(product=pd.array(["a", "b", None, "a"], "str"))
    assert_same(out, expected, sort_by="product_id")


def test_lookup_refuses_a_column_the_main_input_has(plan_error, orders, customers):
    f = Flow("t")
    main = f.from_frame("main", orders)
    reference = f.from_frame("reference", customers)
    f.lookup("look", main, reference, on="customer_id", columns=["region"])
    error = plan_error(f)
    assert error.step == "look" and error.field == "columns" and "region" in str(error)


@pytest.mark.parametrize("component", ["join", "lookup"])
def test_join_keys_of_different_kinds_fail_while_planning(plan_error, component):
    """Text against numbers would be pandas' 'You are trying to merge on str and float64', with no field."""
    f = Flow("t")
    left = f.from_frame("left", pd.DataFrame({"region": ["N", "S"], "amount": [1.0, 2.0]}))
    right = f.from_frame("right", pd.DataFrame({"code": [1.0, 2.0], "name": ["a", "b"]}))
    options = {"columns": ["name"]} if component == "lookup" else {}
    getattr(f, component)("j", left, right, left_on="region", right_on="code", **options)
    error = plan_error(f)
    assert (error.step, error.field) == ("j", "right_on")
    assert "key column 'region' (text) cannot be matched with 'code' (number)" in str(error)
    f.spec.step("j").with_["left_on"] = "amount"  # numbers with numbers (float and int alike) plan
    f.plan()


# -- aggregate --------------------------------------------------------------------------------------------

AGGREGATIONS = {
    "total": "sum(amount)",
    "net": "sum(amount * (1 - coalesce(discount, 0)))",
    "average": "mean(amount)",
    "smallest": "min(amount)",
    "largest": "max(quantity)",
    "latest": "max(order_date)",
    "rows": "count()",
    "with_discount": "count(discount)",
    "customers": "count_distinct(customer_id)",
    "channels": "count_distinct(channel)",
    "middle": "median(amount)",
    "spread": "std(amount)",
    "first_id": "first(order_id)",
    "last_id": "last(order_id)",
    "first_channel": "first(channel)",
    "last_status": "last(status)",
}


def expected_aggregates(orders, by):
    frame = orders.assign(__net=orders["amount"] * (1 - orders["discount"].fillna(0)), __one=1, __all=0)
    grouped = frame.groupby(by or ["__all"], dropna=False, sort=False)
    out = grouped.agg(
        total=("amount", "sum"),
        net=("__net", "sum"),
        average=("amount", "mean"),
        smallest=("amount", "min"),
        largest=("quantity", "max"),
        latest=("order_date", "max"),
        rows=("__one", "size"),
        with_discount=("discount", "count"),
        customers=("customer_id", "nunique"),
        channels=("channel", "nunique"),
        middle=("amount", "median"),
        spread=("amount", "std"),
        first_id=("order_id", "first"),
        last_id=("order_id", "last"),
        first_channel=("channel", "first"),
        last_status=("status", "last"),
    ).reset_index()
    return out if by else out.drop(columns="__all")


@pytest.mark.parametrize("by", [["region"], ["region", "channel"], []], ids=["one", "two-with-nulls", "none"])
def test_aggregate_every_function(partitioned, assert_same, orders, by):
    out = run_one(partitioned, orders, "aggregate", by=by, aggregations=AGGREGATIONS)
    expected = expected_aggregates(orders, by)
    assert len(out) == (len(expected) if by else 1)
    assert_same(out, expected, sort_by=by or None, check_exact=False, rtol=1e-9)


@pytest.mark.parametrize("function", ["sum", "mean", "min", "max", "count", "first", "last", "std"])
def test_aggregate_tree_reducible_functions_alone(partitioned, assert_same, orders, function):
    aggregations = {"value": f"{function}(discount)"}
    out = run_one(partitioned, orders, "aggregate", by=["channel"], aggregations=aggregations)
    expected = orders.groupby("channel", dropna=False).agg(value=("discount", function)).reset_index()
    assert_same(out, expected, sort_by="channel", check_exact=False, rtol=1e-9)


@pytest.mark.parametrize("other", ["max(amount)", "median(amount)"], ids=["tree", "shuffle"])
@pytest.mark.parametrize("by", [["region"], []], ids=["by", "all"])
def test_aggregate_first_and_last_follow_the_input_order(partitioned, assert_same, orders, other, by):
    shuffled = orders.sample(frac=1.0, random_state=1)
    aggregations = {"first_id": "first(order_id)", "last_id": "last(order_id)", "other": other}
    out = run_one(partitioned, shuffled, "aggregate", by=by, aggregations=aggregations)
    function = other.partition("(")[0]
    expected = (
        shuffled.assign(__all=0)
        .groupby(by or ["__all"])
        .agg(first_id=("order_id", "first"), last_id=("order_id", "last"), other=("amount", function))
        .reset_index()
    )
    assert_same(out, expected if by else expected.drop(columns="__all"), sort_by=by or None)


def test_aggregate_with_a_parameter(partitioned, assert_same, orders):
    f = Flow("t", parameters={"threshold": 300.0})
    source = f.from_frame("source", partitioned(orders))
    source.aggregate("step", by=["status"], aggregations={"big": "sum(if_else(amount > @threshold, 1, 0))"})
    out = f.run(progress=False)["step"]
    expected = (
        orders.assign(big=(orders["amount"] > 300).astype("int64"))
        .groupby("status", as_index=False)
        .agg(big=("big", "sum"))
    )
    assert_same(out, expected, sort_by="status")


# -- sort -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("by", "descending"), [("order_id", True), (["order_id"], [True]), ("order_id", False)]
)
def test_sort_one_column(partitioned, assert_same, orders, by, descending):
    shuffled = orders.sample(frac=1.0, random_state=2)
    out = run_one(partitioned, shuffled, "sort", by=by, descending=descending)
    ascending = not (descending[0] if isinstance(descending, list) else descending)
    assert_same(out, orders.sort_values("order_id", ascending=ascending))


def test_sort_several_columns_with_a_descending_list(partitioned, assert_same, orders):
    out = run_one(
        partitioned, orders, "sort", by=["region", "amount", "order_id"], descending=[False, True, False]
    )
    expected = orders.sort_values(["region", "amount", "order_id"], ascending=[True, False, True])
    assert_same(out, expected)


@pytest.mark.parametrize("nulls", ["first", "last"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_nulls(partitioned, assert_same, orders, nulls, descending):
    out = run_one(partitioned, orders, "sort", by="discount", descending=descending, nulls=nulls)
    expected = orders.sort_values("discount", ascending=not descending, na_position=nulls)
    # Ties keep no particular order across partitions: compare the sort key, then the rows.
    assert_same(out[["discount"]], expected[["discount"]])
    assert_same(out, expected, sort_by="order_id")


@pytest.mark.parametrize("nulls", ["first", "last"])
def test_sort_several_columns_with_nulls(partitioned, assert_same, orders, nulls):
    out = run_one(
        partitioned, orders, "sort", by=["channel", "order_id"], descending=[True, False], nulls=nulls
    )
    expected = orders.sort_values(["channel", "order_id"], ascending=[False, True], na_position=nulls)
    assert_same(out, expected)


def test_sort_descending_flags_must_match_the_columns(plan_error, orders):
    f = Flow("t")
    f.from_frame("source", orders).sort("order", by=["region", "amount"], descending=[True])
    error = plan_error(f)
    assert error.step == "order" and error.field == "descending"


# -- limit ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rows", "offset"), [(10, 0), (700, 0), (700, 450), (5, 1995), (50, 3000), (0, 0)])
def test_limit_across_partitions(partitioned, assert_same, orders, rows, offset):
    out = run_one(partitioned, orders, "limit", rows=rows, offset=offset)
    assert_same(out, orders.iloc[offset : offset + rows])


def test_limit_after_sort(partitioned, assert_same, orders):
    f = Flow("t")
    source = f.from_frame("source", partitioned(orders))
    source.sort("sorted", by="amount", descending=True).limit("top", rows=25, offset=5)
    out = f.run(progress=False)["top"]
    expected = orders.sort_values("amount", ascending=False).iloc[5:30]
    assert_same(out[["amount"]], expected[["amount"]])


# -- distinct ---------------------------------------------------------------------------------------------


def test_distinct_whole_rows(partitioned, assert_same, orders):
    doubled = pd.concat([orders, orders.iloc[::3]]).sort_values("order_id", kind="stable")
    out = run_one(partitioned, doubled, "distinct")
    assert_same(out, orders, sort_by="order_id")


def test_distinct_subset_keeps_the_first_row(partitioned, assert_same, orders):
    out = run_one(partitioned, orders, "distinct", columns=["region", "channel"])
    expected = orders.drop_duplicates(subset=["region", "channel"])
    assert_same(out, expected, sort_by="order_id")


# -- union ------------------------------------------------------------------------------------------------


def test_union_matches_columns_by_name(partitioned, assert_same, orders):
    first, second = orders.iloc[:1200], orders.iloc[1200:]
    out = run_two(partitioned, first, second[list(reversed(orders.columns))], "union", npartitions=(3, 2))
    assert list(out.columns) == list(orders.columns)
    assert_same(out, orders, sort_by="order_id")


def test_union_of_three_inputs(partitioned, assert_same, orders):
    f = Flow("t")
    parts = [f.from_frame(f"part{i}", partitioned(orders.iloc[i::3], 2)) for i in range(3)]
    f.union("all", *parts)
    out = f.run(progress=False)["all"]
    assert_same(out, orders, sort_by="order_id")


def test_union_missing_null_fills_absent_columns(partitioned, assert_same):
    first = pd.DataFrame({"id": [1, 2, 3], "a": [1.0, 2.0, 3.0]})
    second = pd.DataFrame({"b": pd.array(["x", "y"], "str"), "id": [4, 5]})
    out = run_two(partitioned, first, second, "union", npartitions=(2, 2), missing="null")
    expected = pd.concat([first, second], ignore_index=True)
    assert list(out.columns) == ["id", "a", "b"]
    assert_same(out, expected, sort_by="id")


def test_union_different_columns_is_an_error_by_default(plan_error):
    f = Flow("t")
    first = f.empty("first", columns={"id": "integer", "a": "number"})
    second = f.empty("second", columns={"id": "integer", "b": "number"})
    f.union("both", first, second)
    error = plan_error(f)
    assert error.step == "both" and error.field == "inputs"
    assert "a, b" in str(error)


# -- pivot ------------------------------------------------------------------------------------------------

STATUSES = ["paid", "shipped", "pending", "cancelled", "returned", "lost"]


PIVOT_AGGREGATIONS = ["sum", "mean", "min", "max", "count", "first", "last"]


def test_pivot_every_aggregation(partitioned, assert_same, orders):
    f = Flow("t")
    source = f.from_frame("source", partitioned(orders))
    for aggregation in PIVOT_AGGREGATIONS:
        source.pivot(
            aggregation,
            index=["region"],
            columns="status",
            values="amount",
            aggregation=aggregation,
            column_values=STATUSES,
        )
    result = f.run(progress=False)
    for aggregation in PIVOT_AGGREGATIONS:
        out = result[aggregation]
        expected = (
            orders.pivot_table(index="region", columns="status", values="amount", aggfunc=aggregation)
            .reindex(columns=STATUSES)
            .astype("float64")
            .reset_index()
        )
        expected.columns.name = None
        assert list(out.columns) == ["region", *STATUSES]
        assert out["lost"].isna().all()
        assert_same(out, expected, sort_by="region", check_exact=False, rtol=1e-9)


def test_pivot_keeps_rows_whose_index_is_null(partitioned, assert_same, orders):
    assert orders["channel"].isna().any()
    out = run_one(
        partitioned,
        orders,
        "pivot",
        index=["channel"],
        columns="status",
        values="quantity",
        column_values=["paid", "returned"],
    )
    expected = (
        orders.pivot_table(index="channel", columns="status", values="quantity", aggfunc="sum", dropna=False)
        .reindex(columns=["paid", "returned"])
        .astype("float64")
        .reset_index()
    )
    expected.columns.name = None
    assert len(out) == 5
    assert_same(out, expected, sort_by="channel")


def test_pivot_on_several_index_columns_and_numeric_values(partitioned, assert_same, orders):
    out = run_one(
        partitioned,
        orders,
        "pivot",
        index=["region", "status"],
        columns="quantity",
        values="amount",
        aggregation="count",
        column_values=[1, 2, 3],
    )
    expected = (
        orders[orders["quantity"] <= 3]
        .pivot_table(index=["region", "status"], columns="quantity", values="amount", aggfunc="count")
        .astype("float64")
        .reset_index()
    )
    expected.columns = ["region", "status", "1", "2", "3"]
    assert_same(out, expected, sort_by=["region", "status"])


# -- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("component", "params", "field"),
    [
        ("join", {"on": "amout"}, "on"),
        ("join", {"left_on": "amout", "right_on": "amount"}, "left_on"),
        ("join", {"left_on": "amount", "right_on": ["amout"]}, "right_on"),
        ("lookup", {"on": "amout", "columns": ["status"]}, "on"),
        ("lookup", {"left_on": "amout", "right_on": "amount", "columns": ["status"]}, "left_on"),
        ("lookup", {"left_on": "amount", "right_on": "amout", "columns": ["status"]}, "right_on"),
        ("lookup", {"on": "amount", "columns": {"amout": "x"}}, "columns"),
    ],
)
def test_unknown_column_two_inputs(sales, plan_error, component, params, field):
    f = Flow("t")
    main = f.from_frame("main", sales["orders"])
    reference = f.from_frame("reference", sales["orders"].rename(columns={"status": "state"}))
    f.add("misspelt", component, [main, reference], **params)
    error = plan_error(f, UnknownColumn)
    assert error.step == "misspelt" and error.field == field
    assert f"step 'misspelt', field '{field}'" in str(error)
    assert "Did you mean 'amount'?" in str(error)


@pytest.mark.parametrize(
    ("component", "params", "field"),
    [
        ("aggregate", {"by": ["amout"], "aggregations": {"n": "count()"}}, "by"),
        ("aggregate", {"aggregations": {"total": "sum(amout)"}}, "aggregations.total"),
        ("sort", {"by": "amout"}, "by"),
        ("sort", {"by": ["region", "amout"]}, "by"),
        ("distinct", {"columns": ["amout"]}, "columns"),
        (
            "pivot",
            {"index": ["amout"], "columns": "status", "values": "amount", "column_values": ["paid"]},
            "index",
        ),
        (
            "pivot",
            {"index": ["region"], "columns": "amout", "values": "amount", "column_values": ["paid"]},
            "columns",
        ),
        (
            "pivot",
            {"index": ["region"], "columns": "status", "values": "amout", "column_values": ["paid"]},
            "values",
        ),
    ],
)
def test_unknown_column(sales, plan_error, component, params, field):
    f = Flow("t")
    source = f.from_frame("source", sales["orders"])
    f.add("misspelt", component, [source], **params)
    error = plan_error(f, UnknownColumn)
    assert error.step == "misspelt" and error.field == field
    assert f"step 'misspelt', field '{field}'" in str(error)
    assert "Did you mean 'amount'?" in str(error)


@pytest.mark.parametrize(
    ("component", "params", "bad"),
    [
        ("join", {"on": "a", "how": "left", "suffix": ["", "_r"]}, "suffix"),
        ("lookup", {"on": "a", "columns": ["b"], "colums": ["b"]}, "colums"),
        ("aggregate", {"aggregations": {"n": "count()"}, "group_by": ["a"]}, "group_by"),
        ("sort", {"by": "a", "ascending": True}, "ascending"),
        ("limit", {"rows": 3, "skip": 1}, "skip"),
        ("distinct", {"subset": ["a"]}, "subset"),
        ("union", {"missing": "null", "how": "outer"}, "how"),
        ("pivot", {"index": ["a"], "columns": "b", "values": "a", "column_values": ["x"], "fill": 0}, "fill"),
    ],
)
def test_unknown_parameter(component, params, bad):
    f = Flow("t")
    first = f.empty("first", columns={"a": "number", "b": "string"})
    second = f.empty("second", columns={"a": "number", "b": "string"})
    inputs = [first, second] if component in ("join", "lookup", "union") else [first]
    with pytest.raises(FlowValidationError) as info:
        f.add("step", component, inputs, **params)
    assert info.value.field == f"with.{bad}"
    assert f"unknown parameter {bad!r}" in str(info.value)


def test_join_needs_keys():
    f = Flow("t")
    first = f.empty("first", columns={"a": "number"})
    second = f.empty("second", columns={"a": "number"})
    with pytest.raises(AqtraError):
        f.join("step", first, second, left_on="a")


def test_no_object_columns_come_out(partitioned, orders, customers):
    f = Flow("t")
    o = f.from_frame("orders", partitioned(orders))
    c = f.from_frame("customers", partitioned(customers, 2))
    joined = o.join("joined", c, on="customer_id", how="left")
    joined.aggregate("agg", by=["segment"], aggregations={"n": "count()", "first": "first(name)"})
    result = f.run(progress=False)
    for step in ("joined", "agg"):
        assert not any(dtype == np.dtype(object) for dtype in result[step].dtypes), step


@pytest.mark.parametrize(
    ("paginate", "bad", "hint", "allowed"),
    [
        ({"kind": "page", "sizee": 3}, "sizee", "size", "kind, param, start, size_param, size"),
        ({"kind": "cursor", "cursor": "next", "parm": "c"}, "parm", "param", "kind, cursor, param"),
    ],
)
def test_a_misspelt_nested_key_is_answered_with_the_nested_keys(paginate, bad, hint, allowed):
    f = Flow("t")
    with pytest.raises(FlowValidationError) as info:
        f.http_get("api", url="http://127.0.0.1:1/items", paginate=paginate)
    assert info.value.field.startswith("with.paginate.") and info.value.field.endswith(bad)
    assert f"Did you mean {hint!r}?" in str(info.value) and str(info.value).endswith(f"Allowed: {allowed}")
