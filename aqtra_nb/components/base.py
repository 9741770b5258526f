"""The Component contract: a params model, schema inference on empty frames, and lazy execution on Dask."""

from __future__ import annotations

import functools
import hashlib
import sys
import types
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeAlias, TypeVar, get_args, get_origin

import dask
import numpy as np
import pandas as pd
from dask.local import get_sync
from pydantic import BaseModel, ConfigDict

from ..errors import AqtraError, StepFailed, UnknownColumn, did_you_mean

if TYPE_CHECKING:  # dask.dataframe takes 0.3 s to import: a small in-memory run never needs it
    import dask.dataframe as dd
    from typing_extensions import TypeIs

Frame: TypeAlias = "pd.DataFrame | dd.DataFrame"
#: A pandas frame (planning, in-memory runs) or a Dask frame (partitioned runs), the same kind in and out.
F = TypeVar("F", "pd.DataFrame", "dd.DataFrame")
#: Column names as components check them: a list, or a frame's `columns` (a pandas Index, not copied).
Columns: TypeAlias = "Sequence[str] | pd.Index"
Group = Literal["input", "transform", "output", "script"]


class Params(BaseModel):
    """Base of component parameter models: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class NoParams(Params):
    """For components without parameters."""


P = TypeVar("P", bound=Params)


@dataclass
class StepContext:
    """What a component may know about where it runs: its step, the flow file, parameter values."""

    step_id: str
    component: str
    source: str | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    parameters: dict[str, Any] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def error(
        self, message: str, *, field: str | None = None, kind: type[AqtraError] = AqtraError
    ) -> AqtraError:
        return kind(message, file=self.source, step=self.step_id, field=field)

    def resolve_path(self, path: str) -> str:
        """Relative local paths resolve against the flow file's folder; URLs (s3://, memory://) pass through."""
        if "://" in path:
            return path
        candidate = Path(path).expanduser()
        return str(candidate if candidate.is_absolute() else (self.base_dir / candidate))

    def require_columns(self, available: Columns, names: Sequence[str], *, field: str) -> None:
        """Fail with a did-you-mean hint if any of `names` is not among `available`."""
        if all(name in available for name in names):  # without copying a pandas Index
            return
        columns = [str(c) for c in available]
        for name in names:
            if name not in columns:
                raise UnknownColumn(
                    f"unknown column {name!r}.{did_you_mean(name, columns)} "
                    f"Available columns: {', '.join(columns) or '(none)'}",
                    file=self.source,
                    step=self.step_id,
                    field=field,
                )

    def guard(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a function that runs on data so that its errors name this step (StepFailed)."""
        return _Guarded(fn, self.step_id, self.component, self.token)


class _Guarded:
    """A picklable wrapper (for dask.distributed) that turns errors into StepFailed."""

    def __init__(self, fn: Callable[..., Any], step_id: str, component: str, token: str) -> None:
        self.fn, self.step_id, self.component, self.token = fn, step_id, component, token
        functools.update_wrapper(self, fn)

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        # Unique per planned step (the plan's token), stable within a run: Dask names tasks by it. The
        # wrapped callable's own token too: one step may wrap several (a reader of other columns, a writer's
        # commit), and tasks that differ in them must not share a name.
        return ("aqtra-step", self.step_id, self.component, self.token, _callable_token(self.fn))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.fn(*args, **kwargs)
        except StepFailed:
            raise
        except Exception as exc:
            raise step_failed(exc, self.step_id, self.component) from exc


def _callable_token(fn: Callable[..., Any]) -> Any:
    """A module-level function by its name (as cheap as the step's own token); anything with state (a
    closure, a reader or writer object) by its contents."""
    if isinstance(fn, types.FunctionType) and fn.__closure__ is None:
        return (fn.__module__, fn.__qualname__)
    from dask.base import normalize_token

    return normalize_token(fn)


def step_failed(exc: Exception, step_id: str, component: str, file: str | None = None) -> StepFailed:
    """An error raised while running a step, as a StepFailed naming the step and component (the CLI exits
    1 for it, not 2 as for a mistake in the flow). An AqtraError keeps its file and field. Callers pass a
    StepFailed on as it is and chain the original: `raise step_failed(exc, ...) from exc`."""
    if isinstance(exc, AqtraError):  # raised by component code with what it knows (the field, say)
        text = str(exc)
        detail = text.removeprefix(f"{exc.location}: ") if exc.location else text
        return StepFailed(
            f"{component} failed: {detail}",
            step=step_id,
            component=component,
            file=exc.file or file,
            field=exc.field,
        )
    from .file_errors import original

    cause = original(exc)  # not Dask's "An error occurred while calling ... registered to the backend"
    message = f"{component} failed: {type(cause).__name__}: {cause}"
    return StepFailed(message, step=step_id, component=component, file=file)


class Component(Generic[P]):
    """A data-flow building block.

    Subclasses name their parameter model once, as the type argument (``class Filter(Component[FilterParams])``:
    ``self.params`` is then a ``FilterParams`` to mypy, and the ``Params`` class attribute the registry and
    planner use is set from it), set ``name``, ``group`` and the number of inputs, and implement ``transform``
    (or ``read``/``write`` for inputs and outputs). ``transform`` receives pandas frames during planning
    (empty frames with the right dtypes, to infer the output schema and check columns) and Dask frames
    when running, so one implementation serves both.
    """

    name: ClassVar[str] = ""
    group: ClassVar[Group] = "transform"
    #: The parameter model: set from the type argument (see `__init_subclass__`).
    Params: ClassVar[type[Params]] = NoParams
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int | None] = 1
    is_sink: ClassVar[bool] = False
    #: `with` keys where `${name}` text substitution is refused, each with how to pass a value instead
    #: (SQL text, where formatting values in would open an injection).
    verbatim: ClassVar[Mapping[str, str]] = {}
    #: True when `schema` depends only on the params, the flow's parameter values and the input schemas
    #: (no files, no user code, no store): the planner then reuses it for the same inputs.
    pure_schema: ClassVar[bool] = False
    #: Bump when a change makes the component give different output for the same input: cached outputs
    #: of the old version are then not reused (see `engine/keys.py`).
    version: ClassVar[str] = "1"
    #: False for components whose output is as cheap to make again as to load (frames already in
    #: memory): their key still counts for the steps after them, but nothing is written.
    store_in_cache: ClassVar[bool] = True

    def __init__(self, params: P, ctx: StepContext) -> None:
        self.params = params
        self.ctx = ctx

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Set ``Params`` from the type argument (``Component[FilterParams]``), so it is declared once. A
        class that sets ``Params`` itself (a plug-in written without the type argument) keeps it."""
        super().__init_subclass__(**kwargs)
        if "Params" in cls.__dict__:
            return
        for base in cls.__dict__.get("__orig_bases__", ()):
            origin = get_origin(base)
            if isinstance(origin, type) and issubclass(origin, Component):
                (model,) = get_args(base)
                if isinstance(model, type) and issubclass(model, Params):
                    cls.Params = model

    @classmethod
    def summary(cls) -> str:
        """The first line of the docstring: the one-line description shown in listings."""
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        """The output's empty frame (columns and dtypes); validates column references on the way."""
        return self.transform(inputs)

    def required_columns(self, needed: set[str] | None, inputs: list[pd.DataFrame]) -> list[set[str] | None]:
        """Which input columns produce the `needed` output columns (None: all). Used to prune reads."""
        return [None for _ in inputs]

    def transform(self, inputs: list[F]) -> F:
        raise NotImplementedError(f"component {self.name!r} does not transform frames")

    def cache_version(self) -> Any:
        """What the output depends on besides the params, the flow parameters it names and its inputs
        (JSON-able), or None when that cannot be known (a database, a web service, user code): the step
        is then not cached unless its flow file opts in. Transforms have nothing else: ()."""
        return ()


PREDICATE_OPS = ("==", "!=", "<", "<=", ">", ">=", "in")
NULL_TESTS = ("is_null", "not_null")


@dataclass(frozen=True)
class Predicate:
    """One simple conjunct of a filter condition that a reader may apply at its source:
    ``column <op> value`` (op one of ``== != < <= > >=``) or ``column in value`` (value: a tuple).
    Values are bool, int, float, str, date or datetime; never None. A null column value fails every
    predicate, as it fails the filter's condition. Readers with `null_tests` are also offered
    ``is_null``/``not_null`` (value None), true where the column is (is not) null as pandas' `isna` sees
    it after the read (NaN too); readers with `column_comparisons` also ``column <op> other`` (value an
    `OtherColumn`)."""

    column: str
    op: str
    value: Any

    def __str__(self) -> str:
        if self.op in NULL_TESTS:
            return f"{self.op}({self.column})"
        if self.op == "in":
            return f"{self.column} in ({', '.join(_show(v) for v in self.value)})"
        return f"{self.column} {self.op} {_show(self.value)}"


@dataclass(frozen=True)
class OtherColumn:
    """The value of a predicate that compares two columns of the same row (`commit < receipt`)."""

    name: str

    def __repr__(self) -> str:  # shown bare in plans: `commit < receipt`
        return self.name


def _show(value: Any) -> str:
    return repr(value.isoformat()) if hasattr(value, "isoformat") else repr(value)


class InputComponent(Component[P]):
    """Reads data; `columns` and `filters` are pushed down by the planner where supported."""

    group: ClassVar[Group] = "input"
    min_inputs: ClassVar[int] = 0
    max_inputs: ClassVar[int | None] = 0
    supports_filters: ClassVar[bool] = False
    null_tests: ClassVar[bool] = False  # also offered is_null/not_null predicates
    column_comparisons: ClassVar[bool] = False  # also offered column-against-column predicates

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        version = self.source_fingerprint()
        if version is None:
            return self.read_schema()
        from .fingerprints import SCHEMAS

        key = (type(self).__module__, type(self).__qualname__, self.params.model_dump_json(), version)
        return SCHEMAS.get(key, self.read_schema)

    def read_schema(self) -> pd.DataFrame:
        raise NotImplementedError

    def source_fingerprint(self) -> Any:
        """A hashable version of the source data that changes whenever it does, found without reading
        it (see `fingerprints.local_fingerprint`), or None when there is no cheap one. Schemas are kept
        by it."""
        return None

    def cache_version(self) -> Any:
        return self.source_fingerprint()

    def content_fingerprint(self) -> Any:
        """A hash of the source's content (its local files), for `cache: {content: true}`; None when the
        source has no local files."""
        return None

    def push_filter(self, predicates: list[Predicate]) -> Any:
        """Offered the simple conjuncts of a `filter` that only this reader feeds (readers with
        `supports_filters`), return what `read(columns, filters)` should receive to apply the ones it can
        at the source (an Arrow expression, SQL clauses, ...), or None to apply none. Applying a subset is
        always correct: the filter step still applies the whole condition."""
        return None

    def applies_all(self, predicates: list[Predicate]) -> bool:
        """True when `push_filter(predicates)` applies every one of them exactly as the expression
        language would (nulls and types alike); a filter made only of them then has nothing left to do."""
        return False

    def read(self, columns: list[str] | None, filters: Any = None) -> dd.DataFrame:
        raise NotImplementedError

    def read_pandas(self, columns: list[str] | None, filters: Any = None) -> pd.DataFrame:
        """The whole input as one pandas frame, for in-memory runs of small data."""
        return self.read(columns, filters).compute(scheduler=get_sync)  # not "sync": no `distributed` import

    def size_hint(self, columns: list[str] | None, filters: Any = None) -> int | None:
        """Roughly how many bytes the data takes in memory, or None if unknown (then it may be big);
        `filters`: what the planner pushed into the read (`push_filter`'s), for readers that can tell
        how much of the data it leaves."""
        return None


class FrameInput(InputComponent[P]):
    """An input whose data is already a frame in this process (or a Dask frame, for `from_frame`)."""

    store_in_cache: ClassVar[bool] = False

    def cache_version(self) -> Any:
        """The frame's content hash (columns, dtypes, index and values): the frame a notebook passes may
        have changed since the last run, in place. None for Dask frames and unhashable values."""
        frame = self.frame()
        if is_dask(frame):
            return None
        try:
            hashed = pd.util.hash_pandas_object(frame, index=True).to_numpy()
        except TypeError:
            return None
        digest = hashlib.blake2b(hashed.tobytes(), digest_size=16)
        digest.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
        return digest.hexdigest()

    def frame(self) -> pd.DataFrame | dd.DataFrame:
        raise NotImplementedError

    def read_schema(self) -> pd.DataFrame:
        frame = self.frame()
        return frame._meta if is_dask(frame) else frame.iloc[:0]

    def read(self, columns: list[str] | None, filters: Any = None) -> dd.DataFrame:
        frame = self.frame()
        frame = frame[columns] if columns else frame
        if is_dask(frame):
            return frame
        import dask.dataframe as dd

        return dd.from_pandas(frame, npartitions=max(1, -(-len(frame) // 250_000)), sort=False)

    def read_pandas(self, columns: list[str] | None, filters: Any = None) -> pd.DataFrame:
        frame = self.frame()
        frame = frame[columns] if columns else frame
        return frame.compute() if is_dask(frame) else frame

    def size_hint(self, columns: list[str] | None, filters: Any = None) -> int | None:
        frame = self.frame()
        if is_dask(frame):
            return None
        return int((frame[columns] if columns else frame).memory_usage(index=False).sum())


class OutputComponent(Component[P]):
    """Writes its input somewhere; `write` returns a lazy Dask object whose computation does the write."""

    group: ClassVar[Group] = "output"
    is_sink: ClassVar[bool] = True

    def schema(self, inputs: list[pd.DataFrame]) -> pd.DataFrame:
        return inputs[0]

    def transform(self, inputs: list[F]) -> F:
        return inputs[0]

    def write(self, frame: Frame) -> Any:
        """Pandas (in-memory runs): write now and return the rows written. Dask: a lazy object whose
        computation does the write."""
        raise NotImplementedError


def dask_settings() -> Any:
    """Dask settings for planning and running: keep pandas' own string dtype (Arrow-backed `str` in
    pandas 3) instead of Dask's conversion to `string[pyarrow]`, so outputs match pandas exactly."""
    return dask.config.set({"dataframe.convert-string": False})


def is_dask(frame: object) -> TypeIs[dd.DataFrame]:
    """Whether `frame` is a Dask DataFrame; without importing Dask's dataframe module, which a process
    that made no Dask frame has not loaded."""
    dd = sys.modules.get("dask.dataframe")
    return dd is not None and isinstance(frame, dd.DataFrame)


INPUT_ORDER = "__aqtra_input_order__"


def number_rows(frame: dd.DataFrame) -> dd.DataFrame:
    """Add INPUT_ORDER, each row's place in the input (partition, then row): a shuffle loses the row order
    that first/last and ties in a window depend on."""
    return frame.map_partitions(_number_rows, meta=_number_rows(frame._meta))


def _number_rows(part: pd.DataFrame, partition_info: dict | None = None) -> pd.DataFrame:
    start = (partition_info or {}).get("number", 0) << 40
    return part.assign(**{INPUT_ORDER: np.arange(start, start + len(part), dtype="int64")})


def column_dtypes(frame: pd.DataFrame) -> Sequence[Any]:
    """The column dtypes in order. `frame.dtypes` builds a Series (about 30 µs, a tenth of inferring a
    simple step's schema); the block manager has them as an array."""
    get_dtypes = getattr(getattr(frame, "_mgr", None), "get_dtypes", None)
    return get_dtypes() if get_dtypes is not None else list(frame.dtypes)


def partitionwise(ctx: StepContext, frame: F, fn: Callable[..., pd.DataFrame], *args: Any) -> F:
    """Apply a pandas function to each partition (or to the frame itself when it is pandas).

    The output schema comes from running `fn` on the empty meta frame, so dtypes never need guessing.
    """
    guarded = ctx.guard(fn)
    if not is_dask(frame):
        return guarded(frame, *args)
    meta = guarded(frame._meta, *args)
    return frame.map_partitions(guarded, *args, meta=meta, enforce_metadata=False, align_dataframes=False)
