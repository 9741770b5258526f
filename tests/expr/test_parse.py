from __future__ import annotations

import pytest

from aqtra_nb.errors import ExpressionError, UnknownColumn
from aqtra_nb.expr import AGGREGATE_FUNCTIONS, FUNCTIONS, Expression, parse_aggregation, parse_expression
from aqtra_nb.expr.parse import (
    MAX_LENGTH,
    BinOp,
    BoolOp,
    Call,
    Column,
    Compare,
    In,
    Literal,
    Negate,
    Not,
    Param,
)


def error_of(text: str, *, aggregation: bool = False) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        (parse_aggregation if aggregation else parse_expression)(text)
    assert info.value.source == text or info.value.position is None
    return info.value


def test_the_documented_example() -> None:
    expr = parse_expression("amount >= @min_amount and status in ('paid', 'shipped')")
    assert isinstance(expr, Expression)
    assert expr.source == "amount >= @min_amount and status in ('paid', 'shipped')"
    assert expr.columns == {"amount", "status"}
    assert expr.parameters == {"min_amount"}
    assert expr.node == BoolOp(
        "and",
        (
            Compare((">=",), (Column("amount"), Param("min_amount"))),
            In(Column("status"), (Literal("paid"), Literal("shipped"))),
        ),
    )


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("a + 1", BinOp("+", Column("a"), Literal(1))),
        ("2 ** -x", BinOp("**", Literal(2), Negate(Column("x")))),
        ("-1.5", Literal(-1.5)),
        ("+a", Column("a")),
        ("not a", Not(Column("a"))),
        ("a < b <= c", Compare(("<", "<="), (Column("a"), Column("b"), Column("c")))),
        ("a or b or c", BoolOp("or", (Column("a"), Column("b"), Column("c")))),
        ("x not in [1, -2, @p]", In(Column("x"), (Literal(1), Literal(-2), Param("p")), negated=True)),
        ("x in @choices", In(Column("x"), (Param("choices"),))),
        ("x in ()", In(Column("x"), ())),
        ("lower(`first name`)", Call("lower", (Column("first name"),))),
        ("true", Literal(True)),
        ("false", Literal(False)),
        ("null", Literal(None)),
        ("None", Literal(None)),
        ("True", Literal(True)),
        ("'it''s'", Literal("its")),
        ('"double"', Literal("double")),
        ("10 // 3 % 2", BinOp("%", BinOp("//", Literal(10), Literal(3)), Literal(2))),
    ],
)
def test_tree(text: str, node: object) -> None:
    assert parse_expression(text).node == node


def test_positions_are_one_based_columns_of_the_original_text() -> None:
    node = parse_expression("`order total` + @rate * b").node
    assert isinstance(node, BinOp)
    assert node.left.position == 1
    assert node.right.left.position == 17  # @rate
    assert node.right.right.position == 25  # b


def test_backticks_and_parameters_are_left_alone_inside_strings() -> None:
    expr = parse_expression("concat('@x `y`', \"#@z\", name)")
    assert expr.parameters == frozenset()
    assert expr.columns == {"name"}
    assert expr.node.args[:2] == (Literal("@x `y`"), Literal("#@z"))


def test_backticked_names_may_hold_anything_but_backticks() -> None:
    expr = parse_expression("`a.b` + `__class__` + `1 (x)` + `é`")
    assert expr.columns == {"a.b", "__class__", "1 (x)", "é"}


def test_non_ascii_names_keep_their_exact_spelling() -> None:
    # Python would NFKC-normalise the ligature to "field"; a column name must stay as written
    assert parse_expression("ﬁeld + größe").columns == {"ﬁeld", "größe"}


def test_the_same_parameter_twice_is_one_parameter() -> None:
    expr = parse_expression("@p + @p * `p`")
    assert expr.parameters == {"p"}
    assert expr.columns == {"p"}


def test_multiline_text_is_one_expression() -> None:
    expr = parse_expression("amount > 1\n  and status == 'paid'\r\n")
    assert expr.columns == {"amount", "status"}


def test_leading_whitespace_is_fine() -> None:
    assert parse_expression("   `a` + 1").columns == {"a"}


def test_big_integers_become_floats() -> None:
    assert parse_expression("123456789012345678901234567890").node == Literal(1.2345678901234568e29)


def test_parsing_is_cached() -> None:
    assert parse_expression("a + 1") is parse_expression("a + 1")
    assert parse_aggregation("sum(a)") is parse_aggregation("sum(a)")


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("__class__", 1, "names starting with '__'"),
        ("a + __import__('os')", 5, "names starting with '__'"),
        ("x.y", 1, "attribute access"),
        ("1 + x.__class__", 7, "names starting with '__'"),
        ("x[0]", 1, "indexing"),
        ("lambda: 1", 1, "lambda"),
        ("[i for i in x]", 1, "comprehensions"),
        ("a + {k: 1 for k in x}", 5, "comprehensions"),
        ("lower(**k)", 7, "**arguments"),
        ("lower(*a)", 7, "*arguments"),
        ("round(x, digits=2)", 10, "keyword argument digits="),
        ("(y := 1)", 2, "assignment (:=)"),
        ("f'{x}'", 1, "f-strings"),
        ("import os", 1, "invalid syntax: unexpected 'import' here"),
        ("a +", 4, "invalid syntax: the expression ends after '+'; something is missing"),
        ("a b", 3, "invalid syntax: unexpected 'b' here"),
        ("x = 1", 3, "invalid syntax: unexpected '=' here; compare with '=='"),
        ("amount >= 100 and region === 5", 28, "invalid syntax: unexpected '=' here"),
        ("(a", 1, "invalid syntax: '(' was never closed"),
        ("a if b else c", 1, "if_else(c, a, b)"),
        ("a & b", 1, "use 'and'"),
        ("a | b", 1, "use 'or'"),
        ("~a", 1, "use 'not'"),
        ("a ^ b", 1, "not supported"),
        ("a << 1", 1, "not supported"),
        ("a is None", 1, "is_null"),
        ("a == None", 6, "is_null"),
        ("(1, 2)", 1, "tuple"),
        ("[1]", 1, "list"),
        ("{1: 2}", 1, "Dict"),
        ("{1}", 1, "Set"),
        ("...", 1, "ellipsis literals"),
        ("b'x'", 1, "bytes literals"),
        ("1j", 1, "complex literals"),
        ("a in b", 6, "literals or @parameters"),
        ("a in (1, b)", 10, "literals or @parameters"),
        ("a in (1,) == True", 1, "cannot be chained"),
        ("a @ b", 3, "parameter name after '@'"),
        ("@1x", 1, "parameter name after '@'"),
        ("a # note", 3, "comments"),
        ("'''doc'''", 1, "triple-quoted"),
        ("'open", 1, "unterminated string"),
        ("'a\\\nb'", 1, "unterminated string"),
        ("`open", 1, "unterminated backtick"),
        ("`` + 1", 1, "empty column name"),
        ("`a`(1)", 1, "only the built-in functions"),
        ("(a + b)(1)", 1, "only the built-in functions"),
        ("await x", 1, "Await"),
        ("'é' + x.y", 7, "attribute access"),
        ("`é x` + y[0]", 9, "indexing"),
        ("a\x00b", 2, "null character"),
    ],
)
def test_disallowed_syntax_is_an_error_at_its_position(text: str, position: int, fragment: str) -> None:
    error = error_of(text)
    assert fragment in error.message
    assert error.position == position
    assert f"at column {position}" in str(error)


def test_empty_text_is_an_error() -> None:
    assert "empty" in error_of("  ").message


def test_text_must_be_a_string() -> None:
    with pytest.raises(ExpressionError, match="must be text"):
        parse_expression(42)  # type: ignore[arg-type]


def test_length_limit() -> None:
    with pytest.raises(ExpressionError, match="too long"):
        parse_expression("1" * (MAX_LENGTH + 1))


@pytest.mark.parametrize(
    "text",
    [
        "-" * 5000 + "1",
        "not " * 2400 + "a",
        "+".join(["a"] * 4000),
        "lower(" * 150 + "a" + ")" * 150,
        "(" * 300 + "1" + ")" * 300,
        "a in (" + "(" * 3000 + ")" * 3000 + ")",
    ],
)
def test_deep_nesting_is_an_expression_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse_expression(text)


def test_moderate_nesting_is_fine() -> None:
    assert parse_expression("(" * 150 + "a" + ")" * 150).columns == {"a"}
    assert parse_expression("+".join(["a"] * 90)).columns == {"a"}


def test_unknown_function_suggests_close_names() -> None:
    error = error_of("1 + lowr(name)")
    assert error.message == "unknown function 'lowr'. Did you mean 'lower' or 'floor'?"
    assert error.position == 5


def test_functions_are_case_sensitive() -> None:
    assert "Did you mean 'lower'" in error_of("LOWER(name)").message


def test_wrong_arity_names_the_signature() -> None:
    error = error_of("substring(name)")
    assert "substring(s, start, [length])" in error.message
    assert "got 1" in error.message
    assert error.position == 1
    assert "if_else(cond, a, b)" in error_of("x + if_else(a, b)").message
    assert error_of("concat(a)").position == 1


def test_constant_arguments_must_not_refer_to_columns() -> None:
    error = error_of("contains(name, other)")
    assert "argument 2 of contains(s, sub)" in error.message
    assert error.position == 16
    parse_expression("contains(name, @needle)")
    parse_expression("date_trunc(@unit, d)")
    assert error_of("date_trunc(unit, d)").position == 12


def test_aggregates_are_not_row_functions() -> None:
    error = error_of("amount / sum(amount)")
    assert "aggregate" in error.message
    assert error.position == 10


def test_every_documented_function_is_in_the_table() -> None:
    documented = (
        "is_null not_null coalesce if_else case lower upper strip len contains startswith endswith replace "
        "concat substring abs round floor ceil sqrt log exp pow date year month day weekday date_trunc "
        "add_days days_between"
    ).split()
    assert sorted(FUNCTIONS) == sorted(documented)
    for name, function in FUNCTIONS.items():
        assert function.signature.startswith(f"{name}(")
    assert set(AGGREGATE_FUNCTIONS) == {
        "sum",
        "mean",
        "min",
        "max",
        "count",
        "count_distinct",
        "median",
        "std",
        "first",
        "last",
    }


def test_check_columns_reports_the_first_unknown_column() -> None:
    expr = parse_expression("amont + 1 > qty")
    with pytest.raises(UnknownColumn) as info:
        expr.check_columns(["amount", "quantity", "qty"])
    assert str(info.value) == (
        "unknown column 'amont' in expression 'amont + 1 > qty'. Did you mean 'amount'? "
        "Available columns: amount, quantity, qty"
    )
    expr.check_columns(["qty", "amont"])


def test_check_columns_without_a_close_match() -> None:
    with pytest.raises(UnknownColumn) as info:
        parse_expression("zzz").check_columns(["a", "b"])
    assert info.value.message == "unknown column 'zzz' in expression 'zzz'. Available columns: a, b"


def test_check_columns_accepts_the_engine_location() -> None:
    with pytest.raises(UnknownColumn) as info:
        parse_expression("zzz").check_columns(["a"])
    error = info.value.at(file="flow.yaml", step="filter", field="condition")
    assert str(error).startswith("flow.yaml, step 'filter', field 'condition': unknown column 'zzz'")


# --- aggregations ------------------------------------------------------------------------------------


def test_aggregation_example() -> None:
    agg = parse_aggregation("sum(amount * (1 - discount))")
    assert agg.function == "sum"
    assert agg.argument is not None
    assert agg.argument.source == "amount * (1 - discount)"
    assert agg.argument.node == BinOp("*", Column("amount"), BinOp("-", Literal(1), Column("discount")))
    assert agg.columns == {"amount", "discount"}
    assert agg.parameters == frozenset()


def test_count_without_argument() -> None:
    agg = parse_aggregation(" count( ) ")
    assert (agg.function, agg.argument, agg.columns) == ("count", None, frozenset())


@pytest.mark.parametrize("function", sorted(AGGREGATE_FUNCTIONS))
def test_every_aggregate_takes_one_row_expression(function: str) -> None:
    agg = parse_aggregation(f"{function}(`unit price` * @rate)")
    assert agg.function == function
    assert agg.argument is not None and agg.argument.source == "`unit price` * @rate"
    assert (agg.columns, agg.parameters) == ({"unit price"}, {"rate"})


def test_aggregation_argument_keeps_its_exact_text() -> None:
    agg = parse_aggregation("max( ('é' == `ß x`) )")
    assert agg.argument is not None and agg.argument.source == "'é' == `ß x`"


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("sum(sum(x))", 5, "cannot be nested"),
        ("sum(x + count())", 9, "cannot be nested"),
        ("sum(x) + 1", 1, "one aggregate call"),
        ("amount", 1, "one aggregate call"),
        ("lower(x)", 1, "one aggregate call"),
        ("summ(x)", 1, "unknown aggregate function 'summ'. Did you mean 'sum'?"),
        ("sum()", 1, "exactly one argument"),
        ("mean(a, b)", 1, "exactly one argument"),
        ("sum(x=1)", 5, "keyword argument"),
        ("sum(*x)", 5, "*arguments"),
        ("sum(a.b)", 5, "attribute access"),
        ("sum(lowr(a))", 5, "unknown function"),
        ("sum(", 4, "invalid syntax: '(' was never closed"),
    ],
)
def test_aggregation_errors(text: str, position: int, fragment: str) -> None:
    error = error_of(text, aggregation=True)
    assert fragment in error.message
    assert error.position == position


def test_aggregation_check_columns() -> None:
    with pytest.raises(UnknownColumn, match="unknown column 'x'"):
        parse_aggregation("sum(x)").check_columns(["y"])
    parse_aggregation("count()").check_columns([])


def test_parsed_objects_pickle_for_distributed_workers() -> None:
    import pickle

    expr = parse_expression("`a b` > @p and lower(s) in ('x', 'y')")
    assert pickle.loads(pickle.dumps(expr)) == expr
    agg = parse_aggregation("count_distinct(lower(s))")
    assert pickle.loads(pickle.dumps(agg)) == agg


def test_python_syntax_warnings_do_not_leak(recwarn: pytest.WarningsRecorder) -> None:
    assert parse_expression("contains(s, '\\d')").node.args[1] == Literal("\\d")
    assert parse_expression("1and x").columns == {"x"}
    assert not [w for w in recwarn if issubclass(w.category, SyntaxWarning)]


def test_every_example_in_the_reference_parses() -> None:
    import re
    from pathlib import Path

    reference = Path(__file__).parents[2] / "docs" / "expressions.md"
    rows = re.findall(r"^\| `([^`|]+)` \| `([^`]+)` \|", reference.read_text(), re.MULTILINE)
    documented = {name.partition("(")[0] for name, _ in rows}
    assert set(FUNCTIONS) | set(AGGREGATE_FUNCTIONS) <= documented
    for name, example in rows:
        aggregate = name.partition("(")[0] in AGGREGATE_FUNCTIONS
        (parse_aggregation if aggregate else parse_expression)(example)
