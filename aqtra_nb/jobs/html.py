"""The HTML copy of a run's output notebook. Imports nothing of aqtra_nb, so a run process (which has
papermill's nbformat already) renders it without loading the package's modules."""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)

OFFLINE_TEMPLATES = Path(__file__).parent / "templates"
# what the HTML copy shows of an output, best first: no widget views or JavaScript (nothing on the page
# runs them offline), so widgets show their static fallbacks (a flow view its SVG)
OFFLINE_PRIORITY = [
    "text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg", "text/latex", "text/plain",
]  # fmt: skip


def render_html(notebook_path: Path) -> Path | None:
    """The notebook as a standalone HTML page beside it (nbconvert, `templates/aqtra_offline`: nothing
    loaded from the internet, so it opens offline and behind a firewall); None if rendering fails."""
    try:
        import nbformat
        from nbconvert import HTMLExporter
        from traitlets.config import Config

        notebook = nbformat.read(notebook_path, as_version=4)
        notebook.metadata.pop("widgets", None)  # the widgets' saved state: nothing renders it here
        exporter = HTMLExporter(
            config=Config({"NbConvertBase": {"display_data_priority": OFFLINE_PRIORITY}}),
            template_name="aqtra_offline",
            extra_template_basedirs=[str(OFFLINE_TEMPLATES)],
        )
        body, _ = exporter.from_notebook_node(notebook)
    except Exception as exc:  # a broken output must not turn a finished run into a crash
        logger.warning("could not render %s to HTML: %s", notebook_path, exc)
        return None
    target = notebook_path.with_suffix(".html")
    partial = target.with_suffix(".html.tmp")  # readers never see half a page
    partial.write_text(body, encoding="utf-8")
    partial.replace(target)
    return target
