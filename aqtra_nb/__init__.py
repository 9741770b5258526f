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
    """`%load_ext aqtra_nb` does what importing it in IPython does already: the `%%flow` cell magic and
    AqtraErrors shown as their message."""
    from .notebook.ipython import install

    install(ipython)


def _set_up_ipython() -> None:
    """Inside IPython (a notebook, Voilà, papermill), `import aqtra_nb` registers `%%flow` and the short
    display of errors; elsewhere it does nothing (IPython is not imported)."""
    import sys

    if "IPython" in sys.modules:
        from .notebook.ipython import install_if_running

        install_if_running()


_set_up_ipython()


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
