"""Components: the building blocks of flows, and the registry that finds them by name."""

from .base import Component, InputComponent, OutputComponent, Params, StepContext, partitionwise
from .registry import ComponentRegistry, registry

__all__ = [
    "Component",
    "ComponentRegistry",
    "InputComponent",
    "OutputComponent",
    "Params",
    "StepContext",
    "partitionwise",
    "registry",
]
