"""What went wrong reading a file, in plain words: not found (with the closest names in its folder), a
folder, no permission, or the reader's own complaint; never Dask's dispatch wrapper around it."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from ..errors import did_you_mean

#: Dask re-raises a backend's error as `type(e)("An error occurred while calling the read_csv method
#: registered to the pandas backend.\nOriginal Message: ...") from e`
_DISPATCH = "method registered to the"


def original(exc: BaseException) -> BaseException:
    """The error itself, from under Dask's dispatch wrapper (its `__cause__`)."""
    while _DISPATCH in str(exc) and exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def plain(exc: BaseException) -> str:
    """An OS error's text without `[Errno 2]` and without repeating the path it is about."""
    exc = original(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return re.sub(r"^\[Errno \d+\] ", "", str(exc))


def is_missing(exc: BaseException) -> bool:
    exc = original(exc)
    return isinstance(exc, FileNotFoundError) or "resolved to no files" in str(exc)


def reading_problem(kind: str, path: str, exc: BaseException) -> str:
    """`kind` is what the step reads ("CSV", "Parquet"); `path` as resolved."""
    exc = original(exc)
    if is_missing(exc):
        if any(c in path for c in "*?["):
            return f"no file matches {path}"
        return f"{kind} file not found: {path}.{closest_names(path)}{sample_data_hint(path)}"
    if isinstance(exc, IsADirectoryError):
        return f"{path} is a folder, not a {kind} file"
    if isinstance(exc, PermissionError):
        return f"no permission to read {path}"
    return f"cannot read {kind} {path}: {plain(exc)}"


def writing_problem(kind: str, path: str, exc: BaseException) -> str:
    """What stopped writing `path` (as resolved), in plain words; `kind` is "CSV", "Parquet"."""
    exc = original(exc)
    if isinstance(exc, PermissionError):
        return f"no permission to write {kind} file {path}"
    if isinstance(exc, FileExistsError | NotADirectoryError):
        blocker = _file_in_the_way(path)
        if blocker:
            return f"cannot write {kind} file {path}: {blocker} is a file, not a folder"
    if isinstance(exc, IsADirectoryError):
        return f"cannot write {kind} file {path}: it is a folder"
    if isinstance(exc, FileNotFoundError):
        return f"cannot write {kind} file {path}: its folder {os.path.dirname(path)} cannot hold new files"
    return f"cannot write {kind} file {path}: {plain(exc)}"


def _file_in_the_way(path: str) -> str | None:
    """The parent of `path` that is a file, so no folder can be made there (None if there is none)."""
    parents = [str(p) for p in Path(path).parents]
    return next((p for p in reversed(parents) if os.path.isfile(p)), None)


def sample_data_hint(path: str) -> str:
    """For a missing sample table (`orders.parquet`, ...): the command that makes it ('' for other files)."""
    from ..datasets import sample_file

    if "://" in path or any(c in path for c in "*?[") or not sample_file(path):
        return ""
    folder = shlex.quote(os.path.normpath(os.path.dirname(path) or "."))
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    return f" It is one of the sample tables: make them with `aqtra-nb sample-data {folder} --format {fmt}`."


def closest_names(path: str) -> str:
    """A ' Did you mean ...?' hint from the names in a local file's folder ('' when none is close)."""
    if "://" in path:
        return ""
    folder, name = os.path.split(path)
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return ""
    suffix = os.path.splitext(name)[1].lower()
    return did_you_mean(name, [n for n in names if os.path.splitext(n)[1].lower() == suffix] or names)


#: Dask's read_csv guesses types from the first block; a later block that does not fit ends in this
_MISMATCH = "Mismatched dtypes found in `pd.read_csv`"
_TABLE_ROW = re.compile(
    r"^\|\s*(?P<column>[^|]+?)\s*\|\s*(?P<found>[^|]+?)\s*\|\s*(?P<expected>[^|]+?)\s*\|$"
)


def later_block_mismatch(exc: BaseException) -> dict[str, tuple[str, str]] | None:
    """The columns (found, expected dtype) of Dask's 'Mismatched dtypes' error, None for other errors."""
    text = str(exc)
    if _MISMATCH not in text:
        return None
    rows = (_TABLE_ROW.match(line.strip()) for line in text.splitlines())
    found = {m["column"]: (m["found"], m["expected"]) for m in rows if m and m["column"] != "Column"}
    return found or None


_KINDS = {
    "str": "text",
    "object": "text",
    "string": "text",
    "float64": "decimal numbers",
    "int64": "whole numbers",
}


def later_block_message(path: str, columns: dict[str, tuple[str, str]], exc: BaseException) -> str:
    """Plain words for a CSV value further down a file than the rows its column types were guessed from."""
    kinds = "; ".join(
        f"column '{c}' was read as {_KINDS.get(expected, expected)} but holds {_KINDS.get(found, found)}"
        for c, (found, expected) in columns.items()
    )
    example = re.search(r"""\(["'].*?: '(?P<value>.{0,40})'["']\)""", str(exc))
    value = f" (such as {example['value']!r})" if example else ""
    hint = ", ".join(f"{c}: string" for c in columns)
    return (
        f"CSV file {path}: {kinds}{value} further down the file than the rows its type was guessed from; "
        f"give the column's type in dtypes (e.g. dtypes: {{{hint}}})"
    )
