"""`AqtraNb`: every setting a deployer may change, as one traitlets `Configurable`.

As for every Jupyter setting, a value comes from `jupyter_server_config.py` (`c.AqtraNb.database_url =
...`), the command line (`jupyter lab --AqtraNb.database_url=...`) or, for the settings that have one,
the `AQTRA_*` environment variable (which is how a CLI command, a scheduler or a run process started by
them receives it). A value given in config wins over the environment.

This module imports nothing else of the package: the store, the engine and the server all read it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from traitlets import Bool, Float, Int, List, Unicode, default
from traitlets.config import LoggingConfigurable

#: trait name -> the environment variable it falls back to
ENVIRONMENT = {
    "home": "AQTRA_HOME",
    "database_url": "AQTRA_DATABASE_URL",
    "smtp_url": "AQTRA_SMTP_URL",
    "in_memory_bytes": "AQTRA_IN_MEMORY_BYTES",
    "cache_bytes": "AQTRA_CACHE_BYTES",
    "cache_min_seconds": "AQTRA_CACHE_MIN_SECONDS",
    "log_level": "AQTRA_LOG_LEVEL",
    "chromium": "AQTRA_CHROMIUM",
    "openlineage": "AQTRA_OPENLINEAGE",
    "parent_run": "AQTRA_PARENT_RUN",
}


class AqtraNb(LoggingConfigurable):
    """aqtra-nb's settings (one object per process edge: CLI command, scheduler, server, notebook)."""

    home = Unicode(
        help="Folder of the embedded database, the secret key, run folders and caches "
        "($AQTRA_HOME, default ~/.aqtra_nb)."
    ).tag(config=True)
    database_url = Unicode(
        help="SQLAlchemy URL of the store ($AQTRA_DATABASE_URL; default: the SQLite file HOME/aqtra.db). "
        "A password belongs in a reference, e.g. postgresql+psycopg://app:${env:PGPASSWORD}@db/aqtra."
    ).tag(config=True)
    smtp_url = Unicode(
        help="SMTP server for email notifications ($AQTRA_SMTP_URL), credentials as references."
    ).tag(config=True)
    in_memory_bytes = Int(
        0,
        help="Inputs smaller than this run as one pandas task per step ($AQTRA_IN_MEMORY_BYTES; "
        "0: 1/32 of the machine's memory, at most 1 GiB).",
    ).tag(config=True)
    cache_bytes = Int(
        -1,
        help="Size limit of the step cache in HOME/cache ($AQTRA_CACHE_BYTES; least recently used "
        "entries go first; 0 turns the cache off; -1: 2 GiB).",
    ).tag(config=True)
    cache_min_seconds = Float(
        0.005,
        help="A step's output is written to the step cache when making it took longer than this plus "
        "the time to write and read it back (about 400 MB/s); faster steps stay in memory only "
        "($AQTRA_CACHE_MIN_SECONDS; negative: write every step).",
    ).tag(config=True)
    log_level = Unicode("WARNING", help="Log level of aqtra-nb's loggers ($AQTRA_LOG_LEVEL).").tag(
        config=True
    )
    chromium = Unicode(
        help="Chromium executable for static snapshots of apps ($AQTRA_CHROMIUM; default: "
        "/usr/bin/chromium, else chromium on the PATH). None is ever downloaded."
    ).tag(config=True)
    openlineage = Bool(
        False,
        help="Emit OpenLineage run events for flow runs ($AQTRA_OPENLINEAGE; needs the `lineage` extra). "
        "Where they go is the OpenLineage client's own configuration: openlineage.yml, OPENLINEAGE_URL "
        "or OPENLINEAGE__TRANSPORT__* variables.",
    ).tag(config=True)

    parent_run = Unicode(
        help="The run this process works for ($AQTRA_PARENT_RUN): a notebook job's run, set for the "
        "notebook's kernel, so the flow runs it records show as that run's children.",
    ).tag(config=True)

    # -- the Jupyter server extension --------------------------------------------------------------------
    run_scheduler = Bool(
        False,
        help="Run the jobs scheduler inside the Jupyter server (one-person installs). It claims runs "
        "through the database like `aqtra-nb scheduler`, so running both never doubles a run.",
    ).tag(config=True)
    scheduler_interval = Float(5.0, help="Seconds between the in-server scheduler's ticks.").tag(config=True)
    run_workers = Int(2, help="How many API-started runs may execute at once; more wait queued.").tag(
        config=True
    )
    metrics_token = Unicode(
        help="A separate bearer token Prometheus may scrape /aqtra/api/metrics with "
        "(`Authorization: Bearer ...`); empty: Jupyter's own auth only."
    ).tag(config=True)
    max_request_bytes = Int(
        8 * 2**20, help="Largest request body the API accepts (a flow document, a record)."
    ).tag(config=True)
    max_preview_rows = Int(1000, help="Most rows one preview request may ask for.").tag(config=True)
    gc_freeze = Bool(
        True,
        help="Once the server has started, freeze its startup heap out of Python's garbage collection "
        "(gc.freeze): full collections then take milliseconds instead of stopping the whole server for "
        "hundreds. Global to the server process; False turns it off (docs/api.md).",
    ).tag(config=True)
    entity_modules = List(
        Unicode(),
        help="Modules the server imports at start so that their entities are served by "
        "/aqtra/api/entities (besides those of the `aqtra_nb.entities` entry points).",
    ).tag(config=True)

    @default("home")
    def _home_default(self) -> str:
        return str(Path(os.environ.get("AQTRA_HOME") or Path.home() / ".aqtra_nb").expanduser())

    @default("database_url")
    def _database_url_default(self) -> str:
        return os.environ.get("AQTRA_DATABASE_URL", "")

    @default("smtp_url")
    def _smtp_url_default(self) -> str:
        return os.environ.get("AQTRA_SMTP_URL", "")

    @default("in_memory_bytes")
    def _in_memory_bytes_default(self) -> int:
        value = os.environ.get("AQTRA_IN_MEMORY_BYTES", "")
        return int(value) if value.strip().isdigit() else 0

    @default("cache_bytes")
    def _cache_bytes_default(self) -> int:
        value = os.environ.get("AQTRA_CACHE_BYTES", "").strip()
        return int(value) if value.lstrip("-").isdigit() else -1

    @default("cache_min_seconds")
    def _cache_min_seconds_default(self) -> float:
        try:
            return float(os.environ.get("AQTRA_CACHE_MIN_SECONDS", "0.005"))
        except ValueError:
            return 0.005

    @property
    def cache_limit(self) -> int:
        """The step cache's size limit in bytes (0: no cache)."""
        return 2 * 2**30 if self.cache_bytes < 0 else self.cache_bytes

    @default("log_level")
    def _log_level_default(self) -> str:
        return os.environ.get("AQTRA_LOG_LEVEL", "WARNING").upper()

    @default("chromium")
    def _chromium_default(self) -> str:
        return os.environ.get("AQTRA_CHROMIUM", "")

    @default("openlineage")
    def _openlineage_default(self) -> bool:
        return os.environ.get("AQTRA_OPENLINEAGE", "").strip().lower() in ("1", "true", "yes", "on")

    @default("parent_run")
    def _parent_run_default(self) -> str:
        return os.environ.get("AQTRA_PARENT_RUN", "")

    @property
    def home_path(self) -> Path:
        return Path(self.home).expanduser()

    @property
    def store_url(self) -> str:
        """The database URL, or the embedded SQLite file under `home`."""
        return self.database_url or f"sqlite:///{self.home_path / 'aqtra.db'}"

    def environment(self, **overrides: Any) -> dict[str, str]:
        """These settings (with `overrides`, by trait name) as `AQTRA_*` variables, for processes this one
        starts (a run, a kernel): they read them back as their own settings."""
        values: dict[str, Any] = {name: getattr(self, name) for name in ENVIRONMENT} | overrides
        unset = {"cache_bytes": (-1,), "cache_min_seconds": (0.005,)}  # 0 is a value there
        return {
            ENVIRONMENT[name]: str(value)
            for name, value in values.items()
            if value not in unset.get(name, ("", 0, None))
        }


def environment_key() -> tuple[str | None, ...]:
    """The `AQTRA_*` variables as they are now: settings made from the environment are cached by it."""
    return tuple(os.environ.get(variable) for variable in ENVIRONMENT.values())
