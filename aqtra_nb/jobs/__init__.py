"""Jobs: notebooks and flows run by papermill or the engine, on cron schedules, with retries and timeouts."""

from .notebook import NotebookOutcome, check_parameters, execute_notebook, notebook_parameters

__all__ = ["NotebookOutcome", "check_parameters", "execute_notebook", "notebook_parameters"]
