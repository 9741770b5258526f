"""Components: the building blocks of flows, and the registry that finds them by name."""

from .base import Component, InputComponent, OutputComponent, Params, StepContext, partitionwise
from .reference import Catalogue, catalogue
from .registry import ComponentRegistry, registry


def _repr_html_() -> str:
    """`aqtra_nb.components` in a notebook shows the catalogue: every component and its parameters."""
    return Catalogue()._repr_html_()


__all__ = [
    "Catalogue",
    "Component",
    "ComponentRegistry",
    "InputComponent",
    "OutputComponent",
    "Params",
    "StepContext",
    "catalogue",
    "partitionwise",
    "registry",
]
