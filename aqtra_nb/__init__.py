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
from .flow import Flow, StepRef

__version__ = "0.1.0"


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
