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
