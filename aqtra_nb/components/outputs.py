"""Output components. Files are written to a temporary name and renamed when complete, so a failed run
never leaves a half-written output and an earlier good output stays until it is replaced."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import Field

from ..errors import AqtraError, FlowValidationError
from .base import Component, F, Frame, NoParams, OutputComponent, Params, is_dask
from .file_errors import writing_problem
from .temporary import remove_stale, temporary_name


class FileOutputParams(Params):
    path: str = Field(description="Output path (relative to the flow file).")


class WriteCsvParams(FileOutputParams):
    separator: str = Field(",", max_length=1, description="Field separator.")
    header: bool = Field(True, description="Write a header line.")


def _temporary(path: Path) -> Path:
    """A temporary name next to `path`; what killed writers left for the same target goes first."""
    remove_stale(fsspec.filesystem("file"), str(path.parent), path.name)
    return path.with_name(temporary_name(path.name))


def _replace(tmp: Path, final: Path) -> None:
    """Move a finished output into place; a directory replaces the old one as a whole."""
    if tmp.is_dir() and final.exists():
        old = _temporary(final)
        final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
    else:
        os.replace(tmp, final)


_KINDS = {"csv": "CSV", "parquet": "Parquet"}


def _local_path(ctx: Any, component: str, path: str) -> str:
    """The resolved output path; a URL is an error while planning (these writers write local files)."""
    resolved = ctx.resolve_path(path)
    if "://" in resolved:
        raise ctx.error(
            f"{component} writes local files, not {resolved}; export_file writes CSV, Excel or JSON to a "
            "URL or a files connection",
            field="path",
            kind=FlowValidationError,
        )
    return resolved


def _writable(kind: str, path: Path, action: Any) -> Any:
    """Run `action`; an OS error becomes a plain message about `path` (field `path`), not `[Errno 2] ...`."""
    try:
        return action()
    except OSError as exc:
        raise AqtraError(writing_problem(kind, str(path), exc), field="path") from exc


class _Writer:
    """Writes the whole input to one file, then renames it into place. Returns the rows written."""

    def __init__(self, path: str, fmt: str, options: dict[str, Any]) -> None:
        self.path, self.fmt, self.options = Path(path), fmt, options

    def __call__(self, frame: pd.DataFrame) -> int:
        return _writable(_KINDS[self.fmt], self.path, lambda: self._write(frame))

    def _write(self, frame: pd.DataFrame) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temporary(self.path)
        try:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self.fmt == "parquet":
                pq.write_table(table, tmp, compression=self.options.get("compression", "snappy"))
            else:
                opts = pacsv.WriteOptions(
                    include_header=self.options["header"], delimiter=self.options["separator"]
                )
                pacsv.write_csv(table, tmp, write_options=opts)
            _replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)
        return len(frame)


def _identity(frame: pd.DataFrame) -> pd.DataFrame:
    return frame


def write_single(frame: Frame, writer: Any) -> Any:
    """Pandas: write now, return the rows. Dask: a lazy scalar whose one task gathers the partitions in
    order and writes the file."""
    if not is_dask(frame):
        return writer(frame)
    return frame.reduction(chunk=_identity, aggregate=writer, split_every=False, meta=int)


class WriteCsv(OutputComponent[WriteCsvParams]):
    """Write the input as one CSV file."""

    name = "write_csv"

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        _local_path(self.ctx, self.name, self.params.path)
        return inputs[0]

    def write(self, frame: Frame) -> Any:
        p = self.params
        path = _local_path(self.ctx, self.name, p.path)
        writer = self.ctx.guard(_Writer(path, "csv", {"header": p.header, "separator": p.separator}))
        return write_single(frame, writer)


class WriteParquetParams(FileOutputParams):
    partition_by: list[str] = Field(
        default_factory=list, description="Write a hive-partitioned directory by these columns."
    )
    compression: str = Field("snappy", description="snappy, zstd, gzip or none.")


class WriteParquet(OutputComponent[WriteParquetParams]):
    """Write the input as a Parquet file, or a partitioned directory with `partition_by`."""

    name = "write_parquet"

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        _local_path(self.ctx, self.name, self.params.path)
        self.ctx.require_columns(inputs[0].columns, self.params.partition_by, field="partition_by")
        return inputs[0]

    def write(self, frame: Frame) -> Any:
        p = self.params
        path = _local_path(self.ctx, self.name, p.path)
        if not p.partition_by:
            return write_single(
                frame, self.ctx.guard(_Writer(path, "parquet", {"compression": p.compression}))
            )
        tmp = _writable("Parquet", Path(path), lambda: _temporary(Path(path)))
        if not is_dask(frame):
            written = self.ctx.guard(_write_part)(
                frame, str(tmp), p.partition_by, p.compression, len(frame), path
            )
            return self.ctx.guard(_Commit(tmp, Path(path)))(written)
        # Parts are written in parallel, but only once every partition is computed: a step failing upstream
        # must not leave a half-written temporary directory behind.
        ready = frame.map_partitions(_count_rows, meta=pd.DataFrame({"rows": [0]}))["rows"].sum()
        written = frame.map_partitions(
            self.ctx.guard(_write_part),
            str(tmp),
            p.partition_by,
            p.compression,
            ready,
            path,
            meta=pd.DataFrame({"rows": [0]}),
        )
        return written.reduction(
            chunk=_identity, aggregate=self.ctx.guard(_Commit(tmp, Path(path))), split_every=False, meta=int
        )


def _count_rows(part: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"rows": [len(part)]})


def _write_part(
    part: pd.DataFrame, tmp: str, partition_by: list[str], compression: str, ready: int, final: str
) -> pd.DataFrame:
    """Write one partition into the temporary directory (`ready`: all partitions' rows, computed first)."""
    _writable("Parquet", Path(final), lambda: _write_dataset(part, tmp, partition_by, compression))
    return pd.DataFrame({"rows": [len(part)]})


def _write_dataset(part: pd.DataFrame, tmp: str, partition_by: list[str], compression: str) -> None:
    if len(part):
        table = pa.Table.from_pandas(part, preserve_index=False)
        pq.write_to_dataset(
            table,
            tmp,
            partition_cols=partition_by,
            compression=compression,
            basename_template=f"part-{uuid.uuid4().hex[:12]}-{{i}}.parquet",
        )


class _Commit:
    """Moves a fully written partitioned directory into place."""

    def __init__(self, tmp: Path, final: Path) -> None:
        self.tmp, self.final = tmp, final

    def __call__(self, written: pd.DataFrame) -> int:
        return _writable("Parquet", self.final, lambda: self._commit(written))

    def _commit(self, written: pd.DataFrame) -> int:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        try:
            _replace(self.tmp, self.final)
        finally:
            if self.tmp.exists():
                shutil.rmtree(self.tmp, ignore_errors=True)
        return int(written["rows"].sum())


class ToFrame(Component[NoParams]):
    """Hand the input back to the notebook as a pandas DataFrame (`result[step_id]`)."""

    name = "to_frame"
    group = "output"

    def transform(self, inputs: list[F]) -> F:
        return inputs[0]

    def required_columns(self, needed, inputs):
        return [None]


OUTPUTS = [WriteCsv, WriteParquet, ToFrame]
