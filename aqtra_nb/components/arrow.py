"""Arrow → pandas without Python objects per value: decimals become float64 and dates become datetime64,
cast inside Arrow; strings stay Arrow-backed (pandas' `str` dtype)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
import pyarrow as pa

from .base import OtherColumn

T = TypeVar("T")
R = TypeVar("R")

if TYPE_CHECKING:  # (imported where used: reading a CSV needs no pyarrow.compute)
    import pyarrow.compute as pc


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


def normal_schema(schema: pa.Schema, written: dict[str, str] | None = None) -> pa.Schema:
    """The schema columns are cast to; a timestamp column pandas wrote from `datetime64[s]` (dates, which
    Parquet keeps in milliseconds) back in seconds."""
    written = written or {}
    return pa.schema(
        [
            pa.field(f.name, pa.timestamp("s"), f.nullable)
            if written.get(f.name) == "datetime64[s]" and pa.types.is_timestamp(f.type) and f.type.tz is None
            else pa.field(f.name, normal_type(f.type), f.nullable)
            for f in schema
        ]
    )


#: pandas dtypes that a table written from pandas records (its `pandas` schema metadata) and Arrow's own
#: types do not give back: nullable integers and booleans (Arrow gives float64 and objects when there are
#: nulls) and dates (`datetime64[s]`).
RESTORED_DTYPES = frozenset({"Int64", "boolean", "datetime64[s]"})


def written_dtypes(schema: pa.Schema) -> dict[str, str]:
    """The columns of `schema` that pandas wrote with one of RESTORED_DTYPES, and that dtype."""
    if not schema.metadata or b"pandas" not in schema.metadata:
        return {}
    try:
        columns = schema.pandas_metadata.get("columns", [])
    except ValueError:  # metadata that is not JSON: Arrow's own types then
        return {}
    names = set(schema.names)
    return {
        c["field_name"]: c["numpy_type"]
        for c in columns
        if c.get("numpy_type") in RESTORED_DTYPES and c.get("field_name") in names
    }


def _nullable(kind: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
    if pa.types.is_integer(kind):
        return pd.Int64Dtype()
    return pd.BooleanDtype() if pa.types.is_boolean(kind) else None


PARALLEL_CAST_ROWS = 200_000  # below this, casting on one thread costs less than handing chunks out


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Cast to the normal schema (inside Arrow) and convert, without a pandas index from metadata; columns
    pandas wrote as nullable integers, booleans or dates come back so (a value of each column kind reads
    back as it was written). The table is used up: each column's Arrow memory is let go once converted
    (`self_destruct`), so a read does not hold the Arrow table and the frame whole at once."""
    written = written_dtypes(table.schema)
    target = normal_schema(table.schema, written)
    if target != table.schema:
        table = _cast(table, target)
    restored = {
        name: table.column(name).to_pandas(types_mapper=_nullable).array
        for name, dtype in written.items()
        if dtype != "datetime64[s]" and _nullable(table.schema.field(name).type) is not None
    }
    frame = table.to_pandas(split_blocks=True, self_destruct=True, ignore_metadata=True)
    del table
    for name, values in restored.items():
        frame[name] = values
    return frame


def normalized(table: pa.Table) -> pa.Table:
    """`table` cast to the normal schema on this thread, its metadata kept (for `to_pandas`): what each
    of several threads does to the part it read."""
    target = normal_schema(table.schema, written_dtypes(table.schema))
    if target == table.schema:
        return table
    return _cast(table, target.with_metadata(table.schema.metadata), parallel=False)


def _cast_chunk(chunk: pa.Array, kind: pa.DataType) -> pa.Array:
    if pa.types.is_floating(kind) and pa.types.is_decimal128(chunk.type):
        exact = _decimal_as_float(chunk)
        if exact is not None:
            return exact
    return chunk.cast(kind)


def _decimal_as_float(chunk: pa.Array) -> pa.Array | None:
    """A decimal128 array of at most EXACT_DECIMAL_DIGITS digits as float64: its integers (exact as
    doubles) divided by 10**scale, which IEEE division rounds to the double nearest each decimal, the
    value `float(Decimal(…))` and pandas' parsing of the text give. Arrow's cast is ten times slower
    and one ulp off for about one value in seven (32986.52 became 32986.520000000004, so `price ==
    32986.52` failed in pandas where the same condition pushed into the reader, in decimals, held).
    None where this does not apply."""
    import numpy as np

    kind = chunk.type
    if kind.precision > EXACT_DECIMAL_DIGITS or not 0 <= kind.scale <= 22 or len(chunk) == 0:
        return None
    validity, data = chunk.buffers()
    # little-endian 128-bit integers: the low 64 bits are the value when it fits (it does: <= 15 digits)
    words = np.frombuffer(data, dtype=np.int64)[: 2 * (chunk.offset + len(chunk)) : 2]
    values = np.divide(words, 10.0**kind.scale, dtype=np.float64)  # (one pass: converted as divided)
    return pa.Array.from_buffers(
        pa.float64(), len(chunk), [validity, pa.py_buffer(values)], chunk.null_count, chunk.offset
    )


def thread_map(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`function` over `items` on Arrow's thread pool (its kernels release the GIL), in order; on this
    thread when there is one item."""
    if len(items) <= 1:
        return [function(item) for item in items]
    return list(_pool().map(function, items))


def _cast(table: pa.Table, target: pa.Schema, parallel: bool = True) -> pa.Table:
    """`table` cast to `target` (decimals exactly: `_decimal_as_float`); when `parallel` and large, the
    chunks of the columns that change are cast on all cores at once (one `cast` call casts its chunks
    one after another: a decimal column of millions of rows is hundreds of milliseconds on one core)."""
    changing = [i for i, field in enumerate(target) if field.type != table.schema.field(i).type]
    chunks = [(i, chunk) for i in changing for chunk in table.column(i).chunks]
    cast_one = lambda chunk: _cast_chunk(chunk[1], target.field(chunk[0]).type)  # noqa: E731
    if parallel and table.num_rows >= PARALLEL_CAST_ROWS:
        cast = thread_map(cast_one, chunks)
    else:
        cast = [cast_one(chunk) for chunk in chunks]
    columns = list(table.columns)
    position = 0
    for i in changing:
        count = table.column(i).num_chunks
        columns[i] = pa.chunked_array(cast[position : position + count], target.field(i).type)
        position += count
    return pa.Table.from_arrays(columns, schema=target)


@functools.cache
def _pool() -> ThreadPoolExecutor:
    """Threads for Arrow work that Arrow does not spread itself (its kernels release the GIL)."""
    return ThreadPoolExecutor(max(2, pa.cpu_count()), thread_name_prefix="aqtra-arrow")


def empty_frame_of_schema(schema: pa.Schema) -> pd.DataFrame:
    """The typed empty frame of an Arrow schema, with the dtypes `to_pandas` gives its rows."""
    return to_pandas(schema.empty_table())


# -- filters pushed into Arrow datasets ---------------------------------------------------------------------

_ARROW_OPS = {"==": "__eq__", "!=": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}
_UNIT_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
EXACT_DECIMAL_DIGITS = 15  # decimals of at most this many digits keep their order as float64 (DBL_DIG)


def readable_schema(schema: pa.Schema, dictionaries: Collection[str] = ()) -> pa.Schema | None:
    """The schema a dataset is scanned with: the `dictionaries` columns as dictionaries, other string_view
    columns as large strings (Arrow cannot filter string_view while scanning); None when the files' own
    schema will do."""

    def readable(f: pa.Field) -> pa.Field:
        if f.name in dictionaries:
            return f.with_type(pa.dictionary(pa.int32(), pa.string()))
        return f.with_type(pa.large_string()) if pa.types.is_string_view(f.type) else f

    fields = [readable(f) for f in schema]
    if fields == list(schema):
        return None
    return pa.schema(fields, metadata=schema.metadata)


DICTIONARY_BYTES_PER_VALUE = 0.25  # a column chunk whose dictionary page is at most this small is read as one


def dictionary_columns(dataset: Any) -> list[str]:
    """The text columns the files keep dictionary-encoded with a small dictionary (flags, codes,
    categories: what group keys and `in` filters are made of), judged on the first file's row groups.
    Arrow reads them as dictionaries several times faster than it decodes every value (0.06 s against
    0.65 s for two flag columns of TPC-H's 6 M lines); `to_pandas` makes them text with one `take`."""
    fragment = next(iter(dataset.get_fragments()), None)
    metadata = getattr(fragment, "metadata", None)
    if metadata is None or metadata.num_row_groups == 0:
        return []
    text = {f.name for f in dataset.schema if _is_text(f.type) and not pa.types.is_dictionary(f.type)}
    found = []
    for j in range(metadata.num_columns):
        name = metadata.schema.column(j).path
        if name not in text:
            continue
        chunks = [metadata.row_group(i).column(j) for i in range(metadata.num_row_groups)]
        if all(_small_dictionary(chunk) for chunk in chunks):
            found.append(name)
    return found


def _small_dictionary(chunk: Any) -> bool:
    """A dictionary page far smaller than the values it encodes (a writer that gave up on the dictionary
    for a column of mostly distinct text leaves a large one, then plain pages)."""
    if not chunk.has_dictionary_page or chunk.dictionary_page_offset is None:
        return False
    dictionary = chunk.data_page_offset - chunk.dictionary_page_offset
    return 0 < dictionary <= DICTIONARY_BYTES_PER_VALUE * chunk.num_values


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def _decimal(kind: pa.DataType, value: int | float):
    """`value` as a literal of the decimal column's own type, when comparing with it in decimals orders
    rows as comparing the column's float64 (what pandas sees) with `value` does; else None."""
    from decimal import Decimal, InvalidOperation

    if kind.precision > EXACT_DECIMAL_DIGITS:
        return None
    try:
        number = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    except InvalidOperation:
        return None
    _, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int) or len(digits) > EXACT_DECIMAL_DIGITS:  # (not finite: a letter)
        return None
    if -exponent > kind.scale or abs(number) >= Decimal(10) ** (kind.precision - kind.scale):
        return None  # more decimal places, or more integer digits, than the column has
    return pa.scalar(number, kind)


def _moment(value: object, kind: pa.DataType):
    """A date or datetime as the pandas column of `kind` compares with it (naive values meaning wall time
    in the column's zone), as an Arrow literal; None where pandas would not compare them."""
    import datetime as dt

    if not isinstance(value, dt.date):
        return None
    moment = pd.Timestamp(value)
    if pa.types.is_date(kind):
        if moment.tz is not None or moment != moment.normalize():
            return None
        return pa.scalar(moment.date(), kind)
    tz = kind.tz
    if (moment.tz is None) != (tz is None):
        if moment.tz is not None:
            return None  # naive column, aware value: pandas refuses
        try:
            moment = moment.tz_localize(tz)
        except (ValueError, TypeError):  # not a wall time of the zone (a DST gap or fold)
            return None
    elif tz is not None:
        moment = moment.tz_convert(tz)
    unit = "ns" if moment.nanosecond else "us"
    return pa.scalar(moment, pa.timestamp(unit, tz))


def _literal(kind: pa.DataType, value: object):
    """(True, the Arrow literal) when Arrow compares a column of `kind` with `value` as the expression
    language compares the pandas column with it (nulls fail both); (False, None) otherwise."""
    if isinstance(value, str):
        return _is_text(kind), value
    if isinstance(value, bool):
        return pa.types.is_boolean(kind), value
    if isinstance(value, int | float):
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            return True, value
        literal = _decimal(kind, value) if pa.types.is_decimal(kind) else None
        return literal is not None, literal
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        literal = _moment(value, kind)
        return literal is not None, literal
    return False, None


def _value_set(kind: pa.DataType, literals: list):
    """The values of an `in` as an array of the column's own type (Arrow's is_in matches exact types)."""
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        units = _UNIT_NS[kind.unit] if pa.types.is_timestamp(kind) else 86_400 * 10**9
        nanos = [pd.Timestamp(lit.as_py()).value for lit in literals]
        if any(n % units for n in nanos):
            return None  # a value finer than the column's unit
        return pa.array([lit.as_py() for lit in literals], kind)
    if pa.types.is_decimal(kind):
        return pa.array([lit.as_py() for lit in literals], kind)
    return literals


def _comparable(kind: pa.DataType, other: pa.DataType) -> bool:
    """Whether Arrow orders values of two column types as pandas orders the columns they become: numbers
    (decimals of at most EXACT_DECIMAL_DIGITS digits only with each other: float64 keeps their order), dates
    with dates, timestamps of one type, text with text (byte order in both)."""
    if pa.types.is_decimal(kind) or pa.types.is_decimal(other):
        return all(pa.types.is_decimal(k) and k.precision <= EXACT_DECIMAL_DIGITS for k in (kind, other))
    if all(pa.types.is_integer(k) or pa.types.is_floating(k) for k in (kind, other)):
        return True
    if (pa.types.is_date(kind) and pa.types.is_date(other)) or pa.types.is_timestamp(kind):
        return kind == other
    return all(_is_text(k) and not pa.types.is_dictionary(k) for k in (kind, other))


def _columns_expression(predicate, kind: pa.DataType, other: pa.DataType):
    """`column <op> other column` in Arrow, or None where the types do not compare as in pandas. Floats'
    NaN is null to the expression language, so it fails every comparison (Arrow's `NaN != x` holds)."""
    import pyarrow.compute as pc

    if predicate.op not in _ARROW_OPS or not _comparable(kind, other):
        return None
    left, right = pc.field(predicate.column), pc.field(predicate.value.name)
    expression = getattr(left, _ARROW_OPS[predicate.op])(right)
    for field, field_kind in ((left, kind), (right, other)):
        if pa.types.is_floating(field_kind):
            expression = expression & ~field.is_null(nan_is_null=True)
    return expression


def _columns(predicate) -> tuple[str, ...]:
    """The columns a predicate reads."""
    other = predicate.value
    return (predicate.column, other.name) if isinstance(other, OtherColumn) else (predicate.column,)


def _expression(predicate, schema: pa.Schema):
    """The Arrow expression of one predicate on `schema`, or None where it does not apply."""
    import pyarrow.compute as pc

    if any(name not in schema.names for name in _columns(predicate)):
        return None
    kind = schema.field(predicate.column).type
    if isinstance(predicate.value, OtherColumn):
        return _columns_expression(predicate, kind, schema.field(predicate.value.name).type)
    if predicate.op in ("is_null", "not_null"):  # NaN is null to pandas' isna, which the filter uses
        test = pc.field(predicate.column).is_null(nan_is_null=pa.types.is_floating(kind))
        return test if predicate.op == "is_null" else ~test
    values = predicate.value if predicate.op == "in" else (predicate.value,)
    literals = []
    for value in values:
        ok, literal = _literal(kind, value)
        if not ok:
            return None
        literals.append(literal)
    field = pc.field(predicate.column)
    if predicate.op == "!=" and pa.types.is_floating(kind):  # NaN != x holds in Arrow; NaN is null here
        return (field != literals[0]) & ~field.is_null(nan_is_null=True)
    if predicate.op != "in":
        return getattr(field, _ARROW_OPS[predicate.op])(literals[0])
    value_set = _value_set(kind, literals)
    return None if value_set is None else field.isin(value_set)


def applicable(predicate, schema: pa.Schema) -> bool:
    """Whether Arrow applies `predicate` to this schema as the expression language would: a column of
    the file compared with values of its own kind (nulls fail the comparison in both)."""
    return _expression(predicate, schema) is not None


class ArrowFilter:
    """A filter pushed into a Parquet reader: `scan` goes into the dataset scan (row groups whose
    statistics exclude it are skipped, rows filtered while reading), `rows` is applied to the table read
    (conditions on string_view columns, which Arrow cannot apply while scanning)."""

    def __init__(self, scan, rows, row_columns: tuple[str, ...] = (), shown: tuple[str, ...] = ()) -> None:
        self.scan, self.rows, self.row_columns, self.shown = scan, rows, row_columns, shown

    def apply(self, table: pa.Table) -> pa.Table:
        return table if self.rows is None else table.filter(self.rows)

    def __str__(self) -> str:
        return " and ".join(self.shown)

    def __repr__(self) -> str:
        return f"ArrowFilter({' and '.join(self.shown)})"


def _and(parts: list):
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined


def dataset_filter(predicates: list, schema: pa.Schema) -> ArrowFilter | None:
    """The predicates that apply to the files' own `schema` (before any cast), as an `ArrowFilter` (None:
    none do)."""
    scan: list[pc.Expression] = []
    rows: list[pc.Expression] = []
    row_columns: list[str] = []
    shown: list[str] = []
    for predicate in predicates:
        expression = _expression(predicate, schema)
        if expression is None:
            continue
        shown.append(str(predicate))
        columns = _columns(predicate)
        if any(pa.types.is_string_view(schema.field(name).type) for name in columns):
            rows.append(expression)
            row_columns.extend(columns)
        else:
            scan.append(expression)
    if not scan and not rows:
        return None
    return ArrowFilter(_and(scan), _and(rows), tuple(dict.fromkeys(row_columns)), tuple(shown))
