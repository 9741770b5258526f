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

from aqtra_nb.lazy import lazy_exports

# Loaded on first use (PEP 562), so that `aqtra-nb` builds its parser without importing the engine.
_HOMES = {
    "tasks": None,
    "WorkflowError": "engine",
    "cancel": "engine",
    "get": "engine",
    "history": "engine",
    "instances": "engine",
    "reset": "engine",
    "resume": "engine",
    "start": "engine",
    "WorkflowValidationError": "load",
    "load_workflow": "load",
    "parse_workflow": "load",
    "WorkflowSpec": "spec",
    "WorkflowStepFailed": "steps",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES)


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
