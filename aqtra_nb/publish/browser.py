"""Headless Chromium for snapshots (and the browser tests and benchmarks): the system's Chromium, never a
downloaded one, started with everything that would reach the network switched off."""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

from ..errors import AqtraError

CHROMIUM_ENV = "AQTRA_CHROMIUM"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def chromium_executable() -> str:
    """The `chromium` setting (`$AQTRA_CHROMIUM`), else Debian's `/usr/bin/chromium`, else `chromium` on
    the PATH."""
    from ..resources import current

    configured = current().settings.chromium
    for candidate in (configured, "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise AqtraError(
        f"no Chromium found: install it (Debian: apt-get install chromium) or set {CHROMIUM_ENV} "
        "to its executable"
    )


def launch_args() -> dict:
    """Keyword arguments for Playwright's `chromium.launch`."""
    return {"executable_path": chromium_executable(), "args": list(CHROMIUM_ARGS), "headless": True}


def sync_playwright():
    """Playwright's sync API, or an error saying how to install it (an optional dependency)."""
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    try:
        from playwright.sync_api import sync_playwright as start
    except ImportError:
        raise AqtraError('Playwright is needed for this: pip install "aqtra-nb[export]"') from None
    return start()


def is_loopback(url: str) -> bool:
    """Whether a request stays on this machine (data: and blob: URLs never leave the page)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in LOOPBACK_HOSTS
