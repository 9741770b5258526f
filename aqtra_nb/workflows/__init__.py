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

from . import tasks
from .engine import WorkflowError, get, history, instances, reset, resume, start
from .load import WorkflowValidationError, load_workflow, parse_workflow
from .spec import WorkflowSpec
from .steps import WorkflowStepFailed

__all__ = [
    "WorkflowError",
    "WorkflowSpec",
    "WorkflowStepFailed",
    "WorkflowValidationError",
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
