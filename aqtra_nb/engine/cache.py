"""The step cache: step outputs kept as Parquet files by the content key of what made them (`keys.py`).

An entry is two files in one folder: `KEY.DIGEST.parquet` (the frame) and `KEY.json` (flow, step, rows,
bytes, the data file's name, its CRC-32 and size). The JSON is written last, by atomic rename, and names
the data file it describes: a reader sees a whole entry or none, and two processes writing one key leave
one whole entry (the last rename wins; a data file no JSON names is removed by the next sweep). A data
file whose size or CRC does not match its JSON is treated as missing, removed, and recomputed: a cache
never serves what it cannot check. A partitioned run's step writes its partitions instead, one Parquet file
each, into a staging folder from the run's own Dask graph; the folder is renamed `KEY.ID.parts` when the
run completes and the JSON then lists each part with its size and CRC-32 (`stage`, `commit_parts`,
`load_partitioned`). The JSON's modification time is the entry's last use (least recently
used entries go first when the folder is over its size limit).

Recent outputs also stay in this process's memory (a bounded LRU of frames), so an app's second run does
not even read Parquet. Only outputs worth it go to disk (`worth_writing`): a step that took less time
than writing and reading back its output would is cheaper to run again from its cached input (a filter
over a frame already in memory, a Parquet read with pushdown), so it stays in memory only. Writes
happen on one background thread, off the run's path; `flush()` waits for them (the interpreter does
too at exit).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import json
import logging
import os
import shutil
import threading
import time
import uuid
import zlib
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..private_files import private_folder

if TYPE_CHECKING:
    import dask.dataframe as dd

logger = logging.getLogger(__name__)

_SAMPLE_ROWS = 64
ROWS_KEPT_SECONDS = 30 * 86400
TOUCH_EVERY = 60.0  # seconds
STAGING_KEPT_SECONDS = 6 * 3600  # a partitioned step's parts may take long to write


@dataclass(frozen=True)
class Entry:
    """One cached step output, as its JSON describes it."""

    key: str
    flow: str
    step: str
    component: str
    rows: int
    bytes: int
    crc32: int
    data: str  # the data file's name, in the cache folder
    created: float
    used: float  # the JSON's modification time
    parts: list | None = None  # a partitioned entry: [file name, bytes, CRC-32] per partition, in order

    def to_dict(self) -> dict:
        return asdict(self)


class StepCache:
    """Step outputs on disk under `folder` (at most `max_bytes`, least recently used out first) and in
    memory (at most `memory_bytes`)."""

    #: Parquet writes and reads back about this many bytes (of pandas memory) per second, here
    WRITE_RATE = 400e6

    def __init__(
        self, folder: Path, max_bytes: int, memory_bytes: int = 256 * 2**20, min_seconds: float = 0.005
    ) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.memory_bytes = memory_bytes
        self.min_seconds = min_seconds  # negative: every output is written
        self._memory: OrderedDict[str, tuple[pd.DataFrame, int]] = OrderedDict()
        self._memory_used = 0
        self._lock = threading.Lock()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aqtra-cache")
        self._pending: set[Future] = set()
        self._touched: dict[str, float] = {}  # key -> when this process last marked it used

    # -- reading ---------------------------------------------------------------------------------------
    def entry(self, key: str) -> Entry | None:
        """The entry's description (no data read), or None."""
        try:
            with open(self._meta_path(key), encoding="utf-8") as handle:
                record = json.load(handle)
            used = os.stat(self._meta_path(key)).st_mtime
        except (OSError, ValueError):
            return None
        try:
            return Entry(**{**record, "used": used})
        except TypeError:
            return None

    def rows(self, key: str) -> int | None:
        """How many rows the entry holds (from memory or its description), or None if there is none."""
        with self._lock:
            found = self._memory.get(key)
        if found is not None:
            return len(found[0])
        entry = self.entry(key)
        if entry is not None:
            return entry.rows
        try:
            return int((self.folder / f"{key}.rows").read_text())
        except (OSError, ValueError):
            return None

    def judged_not_worth_writing(self, key: str) -> bool:
        """True when this output was made before and kept only as a row count (`save(write=False)`)."""
        return (self.folder / f"{key}.rows").exists() and self.entry(key) is None

    def load(self, key: str) -> pd.DataFrame | None:
        """The frame kept under `key`, or None (missing, or failing its check: then it is removed)."""
        with self._lock:
            found = self._memory.get(key)
            if found is not None:
                self._memory.move_to_end(key)
        if found is not None:
            self._touch(key)
            return found[0].copy(deep=False)  # a new object: a consumer's column assignment stays its own
        entry = self.entry(key)
        if entry is None:
            return None
        files = [(entry.data, entry.bytes, entry.crc32)] if entry.parts is None else entry.parts
        base = self.folder if entry.parts is None else self.folder / entry.data
        try:
            tables = []
            for name, size, crc in files:
                data = _checked(base / name, size, crc)
                if data is None:
                    self._failed(entry)
                    return None
                tables.append(pq.read_table(pa.BufferReader(data)))
            frame = pa.concat_tables(tables).to_pandas() if len(tables) > 1 else tables[0].to_pandas()
        except Exception as exc:  # a file that checks but does not parse: written by a broken writer
            logger.warning("cache entry %s cannot be read (%s); recomputing", key, exc)
            self._remove(key, entry)
            return None
        self._touch(key)
        self._remember(key, frame)
        return frame.copy(deep=False)

    def load_partitioned(self, key: str) -> dd.DataFrame | None:
        """A partitioned entry as a Dask frame of its parts (each checked first: a part that fails its
        size or CRC makes the entry missing, removed), or None (missing, or a one-file entry: `load`)."""
        entry = self.entry(key)
        if entry is None or entry.parts is None:
            return None
        folder = self.folder / entry.data
        for name, size, crc in entry.parts:
            if _checked(folder / name, size, crc) is None:
                self._failed(entry)
                return None
        paths = [str(folder / name) for name, _, _ in entry.parts]
        try:
            meta = pq.read_schema(paths[0]).empty_table().to_pandas()
        except Exception as exc:
            logger.warning("cache entry %s cannot be read (%s); recomputing", key, exc)
            self._remove(key, entry)
            return None
        self._touch(key)
        import dask
        import dask.dataframe as dd

        with dask.config.set({"dataframe.convert-string": False}):  # the cached dtypes as they are
            return dd.from_map(_read_part, paths, meta=meta, enforce_metadata=False)

    def _failed(self, entry: Entry) -> None:
        logger.warning(
            "cache entry %s (%s/%s) failed its check; recomputing", entry.key, entry.flow, entry.step
        )
        self._remove(entry.key, entry)

    # -- writing ---------------------------------------------------------------------------------------
    def worth_writing(self, seconds: float, size: int) -> bool:
        """True when making an output of `size` bytes (in memory) took longer than writing and reading
        it back would."""
        if self.min_seconds < 0:
            return True
        return seconds >= self.min_seconds + size / self.WRITE_RATE

    def stage(self) -> Path:
        """A new staging folder for a partitioned entry's parts (`write_part` fills it, from Dask tasks;
        `commit_parts` or `discard` ends it)."""
        private_folder(self.folder)
        staging = self.folder / f".parts-{uuid.uuid4().hex[:12]}.tmp"
        staging.mkdir(mode=0o700)
        return staging

    def commit_parts(
        self, key: str, staging: Path, parts: list[list], *, rows: int, flow: str, step: str, component: str
    ) -> None:
        """Make the staged parts an entry: the folder renamed into place, then its JSON (which lists
        each part's name, size and CRC-32) renamed into place last."""
        name = f"{key}.{uuid.uuid4().hex[:8]}.parts"
        os.replace(staging, self.folder / name)
        listing = json.dumps(parts).encode()
        record = {
            "key": key,
            "flow": flow,
            "step": step,
            "component": component,
            "rows": rows,
            "bytes": sum(size for _, size, _ in parts),
            "crc32": zlib.crc32(listing),
            "data": name,
            "created": time.time(),
            "parts": parts,
        }
        old = self.entry(key)
        _atomic_write(self._meta_path(key), json.dumps(record).encode())
        if old is not None and old.data != name:
            _remove_data(self.folder / old.data)
        self.evict()

    def discard(self, staging: Path, key: str | None = None, rows: int | None = None) -> None:
        """Drop staged parts (the step was not worth keeping, or the run failed); keep its row count."""
        _remove_data(staging)
        if key is not None and rows is not None:
            self._write_rows(key, rows)

    def save(
        self, key: str, frame: pd.DataFrame, *, flow: str, step: str, component: str, write: bool = True
    ) -> None:
        """Keep `frame` in memory now and, with `write`, on disk soon (background thread). Frames Parquet
        cannot give back exactly (Python objects, mixed types) are not kept."""
        if not round_trips(frame):
            logger.debug(
                "step %s of %s: output not cacheable (does not round-trip through Parquet)", step, flow
            )
            return
        self._remember(key, frame)
        if write:
            future = self._writer.submit(self._write, key, frame, flow, step, component)
        else:  # only its row count, so that a later run that does not need the step still reports it
            future = self._writer.submit(self._write_rows, key, len(frame))
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._written)

    def _written(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)
        if future.exception() is not None:
            logger.warning("writing a cache entry failed: %s", future.exception())

    def flush(self) -> None:
        """Wait until every output saved so far is on disk."""
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            with contextlib.suppress(Exception):
                future.result()

    def _write_rows(self, key: str, rows: int) -> None:
        private_folder(self.folder)
        _atomic_write(self.folder / f"{key}.rows", str(rows).encode())

    def _write(self, key: str, frame: pd.DataFrame, flow: str, step: str, component: str) -> None:
        private_folder(self.folder)
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, nthreads=1), buffer, compression="snappy")
        data = buffer.getvalue()
        crc = zlib.crc32(data)
        name = f"{key}.{crc:08x}.parquet"
        _atomic_write(self.folder / name, data)
        record = {
            "key": key,
            "flow": flow,
            "step": step,
            "component": component,
            "rows": len(frame),
            "bytes": len(data),
            "crc32": crc,
            "data": name,
            "created": time.time(),
        }
        _atomic_write(self._meta_path(key), json.dumps(record).encode())
        self.evict()

    # -- housekeeping ----------------------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        """Every entry on disk, most recently used first."""
        if not self.folder.is_dir():
            return []
        found = [self.entry(path.name[: -len(".json")]) for path in self.folder.glob("*.json")]
        return sorted((e for e in found if e is not None), key=lambda e: e.used, reverse=True)

    def size(self) -> int:
        return sum(e.bytes for e in self.entries())

    def evict(self) -> list[Entry]:
        """Remove least recently used entries until the folder is within `max_bytes`; also data files no
        entry names (left by a writer that lost a race or was killed)."""
        entries = self.entries()
        removed, total = [], sum(e.bytes for e in entries)
        for entry in reversed(entries):
            if total <= self.max_bytes:
                break
            self._remove(entry.key, entry)
            removed.append(entry)
            total -= entry.bytes
        named = {e.data for e in entries if e not in removed}
        for path in [*self.folder.glob("*.parquet"), *self.folder.glob("*.parts")]:
            if path.name not in named and _older_than(path, 60):
                _remove_data(path)
        for path in self.folder.glob(".parts-*.tmp"):  # a run that was killed while writing
            if _older_than(path, STAGING_KEPT_SECONDS):
                _remove_data(path)
        for path in self.folder.glob("*.rows"):  # row counts of steps not written: tiny, kept a while
            if _older_than(path, ROWS_KEPT_SECONDS):
                with contextlib.suppress(OSError):
                    path.unlink()
        return removed

    def clear(self, *, older_than: dt.timedelta | None = None, flow: str | None = None) -> list[Entry]:
        """Remove entries (those of `flow`, or last used before `older_than` ago, when given)."""
        cutoff = None if older_than is None else time.time() - older_than.total_seconds()
        removed = []
        for entry in self.entries():
            if flow is not None and entry.flow != flow:
                continue
            if cutoff is not None and entry.used >= cutoff:
                continue
            self._remove(entry.key, entry)
            removed.append(entry)
        if flow is None:
            for path in self.folder.glob("*.rows"):
                if cutoff is None or _older_than(path, time.time() - cutoff):
                    with contextlib.suppress(OSError):
                        path.unlink()
        return removed

    def _remove(self, key: str, entry: Entry) -> None:
        self._touched.pop(key, None)
        with self._lock:
            dropped = self._memory.pop(key, None)
            if dropped is not None:
                self._memory_used -= dropped[1]
        for path in (self._meta_path(key), self.folder / entry.data):
            _remove_data(path)

    def drain(self) -> None:
        """Finish pending writes and end the writer thread (the next write starts a new one): a process
        about to fork children (publish's kernel zygote) must have no other thread."""
        self._writer.shutdown(wait=True)
        self._pending.clear()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aqtra-cache")

    def forget_memory(self) -> None:
        """Drop the in-memory copies (tests; a process that wants its memory back)."""
        with self._lock:
            self._memory.clear()
            self._memory_used = 0

    def _remember(self, key: str, frame: pd.DataFrame) -> None:
        size = size_of(frame)
        if size > self.memory_bytes // 4:
            return
        with self._lock:
            old = self._memory.pop(key, None)
            if old is not None:
                self._memory_used -= old[1]
            self._memory[key] = (frame, size)
            self._memory_used += size
            while self._memory_used > self.memory_bytes and self._memory:
                _, (_, dropped) = self._memory.popitem(last=False)
                self._memory_used -= dropped

    def _touch(self, key: str) -> None:
        """Mark the entry used now (its JSON's time), at most once a minute per key: eviction needs no
        finer order, and an app's update loads the same entries from memory every time."""
        now = time.monotonic()
        if now - self._touched.get(key, -TOUCH_EVERY) < TOUCH_EVERY:
            return
        self._touched[key] = now
        with contextlib.suppress(OSError):
            os.utime(self._meta_path(key))

    def _meta_path(self, key: str) -> Path:
        return self.folder / f"{key}.json"


def size_of(frame: pd.DataFrame) -> int:
    """Bytes of a frame in memory (what `worth_writing` weighs)."""
    return int(frame.memory_usage(index=True, deep=False).sum())


def write_part(staging: str, number: int, part: pd.DataFrame) -> tuple[str, int, int] | None:
    """Write one partition into a staging folder (in a Dask task): (file name, bytes, CRC-32), or None
    when Parquet would not give it back exactly."""
    if not round_trips(part):
        return None
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(part, nthreads=1), buffer, compression="snappy")
    data = buffer.getvalue()
    name = f"part.{number:06d}.parquet"
    _atomic_write(Path(staging) / name, data)
    return name, len(data), zlib.crc32(data)


def _read_part(path: str) -> pd.DataFrame:
    return pq.read_table(path).to_pandas()


def _checked(path: Path, size: int, crc: int) -> bytes | None:
    """The file's bytes when its size and CRC-32 are those recorded, else None."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    return data if len(data) == size and zlib.crc32(data) == crc else None


def _remove_data(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def _atomic_write(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


def round_trips(frame: pd.DataFrame) -> bool:
    """True when Parquet gives this frame back with the same columns, dtypes and values. Numbers,
    booleans, times and pandas strings always do; other columns (objects, categories, extension types)
    are checked on a sample (Python objects are what usually fails, and they fail on the first rows)."""
    if not frame.columns.is_unique or not all(isinstance(c, str) for c in frame.columns):
        return False
    if all(_plain_dtype(t) for t in frame.dtypes) and isinstance(frame.index, pd.RangeIndex | pd.Index):
        if _plain_dtype(frame.index.dtype) and frame.index.nlevels == 1 and frame.index.name is None:
            return True
    sample = frame.head(_SAMPLE_ROWS)
    try:
        back = pa.Table.from_pandas(sample, nthreads=1).to_pandas()
        pd.testing.assert_frame_equal(back, sample, check_exact=True)
    except Exception:
        return False
    return True


def _plain_dtype(dtype: object) -> bool:
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"  # what Arrow gives back (python-stored strings come back so)
    return isinstance(dtype, np.dtype) and dtype.kind in "biufMm" and dtype.byteorder in "=|<"


@functools.lru_cache(maxsize=4)
def step_cache(folder: str, max_bytes: int, min_seconds: float = 0.005) -> StepCache:
    """One cache per folder and process, so that its memory part is shared by every run."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 8 * 2**30
    return StepCache(Path(folder), max_bytes, min(memory // 32, 512 * 2**20), min_seconds)
