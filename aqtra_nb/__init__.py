"""aqtra-nb: low-code data flows in Jupyter, run on Dask."""

from .errors import (
    AqtraError,
    ExpressionError,
    FlowValidationError,
    ParameterError,
    StepFailed,
    UnknownColumn,
    UnknownComponent,
)

__version__ = "0.1.0"


def __getattr__(name: str):
    """`Flow` and `StepRef` load the engine (pandas, Dask) on first use, so that commands which never
    touch data (`aqtra-nb tasks list`, the scheduler's bookkeeping) start fast."""
    if name in ("Flow", "StepRef"):
        from . import flow

        return getattr(flow, name)
    raise AttributeError(f"module 'aqtra_nb' has no attribute {name!r}")


def load_ipython_extension(ipython) -> None:  # pragma: no cover - exercised through a real kernel
    """`%load_ext aqtra_nb` registers the `%%flow` cell magic."""
    from .notebook.magic import register

    register(ipython)


__all__ = [
    "AqtraError",
    "ExpressionError",
    "Flow",
    "FlowValidationError",
    "ParameterError",
    "StepFailed",
    "StepRef",
    "UnknownColumn",
    "UnknownComponent",
    "__version__",
]
