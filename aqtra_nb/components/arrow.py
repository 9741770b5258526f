"""Arrow → pandas without Python objects per value: decimals become float64 and dates become datetime64,
cast inside Arrow; strings stay Arrow-backed (pandas' `str` dtype)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


def normal_type(kind: pa.DataType) -> pa.DataType:
    """The Arrow type a column is cast to before it becomes pandas."""
    if pa.types.is_decimal(kind):
        return pa.float64()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.large_string()
    if pa.types.is_date32(kind) or pa.types.is_date64(kind):
        return pa.timestamp("s")
    if pa.types.is_dictionary(kind):
        return normal_type(kind.value_type)
    if pa.types.is_large_list(kind) or pa.types.is_list_view(kind) or pa.types.is_large_list_view(kind):
        return pa.list_(normal_type(kind.value_type))
    if pa.types.is_list(kind):
        return pa.list_(normal_type(kind.value_type))
    return kind


def normal_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, normal_type(f.type), f.nullable) for f in schema])


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Cast to the normal schema (inside Arrow) and convert, without a pandas index from metadata."""
    target = normal_schema(table.schema)
    if target != table.schema:
        table = table.cast(target)
    frame = table.to_pandas(split_blocks=True, self_destruct=False, ignore_metadata=True)
    return frame


def empty_frame(schema: pa.Schema) -> pd.DataFrame:
    return to_pandas(schema.empty_table())


# -- filters pushed into Arrow datasets ---------------------------------------------------------------------

_ARROW_OPS = {"==": "__eq__", "!=": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _compatible(kind: pa.DataType, value: object) -> bool:
    """Values are compared with numeric, string and boolean columns of their own kind only."""
    if isinstance(value, str):
        return _is_text(kind)
    if isinstance(value, bool):
        return pa.types.is_boolean(kind)
    if isinstance(value, int | float):
        return pa.types.is_integer(kind) or pa.types.is_floating(kind)
    return False


def applicable(predicate, schema: pa.Schema) -> bool:
    """Whether Arrow applies `predicate` to this schema as the expression language would: a column of
    the file compared with values of its own kind (nulls fail the comparison in both)."""
    if predicate.column not in schema.names:
        return False
    kind = schema.field(predicate.column).type
    values = predicate.value if predicate.op == "in" else (predicate.value,)
    return all(_compatible(kind, value) for value in values)


def dataset_filter(predicates: list, schema: pa.Schema):
    """The predicates that apply to `schema`'s column types, as one Arrow expression (None: none do)."""
    import pyarrow.compute as pc

    parts = []
    for predicate in predicates:
        if not applicable(predicate, schema):
            continue
        values = predicate.value if predicate.op == "in" else (predicate.value,)
        field = pc.field(predicate.column)
        parts.append(
            field.isin(list(values))
            if predicate.op == "in"
            else getattr(field, _ARROW_OPS[predicate.op])(values[0])
        )
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined
