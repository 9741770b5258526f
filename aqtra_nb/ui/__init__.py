"""UI components for apps built on flows: grids, charts, forms, buttons, KPI cards and layouts (ipywidgets),
bound to flows by `App`, written in Python or as `*.app.yaml` files. See docs/ui.md."""

from .actions import Button, Refresh, RunFlow, SaveRecord, StartWorkflow
from .app import App
from .chart import Chart
from .datagrid import DataGrid
from .display import Markdown, Metric
from .fields import FormField
from .form import Form
from .layout import Grid, Page, Panel, Tabs
from .runner import FlowRunner
from .status import RunStatusView

__all__ = [
    "App",
    "Button",
    "Chart",
    "DataGrid",
    "FlowRunner",
    "Form",
    "FormField",
    "Grid",
    "Markdown",
    "Metric",
    "Page",
    "Panel",
    "Refresh",
    "RunFlow",
    "RunStatusView",
    "SaveRecord",
    "StartWorkflow",
    "Tabs",
]
