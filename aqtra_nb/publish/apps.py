"""What Voilà serves: app notebooks and `*.app.yaml` specs, staged into one folder Voilà can render.

Voilà renders notebooks under one root folder and starts each kernel in the notebook's folder. We keep
those two apart: the *staging* folder (a temporary directory) holds a link to each app notebook and a
generated notebook per `*.app.yaml`; the kernel manager's root is the app folder itself, so every kernel
runs where its app lives and relative paths (data, flows, the spec) resolve as they do in JupyterLab.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..errors import AqtraError

APP_SPEC_SUFFIX = ".app.yaml"
_SKIP_DIRS = {".ipynb_checkpoints", "__pycache__", "node_modules"}


@dataclass(frozen=True)
class AppSource:
    """One publishable app: a notebook or an app spec, relative to the folder it is served from."""

    path: Path  # absolute path of the .ipynb or .app.yaml
    relative: Path  # path under the served folder

    @property
    def is_spec(self) -> bool:
        return self.path.name.endswith(APP_SPEC_SUFFIX)

    @property
    def staged_name(self) -> Path:
        """The notebook Voilà renders: `sales.app.yaml` → `sales.app.ipynb`, notebooks keep their name."""
        if self.is_spec:
            return self.relative.with_name(self.relative.name[: -len(".yaml")] + ".ipynb")
        return self.relative


def app_source(path: str | os.PathLike[str]) -> AppSource:
    """Check one app file given on the command line."""
    file = Path(path).expanduser().resolve()
    if not file.exists():
        raise AqtraError("no such file", file=str(path))
    if not (file.suffix == ".ipynb" or file.name.endswith(APP_SPEC_SUFFIX)):
        raise AqtraError("publish serves a notebook (*.ipynb) or an app spec (*.app.yaml)", file=str(path))
    if file.suffix == ".ipynb":
        _check_notebook(file)
    return AppSource(file, Path(file.name))


def find_apps(folder: str | os.PathLike[str]) -> list[AppSource]:
    """Every notebook and app spec under `folder` (hidden and checkpoint folders skipped), sorted."""
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise AqtraError("not a folder", file=str(folder))
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in sorted(files):
            if name.startswith("."):
                continue
            if name.endswith(".ipynb") or name.endswith(APP_SPEC_SUFFIX):
                path = Path(directory, name)
                found.append(AppSource(path, path.relative_to(root)))
    return found


def _check_notebook(path: Path) -> None:
    try:
        nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for bad files
        raise AqtraError(f"not a readable notebook: {exc}", file=str(path)) from None


def spec_notebook(spec_name: str) -> nbformat.NotebookNode:
    """The notebook Voilà runs for an app spec: render it, with errors shown as messages.

    The kernel runs in the spec's folder, so the spec is referred to by its bare file name.
    """
    code = f"from aqtra_nb.publish.page import show_app\n\napp = show_app({spec_name!r})"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["title"] = spec_name[: -len(APP_SPEC_SUFFIX)]
    return nb


def stage(apps: list[AppSource], staging: Path) -> None:
    """Fill `staging` with what Voilà renders: links to notebooks, generated notebooks for specs."""
    for app in apps:
        target = staging / app.staged_name
        target.parent.mkdir(parents=True, exist_ok=True)
        if app.is_spec:
            nbformat.write(spec_notebook(app.path.name), target)
        else:
            target.symlink_to(app.path)  # a link, so edits show on the next page load
