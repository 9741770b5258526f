"""File connectors: `import_file` and `export_file` read and write CSV, Excel and JSON through a `files`
connection (any fsspec filesystem: a local folder, `s3://bucket/prefix`, `memory://`, ...) or a path.

The connection is resolved (secrets included) in the process that opens the file, so task graphs carry
its name only. Exports are written to a temporary name next to the target and renamed into place when
complete, as `write_csv` does: a failed run leaves no partial file and keeps the previous one.
"""

from __future__ import annotations

import functools
import io
import json
import os
import posixpath
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import pandas as pd
from pydantic import Field, model_validator

from ..connections import ConnectionHandle, check_url_userinfo
from ..errors import AqtraError, did_you_mean
from .base import Frame, FrameInput, OutputComponent, Params, StepContext
from .file_errors import plain
from .json_records import records_to_frame
from .outputs import write_single
from .temporary import remove_stale, temporary_name

Format = Literal["auto", "csv", "xlsx", "json"]
EXTENSIONS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
LINES_EXTENSIONS = (".jsonl", ".ndjson")


class FileLocationParams(Params):
    connection: str | None = Field(
        None, description="Name of a files connection (a folder or fsspec URL); `path` is inside it."
    )
    path: str = Field(
        description="File path: inside the connection, or else relative to the flow file (or an fsspec URL)."
    )
    format: Format = Field("auto", description="csv, xlsx or json; auto: from the file extension.")
    encoding: str = Field("utf-8", description="Text encoding (csv, json).")
    lines: bool | None = Field(None, description="JSON Lines (one record per line); auto: .jsonl/.ndjson.")

    @model_validator(mode="after")
    def _safe_path(self) -> FileLocationParams:
        if self.connection is not None:
            parts = PurePosixPath(self.path.replace("\\", "/"))
            if parts.is_absolute() or ".." in parts.parts or "://" in self.path:
                raise ValueError("with a connection, `path` is relative to it and stays inside it (no '..')")
        else:
            check_url_userinfo(self.path)
        return self

    def file_format(self) -> str:
        if self.format != "auto":
            return self.format
        suffix = PurePosixPath(self.path).suffix.lower()
        if suffix not in EXTENSIONS:
            raise ValueError(
                f"cannot tell the format from {suffix or 'no extension'!r}; set `format` to csv, xlsx or json"
            )
        return EXTENSIONS[suffix]

    def json_lines(self) -> bool:
        return self.lines if self.lines is not None else self.path.lower().endswith(LINES_EXTENSIONS)


class Location(ConnectionHandle):
    """Where a file is: (filesystem, full path) once resolved; a files connection's options may hold
    credentials, so the resolved filesystem never travels with the task."""

    target = "path"

    def __init__(self, ctx: StepContext, params: FileLocationParams) -> None:
        super().__init__(ctx.base_dir, params.connection, step_id=ctx.step_id, source=ctx.source)
        self.path = params.path

    @property
    def field(self) -> str:
        return (
            "path"  # a file that is missing or unreadable is the path's problem, with or without a connection
        )

    @property
    def shown(self) -> str:
        return f"{self.path!r} in connection {self.connection!r}" if self.connection else repr(self.path)

    def resolve(self) -> tuple[Any, str]:
        return super().resolve()

    def _resolve(self) -> tuple[Any, str]:
        import fsspec

        if not self.connection:
            ctx = StepContext(self.step_id or "", "", self.source, Path(self.base_dir))
            try:
                return fsspec.core.url_to_fs(ctx.resolve_path(self.path))
            except (ImportError, ValueError, OSError) as exc:
                raise self.error(f"cannot open {self.shown}: {plain(exc)}") from None
        found = self.lookup("files")
        try:
            fs, root = found.filesystem()
        except AqtraError as exc:
            raise exc.at(file=self.source, step=self.step_id, field="connection") from None
        except (ImportError, ValueError, OSError) as exc:
            raise self.error(f"cannot open connection {self.connection!r}: {exc}", "connection") from None
        return fs, posixpath.join(root, self.path) if root else self.path

    def missing(self) -> AqtraError:
        """`no file ...` with the closest names in its folder."""
        fs, full = self.resolve()
        try:
            names = [posixpath.basename(str(p).rstrip("/")) for p in fs.ls(fs._parent(full), detail=False)]
        except (OSError, ValueError):
            names = []
        hint = did_you_mean(posixpath.basename(full), names)
        return self.error(f"no file {self.shown}.{hint}")


# -- import_file ------------------------------------------------------------------------------------------


class ImportFileParams(FileLocationParams):
    separator: str = Field(",", min_length=1, description="CSV field separator.")
    skip_rows: int = Field(0, ge=0, description="Lines (csv), rows (xlsx) or records (json) to skip first.")
    sheet: str | int = Field(0, description="Excel sheet name or 0-based index.")
    column_mapping: dict[str, str] = Field(
        default_factory=dict, description="Rename columns {source: target}; other columns keep their names."
    )


class ImportFile(FrameInput[ImportFileParams]):
    """Import a CSV, Excel or JSON file from a files connection or a path, renaming its columns."""

    name = "import_file"

    @functools.cached_property
    def location(self) -> Location:
        return Location(self.ctx, self.params)

    @functools.cached_property
    def _data(self) -> pd.DataFrame:
        p = self.params
        try:
            fmt = p.file_format()
        except ValueError as exc:
            raise self.location.error(str(exc), "format") from None
        fs, full = self.location.resolve()
        try:
            with fs.open(full, "rb") as handle:
                frame = self._parse(handle, fmt)
        except FileNotFoundError:
            raise self.location.missing() from None
        except IsADirectoryError:
            raise self.location.error(f"{self.location.shown} is a folder, not a file") from None
        except UnicodeDecodeError as exc:
            raise self.location.error(
                f"cannot read {self.location.shown} as {p.encoding}: {exc.reason} at byte {exc.start}; "
                "set `encoding` (e.g. latin-1 or cp1252)",
                "encoding",
            ) from None
        except ImportError as exc:
            raise self.location.error(
                f"reading {fmt} needs a package that is missing: {exc}", "format"
            ) from None
        except (ValueError, LookupError, OSError, pd.errors.ParserError) as exc:
            if type(exc) is LookupError:  # an unknown encoding's name
                raise self.location.error(str(exc), "encoding") from None
            field = "sheet" if fmt == "xlsx" and "orksheet" in str(exc) else "path"
            raise self.location.error(
                f"cannot read {fmt} {self.location.shown}: {plain(exc)}", field
            ) from None
        frame.columns = [str(c) for c in frame.columns]
        return self._mapped(frame)

    def _parse(self, handle: Any, fmt: str) -> pd.DataFrame:
        p = self.params
        if fmt == "csv":
            return pd.read_csv(handle, sep=p.separator, skiprows=p.skip_rows or None, encoding=p.encoding)
        if fmt == "xlsx":
            return pd.read_excel(io.BytesIO(handle.read()), sheet_name=p.sheet, skiprows=p.skip_rows)
        text = handle.read().decode(p.encoding)
        if p.json_lines():
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            records = json.loads(text)
        if not isinstance(records, list):
            raise ValueError("expected an array of records (or JSON Lines with `lines: true`)")
        return records_to_frame(records[p.skip_rows :])

    def _mapped(self, frame: pd.DataFrame) -> pd.DataFrame:
        mapping = self.params.column_mapping
        if not mapping:
            return frame
        self.ctx.require_columns(frame.columns, list(mapping), field="column_mapping")
        renamed = [mapping.get(c, c) for c in frame.columns]
        twice = sorted({c for c in renamed if renamed.count(c) > 1})
        if twice:
            raise self.ctx.error(
                f"column_mapping makes duplicate column names: {', '.join(twice)}", field="column_mapping"
            )
        frame.columns = renamed
        return frame

    def frame(self) -> pd.DataFrame:
        return self._data


# -- export_file ------------------------------------------------------------------------------------------


class ExportFileParams(FileLocationParams):
    separator: str = Field(",", min_length=1, max_length=1, description="CSV field separator.")
    header: bool = Field(True, description="Write a header line (csv).")
    sheet: str = Field("Sheet1", description="Excel sheet name.")


class _Export:
    """Writes the whole input to a temporary file next to the target, then renames it into place."""

    def __init__(self, location: Location, params: ExportFileParams, fmt: str) -> None:
        self.location, self.params, self.fmt = location, params, fmt

    def __call__(self, frame: pd.DataFrame) -> int:
        fs, full = self.location.resolve()
        parent, name = fs._parent(full), posixpath.basename(full)
        remove_stale(fs, parent, name)
        tmp = posixpath.join(parent, temporary_name(name)) if parent else temporary_name(name)
        data = self._serialize(frame)
        try:
            if parent:
                fs.makedirs(parent, exist_ok=True)
            with fs.open(tmp, "wb") as handle:
                handle.write(data)
            if _is_local(fs):
                os.replace(tmp, full)  # atomic on one filesystem
            else:
                fs.mv(tmp, full)
        except OSError as exc:
            raise self.location.error(f"cannot write {self.location.shown}: {plain(exc)}") from None
        finally:
            try:
                if fs.exists(tmp):
                    fs.rm(tmp)
            except OSError:
                pass
        return len(frame)

    def _serialize(self, frame: pd.DataFrame) -> bytes:
        p = self.params
        try:
            if self.fmt == "csv":
                text = frame.to_csv(index=False, sep=p.separator, header=p.header, lineterminator="\n")
                return text.encode(p.encoding)
            if self.fmt == "json":
                lines = p.json_lines()
                text = frame.to_json(
                    orient="records",
                    lines=lines,
                    date_format="iso",
                    date_unit="us",
                    force_ascii=False,
                    default_handler=str,
                )
                return text.encode(p.encoding)
            buffer = io.BytesIO()
            frame.to_excel(buffer, index=False, sheet_name=p.sheet)
            return buffer.getvalue()
        except UnicodeEncodeError as exc:
            raise self.location.error(
                f"{exc.object[exc.start : exc.end]!r} cannot be written as {p.encoding}; set `encoding` "
                "(e.g. utf-8)",
                "encoding",
            ) from None
        except LookupError as exc:
            raise self.location.error(str(exc), "encoding") from None


def _is_local(fs: Any) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
    return "file" in protocol or "local" in protocol


class ExportFile(OutputComponent[ExportFileParams]):
    """Export the input as a CSV, Excel or JSON file to a files connection or a path, atomically."""

    name = "export_file"

    @functools.cached_property
    def location(self) -> Location:
        return Location(self.ctx, self.params)

    def _format(self) -> str:
        try:
            return self.params.file_format()
        except ValueError as exc:
            raise self.location.error(str(exc), "format") from None

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        self._format()
        self.location.resolve()  # unknown connection, missing secret: errors while planning
        return inputs[0]

    def write(self, frame: Frame) -> Any:
        writer = self.ctx.guard(_Export(self.location, self.params, self._format()))
        return write_single(frame, writer)


FILES = [ImportFile, ExportFile]
