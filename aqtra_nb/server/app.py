"""`AqtraNbExtension`: the Jupyter Server extension. It builds the resources once (the edge), registers
the API handlers under `/aqtra/api/`, settles runs an earlier server left, and optionally runs the jobs
scheduler in a thread of the server (`c.AqtraNb.run_scheduler = True`)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join

from ..resources import Resources, install
from ..settings import AqtraNb
from ..store.changes import ChangeToken
from .handlers import routes
from .heap import freeze_startup_heap, warm_up
from .metrics import Metrics
from .openapi import path_template
from .read_cache import ReadCache
from .run_service import RunLauncher
from .services import ApiServices

logger = logging.getLogger(__name__)

API_PREFIX = "/aqtra/api/"


class AqtraNbExtension(ExtensionApp):
    name = "aqtra_nb"
    description = "aqtra-nb: flows, runs, jobs and metrics over Jupyter's authenticated API"
    load_other_extensions = True
    classes = [AqtraNb]

    def initialize_settings(self) -> None:
        config = AqtraNb(parent=self.serverapp or self)
        resources = install(Resources(config))
        root = Path(self.serverapp.root_dir if self.serverapp is not None else ".").resolve()
        launcher = RunLauncher(resources, workers=config.run_workers)
        read_cache = ReadCache(ChangeToken(resources.store.engine))
        self.services = ApiServices(
            config, resources, root, launcher, Metrics(resources.store), read_cache, routes()
        )
        self.services.metrics.registry.register(self.services.placement)
        self.settings["aqtra_nb_services"] = self.services
        for module in config.entity_modules:
            importlib.import_module(module)  # declares its entities
        self._warm_up()
        recovered = launcher.recover()
        if any(recovered.values()):
            self.log.info("aqtra-nb: settled runs of an earlier server: %s", recovered)
        self._scheduler: _InServerScheduler | None = None

    def initialize_handlers(self) -> None:
        for pattern, handler in self.services.routes:
            handler.route_template = path_template(pattern)
            self.handlers.append((url_path_join(API_PREFIX, pattern), handler))

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        if self.services.settings.run_scheduler:
            self._scheduler = _InServerScheduler(self.services)
            self._scheduler.start()
        self.services.metrics.gc.install()
        if self.services.settings.gc_freeze:
            # after this turn of the loop, once every extension's start has run
            asyncio.get_running_loop().call_soon(freeze_startup_heap)

    def _warm_up(self) -> None:
        """Import what serving the API imports on first use (the engine, Dask, pyarrow: about a second),
        before the server listens: two first requests on pool threads importing Dask at once can meet
        its modules partially initialized; and the frozen heap then includes them (`heap.py`)."""
        try:
            warm_up(self.services.root_dir)
        except Exception:  # noqa: BLE001 - a first request would import them all the same
            logger.warning("aqtra-nb: warming up the API failed", exc_info=True)

    async def stop_extension(self) -> None:
        self.services.metrics.gc.uninstall()
        if self._scheduler is not None:
            self._scheduler.stop()
        self.services.close()


class _InServerScheduler:
    """`aqtra-nb scheduler` in a thread of the server: the same claims in the database, so a scheduler
    process beside it never doubles a run."""

    def __init__(self, services: ApiServices) -> None:
        self.services = services
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="aqtra-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        from ..jobs.scheduler import Scheduler, SchedulerBusy

        try:
            scheduler = Scheduler(self.services.resources.store)
        except SchedulerBusy as exc:
            logger.warning("in-server scheduler not started: %s", exc)
            return
        with scheduler:
            while not self._stop.is_set():
                try:
                    scheduler.tick()
                except Exception:
                    logger.exception("scheduler tick failed")
                self._stop.wait(self.services.settings.scheduler_interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
