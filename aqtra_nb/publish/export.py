"""`aqtra-nb publish APP --export html`: a static, self-contained HTML snapshot of the rendered app.

A dashboard's content is mostly widgets (grids, charts, forms) that only exist once a browser has drawn
them from the kernel's state; a notebook converter would write placeholders and a script that fetches a
widget renderer from a CDN. So the snapshot is what a visitor sees: the app is served by Voilà on
loopback (with a one-off token), rendered in headless Chromium, and the settled page is written with its
style sheets inlined, form values kept, canvases turned into images, and every script removed.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import AqtraError
from .apps import AppSource
from .browser import is_loopback, launch_args, sync_playwright
from .process import PublishedServer
from .server import new_token

logger = logging.getLogger(__name__)

# Run in the page: freeze the DOM into static HTML (styles inlined, no scripts, current values kept).
_FREEZE = """() => {
  for (const input of document.querySelectorAll('input')) {
    if (input.type === 'checkbox' || input.type === 'radio') {
      if (input.checked) input.setAttribute('checked', ''); else input.removeAttribute('checked');
    } else if (input.type !== 'password') {
      input.setAttribute('value', input.value);
    }
  }
  for (const area of document.querySelectorAll('textarea')) area.textContent = area.value;
  for (const select of document.querySelectorAll('select')) {
    for (const option of select.options) {
      if (option.selected) option.setAttribute('selected', ''); else option.removeAttribute('selected');
    }
  }
  for (const canvas of document.querySelectorAll('canvas')) {
    try {
      const img = document.createElement('img');
      img.src = canvas.toDataURL('image/png');
      img.width = canvas.width; img.height = canvas.height;
      img.style.cssText = canvas.style.cssText;
      canvas.replaceWith(img);
    } catch (e) { /* a tainted canvas stays blank */ }
  }
  const rules = [];
  for (const sheet of document.styleSheets) {
    let list;
    try { list = sheet.cssRules; } catch (e) { continue; }
    for (const rule of list) {
      if (rule.type === CSSRule.FONT_FACE_RULE || rule.type === CSSRule.IMPORT_RULE) continue;
      rules.push(rule.cssText);
    }
  }
  document.querySelectorAll('script, link, style, noscript, iframe').forEach(e => e.remove());
  const loading = document.getElementById('loading');
  if (loading) loading.remove();
  const rendered = document.getElementById('rendered_cells');
  if (rendered) rendered.style.display = '';
  const style = document.createElement('style');
  style.textContent = rules.join('\\n');
  document.head.appendChild(style);
  const meta = document.createElement('meta');
  meta.setAttribute('charset', 'utf-8');
  document.head.prepend(meta);
  return '<!DOCTYPE html>\\n' + document.documentElement.outerHTML;
}"""

# Run in the page: the size of the rendered content, to see when it stops changing.
_CONTENT_SIZE = "() => document.body ? document.body.innerHTML.length : 0"


def export_html(app: AppSource, output: Path, *, timeout: int = 120, settle_seconds: float = 1.0) -> Path:
    """Render `app` and write the snapshot to `output`. The app runs in its own folder, as when served."""
    token = new_token()
    server = PublishedServer(
        ["publish", str(app.path), "--port", "0", "--timeout", str(timeout)],
        cwd=app.path.parent,
        env={"AQTRA_PUBLISH_TOKEN": token, "PYTHONUNBUFFERED": "1"},
    )
    try:
        server.start(timeout=60)
    except (TimeoutError, RuntimeError) as exc:
        raise AqtraError(f"could not start Voilà for the snapshot:\n{exc}", file=str(app.path)) from None
    try:
        # Playwright's sync API refuses to run where an event loop runs (a notebook, a test using
        # Playwright): a thread of its own works everywhere.
        with ThreadPoolExecutor(1) as pool:
            html = pool.submit(_render, server.url, timeout=timeout, settle_seconds=settle_seconds).result()
    finally:
        server.stop()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    return output


def _render(url: str, *, timeout: int, settle_seconds: float) -> str:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_args())
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            # The snapshot must not depend on (or leak to) anything outside this machine.
            page.route(
                "**/*", lambda route: route.continue_() if is_loopback(route.request.url) else route.abort()
            )
            page.goto(url, timeout=timeout * 1000, wait_until="load")
            page.wait_for_function(
                "() => !document.getElementById('loading') || "
                "getComputedStyle(document.getElementById('loading')).display === 'none' || "
                "document.getElementById('rendered_cells')?.style.display !== 'none'",
                timeout=timeout * 1000,
            )
            _wait_until_settled(page, timeout=timeout, settle_seconds=settle_seconds)
            return page.evaluate(_FREEZE)
        finally:
            browser.close()


# A chart's plotly.js may load after the other widgets have drawn (published pages fetch it as a file).
_CHARTS_DRAWN = (
    "() => [...document.querySelectorAll('.aqtra-chart')].every(c => c.querySelector('.main-svg'))"
)


def _wait_until_settled(page, *, timeout: float, settle_seconds: float) -> None:
    """Widgets draw after the kernel's messages arrive: wait until the page stops changing."""
    deadline = time.monotonic() + timeout
    last, stable_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        size = page.evaluate(_CONTENT_SIZE)
        now = time.monotonic()
        if size != last or not page.evaluate(_CHARTS_DRAWN):
            last, stable_since = size, now
        elif now - stable_since >= settle_seconds:
            return
        page.wait_for_timeout(100)
    logger.warning("the page was still changing after %s s; writing it as it is", timeout)
