"""The built-in components, registered through the `aqtra_nb.components` entry point like any plug-in."""

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
