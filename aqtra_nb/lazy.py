"""A package's names loaded on first use (PEP 562), so that importing the package costs nothing until a
name is used: `aqtra-nb` builds its parser, and run processes start, without pandas or SQLAlchemy.

```python
__getattr__, __dir__ = lazy_exports(__name__, {"Entity": "model"})
```
maps each exported name to the submodule (relative to the package) that defines it; a name mapped to
`None` is the submodule itself. The first use imports the submodule and keeps the value in the package.
Imports nothing of aqtra_nb.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str | None]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The `__getattr__` and `__dir__` of `package` for `exports` (name → submodule, or None for the
    submodule named `name`)."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(f".{exports[name] or name}", package)
        value = module if exports[name] is None else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted([*vars(sys.modules[package]), *exports])

    return __getattr__, __dir__
