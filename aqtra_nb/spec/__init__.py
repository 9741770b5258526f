"""Flow documents: models, typed parameters, YAML/JSON load and dump, `${name}` substitution."""

from .io import dump_flow, flow_from_document, load_flow, parse_flow
from .models import FlowSpec, ParameterSpec, StepSpec
from .params import convert_value, infer_parameter, parse_assignments, resolve_parameters
from .template import placeholders, substitute

__all__ = [
    "FlowSpec",
    "ParameterSpec",
    "StepSpec",
    "convert_value",
    "dump_flow",
    "flow_from_document",
    "infer_parameter",
    "load_flow",
    "parse_assignments",
    "parse_flow",
    "placeholders",
    "resolve_parameters",
    "substitute",
]
