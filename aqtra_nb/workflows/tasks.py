"""Human tasks of workflows (`ask_confirmation`), for people and programs:

```python
from aqtra_nb.workflows import tasks
for task in tasks.list(assignee="manager"):
    tasks.approve(task.id, option="rush", comment="ok")   # the workflow goes on in this process
```
"""

from .engine import approve, decide, reject
from .engine import get_task as get
from .engine import list_tasks as list  # noqa: A004 - tasks.list reads as intended

__all__ = ["approve", "decide", "get", "list", "reject"]
