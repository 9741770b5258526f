"""Every built-in component, in catalogue order. The registry finds each one through its own entry point
(pyproject.toml), loading only its group's module; this list serves a source tree without installed
metadata and the test that the entry points name exactly these classes."""

from .entities import ENTITY_COMPONENTS
from .files import FILES
from .http import HTTP
from .inputs import INPUTS
from .outputs import OUTPUTS
from .relational import RELATIONAL
from .sql import SQL
from .transforms import ROW_TRANSFORMS
from .window import WINDOW_AND_SCRIPT

BUILTINS = [
    *INPUTS,
    *ROW_TRANSFORMS,
    *RELATIONAL,
    *WINDOW_AND_SCRIPT,
    *OUTPUTS,
    *SQL,
    *HTTP,
    *FILES,
    *ENTITY_COMPONENTS,
]
