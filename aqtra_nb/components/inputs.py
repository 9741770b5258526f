"""Input components: files (CSV, Parquet, JSON, Excel), notebook frames, typed empty models, sample data."""

from __future__ import annotations

import functools
import glob
import os
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pandas as pd
import pyarrow.dataset as pads
from dask.utils import parse_bytes
from pydantic import Field

from ..column_kinds import TEMPORAL, DeclaredKind, dtype_of, empty_frame_of_kinds, to_datetime
from ..errors import AqtraError, FlowValidationError
from . import arrow
from .base import F, FrameInput, InputComponent, Params, is_dask, partitionwise
from .file_errors import reading_problem
from .fingerprints import content_hash, local_fingerprint

if TYPE_CHECKING:  # 0.3 s to import: in-memory runs of small files never need it
    import dask.dataframe as dd


class FileParams(Params):
    path: str = Field(description="File path (relative to the flow file), glob, or fsspec URL.")
    columns: list[str] | None = Field(None, description="Read only these columns.")


class CsvParams(FileParams):
    separator: str = Field(",", description="Field separator.")
    skip_rows: int = Field(0, ge=0, description="Lines to skip before the header.")
    parse_dates: list[str] = Field(default_factory=list, description="Columns to parse as datetimes.")
    dtypes: dict[str, DeclaredKind] = Field(default_factory=dict, description="Column types to force.")
    encoding: str = Field("utf-8", description="Text encoding.")
    blocksize: str = Field("64MB", description="Bytes per partition.")


class ReadCsv(InputComponent[CsvParams]):
    """Read a CSV file (or a glob of them) in parallel blocks."""

    name = "read_csv"

    def _options(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The options of pandas' `read_csv` and the date columns to parse after reading."""
        p = self.params
        dates = {name: "datetime" for name in p.parse_dates}
        dates.update({k: v for k, v in p.dtypes.items() if v in TEMPORAL})
        # Date columns are read as text and parsed alike in every block (pandas would leave text it cannot
        # parse in one block as text, unlike the next).
        dtype = {k: dtype_of(v) for k, v in p.dtypes.items() if k not in dates}
        dtype.update(dict.fromkeys(dates, "str"))
        options = {"sep": p.separator, "skiprows": p.skip_rows or None, "dtype": dtype or None}
        return {**options, "encoding": p.encoding}, dates

    def _frame(self, columns: list[str] | None) -> dd.DataFrame:
        import dask.dataframe as dd

        path = self.ctx.resolve_path(self.params.path)
        options, dates = self._options()
        try:
            frame = dd.read_csv(path, blocksize=self.params.blocksize, **options)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise self.ctx.error(reading_problem("CSV", path, exc), field="path") from None
        return self._finish(frame, columns, dates)

    def _finish(self, frame: F, columns: list[str] | None, dates: dict[str, str]) -> F:
        p = self.params
        names = [str(c) for c in frame.columns]
        self.ctx.require_columns(names, p.columns or [], field="columns")
        self.ctx.require_columns(names, p.parse_dates, field="parse_dates")
        self.ctx.require_columns(names, list(p.dtypes), field="dtypes")
        if columns:
            frame = frame[columns]
        dates = {k: v for k, v in dates.items() if k in frame.columns}
        return partitionwise(self.ctx, frame, _parse_dates, dates) if dates else frame

    def _one_block(self) -> str | None:
        """The file, when it is one local file no bigger than `blocksize`. Dask reads such a file as one
        pandas block, cast to the dtypes pandas gives its first 10 rows (`dd.read_csv`'s sample), so
        pandas alone reads the same frame, without importing Dask's dataframe module (0.3 s)."""
        path = self.ctx.resolve_path(self.params.path)
        if "://" in path or glob.has_magic(path) or not os.path.isfile(path):
            return None
        return path if os.path.getsize(path) <= parse_bytes(self.params.blocksize) else None

    def _pandas(self, rows: int | None = None) -> pd.DataFrame | None:
        """The file's first `rows` (all by default) read by pandas, or None when Dask reads it otherwise
        or pandas fails (the Dask path then reads it, or says what is wrong, as it always has)."""
        path = self._one_block()
        if path is None:
            return None
        try:
            return pd.read_csv(path, nrows=rows, **self._options()[0])
        except (OSError, ValueError, pd.errors.ParserError):
            return None

    def read_schema(self) -> pd.DataFrame:
        head = self._pandas(rows=10)
        if head is None:
            return self._frame(self.params.columns)._meta
        return self._finish(head.iloc[:0], self.params.columns, self._options()[1])

    def read_pandas(self, columns: list[str] | None, filters: Any = None) -> pd.DataFrame:
        frame, head = self._pandas(), self._pandas(rows=10)
        if frame is None or head is None or not frame.dtypes.equals(head.dtypes):
            return super().read_pandas(columns, filters)  # Dask casts to the head's dtypes or refuses
        return self._finish(frame, columns or self.params.columns, self._options()[1])

    def source_fingerprint(self) -> Any:
        return local_fingerprint(self.ctx.resolve_path(self.params.path))

    def content_fingerprint(self) -> Any:
        return content_hash(self.ctx.resolve_path(self.params.path))

    def read(self, columns: list[str] | None, filters: Any = None) -> dd.DataFrame:
        return self._frame(columns or self.params.columns)

    def size_hint(self, columns: list[str] | None, filters: Any = None) -> int | None:
        path = self.ctx.resolve_path(self.params.path)
        return None if "://" in path else _local_size(glob.glob(path), factor=2.0)


def _local_size(paths: list[str], factor: float) -> int | None:
    """Total size of local files times `factor`; None if any is not a local file."""
    total = 0
    for path in paths:
        if "://" in path or not os.path.isfile(path):
            return None
        total += os.path.getsize(path)
    return int(total * factor) if paths else None


def _parse_dates(frame: pd.DataFrame, dates: dict[str, str]) -> pd.DataFrame:
    return frame.assign(**{name: to_datetime(frame[name], kind) for name, kind in dates.items()})


class ParquetParams(FileParams):
    partitioning: Literal["hive", "none"] = Field("hive", description="Directory partitioning scheme.")


class ReadParquet(InputComponent[ParquetParams]):
    """Read Parquet files or a (hive-partitioned) directory; columns and filters are pushed into Arrow."""

    name = "read_parquet"
    supports_filters = True
    null_tests = True
    column_comparisons = True

    @functools.cached_property
    def dataset(self) -> pads.Dataset:
        path = self.ctx.resolve_path(self.params.path)
        partitioning = "hive" if self.params.partitioning == "hive" else None
        try:
            found = pads.dataset(path, format="parquet", partitioning=partitioning)
            self.file_schema = found.schema
            dictionaries = arrow.dictionary_columns(found)
            readable = arrow.readable_schema(found.schema, dictionaries)
            if readable is not None:  # the same files, scanned with text as dictionaries or large strings
                options = pads.ParquetReadOptions(dictionary_columns=dictionaries)
                fmt = pads.ParquetFileFormat(read_options=options)
                found = pads.dataset(path, format=fmt, partitioning=partitioning, schema=readable)
        except (OSError, ValueError) as exc:
            raise self.ctx.error(reading_problem("Parquet", path, exc), field="path") from None
        return found

    def push_filter(self, predicates):
        """An Arrow filter, checked against the files' own schema (before any cast)."""
        self.dataset  # noqa: B018 (opens it: sets file_schema)
        return arrow.dataset_filter(predicates, self.file_schema)

    def applies_all(self, predicates) -> bool:
        self.dataset  # noqa: B018
        return all(arrow.applicable(predicate, self.file_schema) for predicate in predicates)

    def read_schema(self) -> pd.DataFrame:
        meta = arrow.empty_frame_of_schema(self.dataset.schema)
        if self.params.columns:
            self.ctx.require_columns(meta.columns, self.params.columns, field="columns")
            meta = meta[self.params.columns]
        return meta

    def source_fingerprint(self) -> Any:
        return local_fingerprint(self.ctx.resolve_path(self.params.path))

    def content_fingerprint(self) -> Any:
        return content_hash(self.ctx.resolve_path(self.params.path))

    def read(self, columns: list[str] | None, filters: Any = None) -> dd.DataFrame:
        import dask.dataframe as dd

        columns = columns or self.params.columns or list(self.dataset.schema.names)
        meta = arrow.empty_frame_of_schema(self.dataset.schema)[columns]
        pieces = _row_group_chunks(self.dataset, _scan(filters), ROWS_PER_PARTITION)
        if not pieces:
            return dd.from_pandas(meta, npartitions=1)
        reader = self.ctx.guard(_ReadFragment(columns, filters, self.dataset.schema))
        return dd.from_map(reader, pieces, meta=meta, enforce_metadata=False)

    def read_pandas(self, columns: list[str] | None, filters: Any = None) -> pd.DataFrame:
        """Chunks of row groups read, filtered and cast on all cores (Arrow's own scan of one file, and one
        `cast` call, keep to about one core), then one frame; a chunk's decimals are let go once cast."""
        import pyarrow as pa

        columns = columns or self.params.columns or list(self.dataset.schema.names)
        pieces = _row_group_chunks(self.dataset, _scan(filters), ROWS_PER_CHUNK)
        if len(pieces) <= 1:
            return arrow.to_pandas(_filtered_table(self.dataset, columns, filters))
        schema = self.dataset.schema
        read = lambda piece: arrow.normalized(_filtered_table(piece, columns, filters, schema=schema))  # noqa: E731
        return arrow.to_pandas(pa.concat_tables(arrow.thread_map(read, pieces)))  # (no name keeps the parts)

    def size_hint(self, columns: list[str] | None, filters: Any = None) -> int | None:
        """From the files' metadata: the uncompressed size of the columns read (strings weigh more in
        pandas, hence the factor), over the row groups whose statistics the pushed filter leaves (those
        are skipped for certain: a date range over files sorted by date reads a fraction of them)."""
        share = len(columns) / max(1, len(self.dataset.schema.names)) if columns else 1.0
        scan = _scan(filters)
        total = 0
        for fragment in self.dataset.get_fragments(filter=scan):
            metadata = fragment.metadata
            groups: list[int] | range = range(metadata.num_row_groups)
            if scan is not None:
                pieces = fragment.split_by_row_group(filter=scan, schema=self.dataset.schema)
                groups = [piece.row_groups[0].id for piece in pieces]
            total += sum(metadata.row_group(i).total_byte_size for i in groups)
        return int(total * share * 1.5)


ROWS_PER_PARTITION = 1_000_000
ROWS_PER_CHUNK = 500_000  # an in-memory read's unit of work on one thread


def _row_group_chunks(dataset: pads.Dataset, filters: Any, rows: int) -> list[Any]:
    """Fragments of about `rows` rows each: consecutive row groups of one file (skipping those whose
    statistics exclude `filters`), so partitions are neither tiny nor whole huge files."""
    chunks = []
    for fragment in dataset.get_fragments(filter=filters):
        group: list[int] = []
        count = 0
        for piece in fragment.split_by_row_group(filter=filters, schema=dataset.schema):
            info = piece.row_groups[0]
            group.append(info.id)
            count += info.num_rows
            if count >= rows:
                chunks.append(fragment.subset(row_group_ids=group))
                group, count = [], 0
        if group:
            chunks.append(fragment.subset(row_group_ids=group))
    return chunks


class _ReadFragment:
    """Read one Parquet row group: only `columns`, rows passing `filters`, cast inside Arrow."""

    def __init__(self, columns: list[str], filters: Any, schema: Any) -> None:
        self.columns, self.filters, self.schema = columns, filters, schema

    def __call__(self, fragment: Any) -> pd.DataFrame:
        return arrow.to_pandas(_filtered_table(fragment, self.columns, self.filters, schema=self.schema))


def _scan(filters: arrow.ArrowFilter | None) -> Any:
    return None if filters is None else filters.scan


def _filtered_table(
    source: Any, columns: list[str], filters: arrow.ArrowFilter | None, **options: Any
) -> Any:
    """`columns` of a dataset or fragment, the scan filter applied while reading and the row filter after
    (reading the columns it needs too)."""
    if filters is None:
        return source.to_table(columns=columns, **options)
    extra = [c for c in filters.row_columns if c not in columns]
    table = source.to_table(columns=columns + extra, filter=filters.scan, **options)
    table = filters.apply(table)
    return table.select(columns) if extra else table


FP = TypeVar("FP", bound=FileParams)


class _WholeFileReader(FrameInput[FP]):
    """A reader of formats that cannot be split (JSON, Excel): read once, in planning, then partitioned."""

    def _load(self, path: str) -> pd.DataFrame:
        raise NotImplementedError

    @functools.cached_property
    def _data(self) -> pd.DataFrame:
        frame = self._load(self.ctx.resolve_path(self.params.path))
        frame.columns = [str(c) for c in frame.columns]
        if self.params.columns:
            self.ctx.require_columns(frame.columns, self.params.columns, field="columns")
            frame = frame[self.params.columns]
        return frame

    def frame(self) -> pd.DataFrame:
        return self._data


class JsonParams(FileParams):
    lines: bool = Field(False, description="One JSON record per line (JSON Lines).")
    orient: Literal["records", "columns", "index", "split", "values"] = Field("records")


class ReadJson(_WholeFileReader[JsonParams]):
    """Read JSON records (an array of objects) or JSON Lines."""

    name = "read_json"

    def _load(self, path: str) -> pd.DataFrame:
        try:
            return pd.read_json(path, lines=self.params.lines, orient=self.params.orient)
        except (OSError, ValueError) as exc:
            raise self.ctx.error(reading_problem("JSON", path, exc), field="path") from None


class ExcelParams(FileParams):
    sheet: str | int = Field(0, description="Sheet name or 0-based index.")
    skip_rows: int = Field(0, ge=0, description="Rows to skip before the header.")


class ReadExcel(_WholeFileReader[ExcelParams]):
    """Read one sheet of an Excel workbook (.xlsx)."""

    name = "read_excel"

    def _load(self, path: str) -> pd.DataFrame:
        try:
            return pd.read_excel(path, sheet_name=self.params.sheet, skiprows=self.params.skip_rows)
        except ImportError:
            raise AqtraError("reading Excel needs openpyxl: pip install openpyxl") from None
        except (OSError, ValueError, KeyError) as exc:
            raise self.ctx.error(reading_problem("Excel", path, exc), field="path") from None


class FromFrameParams(Params):
    name: str = Field(description="Name of the frame passed at run time (`frames={name: df}`).")


class FromFrame(FrameInput[FromFrameParams]):
    """Start from a pandas or Dask frame of the notebook, passed at run time by name."""

    name = "from_frame"

    def _frame(self) -> pd.DataFrame | dd.DataFrame:
        name = self.params.name
        if name not in self.ctx.objects:
            known = ", ".join(self.ctx.objects) or "none"
            raise self.ctx.error(
                f"no frame named {name!r} was passed to the run (pass frames={{{name!r}: df}}); "
                f"frames passed: {known}",
                field="name",
                kind=FlowValidationError,
            )
        frame = self.ctx.objects[name]
        if not isinstance(frame, pd.DataFrame) and not is_dask(frame):
            raise self.ctx.error(f"{name!r} is a {type(frame).__name__}, not a DataFrame", field="name")
        return frame

    frame = _frame


class EmptyParams(Params):
    columns: dict[str, DeclaredKind] = Field(description="Column names and types of the empty model.")


class Empty(FrameInput[EmptyParams]):
    """A typed empty frame (a model with no rows), e.g. the start of a union."""

    name = "empty"

    def cache_version(self) -> Any:
        return ()  # made from the params alone

    def frame(self) -> pd.DataFrame:
        return empty_frame_of_kinds(self.params.columns)


class SampleDataParams(Params):
    table: Literal["orders", "customers", "products", "regions"] = Field(description="Which table.")
    scale: float = Field(0.01, gt=0, le=100, description="1 = about one million orders.")
    seed: int = Field(42, description="Random seed; the same seed gives the same data.")


class SampleData(FrameInput[SampleDataParams]):
    """The bundled synthetic sales star schema (orders, customers, products, regions)."""

    name = "sample_data"

    def cache_version(self) -> Any:
        return ()  # made from the params alone (seeded)

    def frame(self) -> pd.DataFrame:
        return _sales(self.params.scale, self.params.seed)[self.params.table]


@functools.lru_cache(maxsize=4)
def _sales(scale: float, seed: int) -> dict[str, pd.DataFrame]:
    from .. import datasets

    return datasets.sales(scale=scale, seed=seed)


INPUTS = [ReadCsv, ReadParquet, ReadJson, ReadExcel, FromFrame, Empty, SampleData]
