"""What the handlers share: settings, resources, the server's root, the run launcher, a thread pool for
blocking work and the placement of short calls beside it, metrics, the read cache and the route table."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..resources import Resources
from ..settings import AqtraNb
from .api import Route
from .metrics import Metrics
from .placement import Placement
from .read_cache import ReadCache
from .run_service import RunLauncher


@dataclass
class ApiServices:
    settings: AqtraNb
    resources: Resources
    root_dir: Path
    launcher: RunLauncher
    metrics: Metrics
    read_cache: ReadCache
    routes: list[Route] = field(default_factory=list)
    executor: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="aqtra-api")
    )
    placement: Placement = field(init=False)

    def __post_init__(self) -> None:
        self.placement = Placement(self.executor)

    def flow_location(self, path: str | None) -> tuple[Path, str | None]:
        """The folder a flow's relative paths resolve in, and its source name: its file's, or the root."""
        if not path:
            return self.root_dir, None
        from .flow_service import resolve

        resolved = resolve(self.root_dir, path)
        return resolved.parent, str(resolved)

    def close(self) -> Any:
        self.launcher.close()
        self.read_cache.changes.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
