"""Workflows: state machines of steps over one entity record (`*.workflow.yaml`), with human tasks.

```python
from aqtra_nb import workflows
from aqtra_nb.workflows import tasks

wf = workflows.start("purchase.workflow.yaml", {"limit": 500}, record="Requisition:7")
wf.status                       # "waiting": a person has to decide
tasks.approve(tasks.list()[0].id)   # goes on down the `approve` branch
```
See docs/workflows.md.
"""

import importlib

# Loaded on first use (PEP 562), so that `aqtra-nb` builds its parser without importing the engine.
_HOMES = {
    "tasks": ".tasks",
    "WorkflowError": ".engine",
    "cancel": ".engine",
    "get": ".engine",
    "history": ".engine",
    "instances": ".engine",
    "reset": ".engine",
    "resume": ".engine",
    "start": ".engine",
    "WorkflowValidationError": ".load",
    "load_workflow": ".load",
    "parse_workflow": ".load",
    "WorkflowSpec": ".spec",
    "WorkflowStepFailed": ".steps",
}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(home, __name__)
    return module if name == "tasks" else getattr(module, name)


__all__ = [
    "WorkflowError",
    "WorkflowSpec",
    "WorkflowStepFailed",
    "WorkflowValidationError",
    "cancel",
    "get",
    "history",
    "instances",
    "load_workflow",
    "parse_workflow",
    "reset",
    "resume",
    "start",
    "tasks",
]
