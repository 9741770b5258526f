"""Files the published server serves under `<base_url>aqtra/static/`, and the kernel's side of that.

Plotly's `FigureWidget` carries its whole front end (`widgetbundle.js`, ~5 MB) in the `_esm` trait of
every figure, so every chart made every page's widget state ~5 MB long. Under `aqtra-nb publish` (the
server sets `PUBLISHED_ENV` in its environment, which its kernels inherit) a chart's figure carries a
small module instead that imports the bundle from the server, under a name holding a hash of its
content: the browser caches it for good and fetches it again only when plotly changes.

No Jupyter imports here: kernels import this module (through `aqtra_nb.ui.chart`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

PUBLISHED_ENV = "AQTRA_PUBLISHED"  # "1" in the published server's process and its kernels
PREFIX = "aqtra/static/"  # under the server's base URL


def plotly_bundle() -> Path:
    """Plotly's widget front end (the file `FigureWidget._esm` names)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"


@functools.cache
def plotly_bundle_name() -> str:
    """`plotly-widget.<first 16 hex digits of the bundle's sha256>.js`: the name changes with the content."""
    digest = hashlib.sha256(plotly_bundle().read_bytes()).hexdigest()
    return f"plotly-widget.{digest[:16]}.js"


def static_files() -> dict[str, Path]:
    """The allow-list: URL name → file. Nothing else is served."""
    return {plotly_bundle_name(): plotly_bundle()}


def published() -> bool:
    """Whether this process runs under (or is) a published server."""
    return os.environ.get(PUBLISHED_ENV) == "1"


def plotly_loader() -> str:
    """The ES module a published figure carries instead of the bundle: it imports the bundle from this
    server and re-exports what the bundle exports (`FigureModel`, `FigureView` and the anywidget
    `default`). The base URL is read from the page (`jupyter-config-data`, in every Voilà page) when it
    runs, so a proxy in front of the server changes nothing; the kernel's `VOILA_BASE_URL` is the
    fallback. The module runs from a `blob:` URL, hence the absolute address."""
    name = json.dumps(PREFIX + plotly_bundle_name())
    fallback = json.dumps(os.environ.get("VOILA_BASE_URL") or "/")
    return f"""\
const config = document.getElementById("jupyter-config-data");
let base = {fallback};
try {{
  base = (config && JSON.parse(config.textContent).baseUrl) || base;
}} catch (error) {{}}
if (!base.endsWith("/")) base += "/";
const bundle = await import(new URL(base + {name}, document.baseURI).href);
export const FigureModel = bundle.FigureModel;
export const FigureView = bundle.FigureView;
export default bundle.default;
"""
