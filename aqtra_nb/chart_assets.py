"""The chart's front end (plotly.js and its view) as one ES module, and how a published server serves it
under `<base_url>aqtra/static/`.

In a notebook, a chart carries the module in its `_esm` trait (1.2 MB: plotly.js's *basic* bundle, which
has the bar, pie and scatter traces the charts use; the full bundle is 4.8 MB and takes ~1.5 s to compile).
Under `aqtra-nb publish` (the server sets `PUBLISHED_ENV` in its environment, which its kernels inherit) a
chart carries a small loader instead that imports the module from the server, under a name holding a hash
of its content: the browser compiles it once per page, caches it for good and fetches it again only when
it changes.

Imports nothing of the package and nothing of Jupyter: kernels import it through `aqtra_nb.ui.chart`, and the
published server (`publish/server.py`) serves `static_files()` without importing the UI (ipywidgets, pandas).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

PUBLISHED_ENV = "AQTRA_PUBLISHED"  # "1" in the published server's process and its kernels
PREFIX = "aqtra/static/"  # under the server's base URL
UI_STATIC = Path(__file__).resolve().parent / "ui" / "static"
PLOTLY_JS = UI_STATIC / "plotly-basic.min.js"  # plotly.js-basic-dist-min, MIT (plotly-basic.LICENSE)


@functools.cache
def chart_module() -> str:
    """plotly.js and the chart view (`ui/static/chart.js`) as one ES module. plotly.js runs once per page
    (kept on `globalThis`, so several charts share it); its UMD wrapper hands its export to the local
    `module`, and the page's own `window.Plotly`, if any (a notebook's plotly outputs), is put back."""
    return (
        "const Plotly = (globalThis.__aqtraPlotly ??= (() => {\n"
        "const previous = globalThis.Plotly;\n"
        "const module = { exports: {} };\n"
        f"{PLOTLY_JS.read_text(encoding='utf-8')}\n"
        "if (previous === undefined) delete globalThis.Plotly; else globalThis.Plotly = previous;\n"
        "return module.exports;\n"
        "})());\n" + (UI_STATIC / "chart.js").read_text(encoding="utf-8")
    )


@functools.cache
def chart_module_name() -> str:
    """`chart.<first 16 hex digits of the module's sha256>.js`: the name changes with the content."""
    digest = hashlib.sha256(chart_module().encode()).hexdigest()
    return f"chart.{digest[:16]}.js"


def static_files() -> dict[str, str]:
    """The allow-list: URL name → content. Nothing else is served."""
    return {chart_module_name(): chart_module()}


def published() -> bool:
    """Whether this process runs under (or is) a published server."""
    return os.environ.get(PUBLISHED_ENV) == "1"


def chart_url_path() -> str:
    """The chart module's path under the server's base URL."""
    return PREFIX + chart_module_name()


def chart_loader() -> str:
    """The ES module a published chart carries instead of `chart_module()`: it imports that module from
    this server and re-exports its view. The base URL is read from the page (`jupyter-config-data`, in
    every Voilà page) when it runs, so a proxy in front of the server changes nothing; the kernel's
    `VOILA_BASE_URL` is the fallback. The module runs from a `blob:` URL, hence the absolute address."""
    name = json.dumps(chart_url_path())
    fallback = json.dumps(os.environ.get("VOILA_BASE_URL") or "/")
    return f"""\
const config = document.getElementById("jupyter-config-data");
let base = {fallback};
try {{
  base = (config && JSON.parse(config.textContent).baseUrl) || base;
}} catch (error) {{}}
if (!base.endsWith("/")) base += "/";
const chart = await import(new URL(base + {name}, document.baseURI).href);
export default chart.default;
"""
