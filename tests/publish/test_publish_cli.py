"""`aqtra-nb publish` / `apps`: user mistakes exit 2 with one clear line; what gets staged for Voilà."""

from __future__ import annotations

import socket
from pathlib import Path

import nbformat
import pytest
from publish_helpers import write_notebook

from aqtra_nb.cli import main
from aqtra_nb.publish.apps import find_apps, spec_notebook, stage


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["publish", "missing.ipynb"], "missing.ipynb: no such file"),
        (["publish", "notes.txt"], "serves a notebook (*.ipynb) or an app spec (*.app.yaml)"),
        (["publish", "broken.ipynb"], "not a readable notebook"),
        (["publish", "good.ipynb", "-o", "x.html"], "-o/--output is only used with --export html"),
        (["publish", "good.ipynb", "--timeout", "0"], "--timeout must be a positive number"),
        (["publish", "good.ipynb", "--port", "70000"], "--port must be 0..65535"),
        (["apps", "notes.txt"], "notes.txt: not a folder"),
        (["apps", "empty"], "no apps to serve"),
    ],
)
def test_user_mistakes_exit_2_with_a_message(
    argv: list[str], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.ipynb").write_text("{not json")
    (tmp_path / "empty").mkdir()
    write_notebook(tmp_path / "good.ipynb", "print(1)")
    code, output = run_cli(capsys, *argv)
    assert code == 2
    assert expected in output
    assert "Traceback" not in output


def test_token_from_the_environment_conflicts_with_public(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_notebook(tmp_path / "good.ipynb", "print(1)")
    monkeypatch.setenv("AQTRA_PUBLISH_TOKEN", "a-fixed-token-for-scripts")
    code, output = run_cli(capsys, "publish", "good.ipynb", "--public")
    assert code == 2 and "choose one" in output


@pytest.mark.slow
def test_port_in_use_is_a_clear_error(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_notebook(tmp_path / "good.ipynb", "print(1)")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, output = run_cli(capsys, "publish", "good.ipynb", "--port", str(port))
    assert code == 2
    assert f"could not listen on 127.0.0.1:{port}" in output


def test_find_apps_skips_hidden_and_checkpoint_folders(tmp_path: Path):
    write_notebook(tmp_path / "a.ipynb", "1")
    write_notebook(tmp_path / "sub" / "b.ipynb", "1")
    write_notebook(tmp_path / ".ipynb_checkpoints" / "a-checkpoint.ipynb", "1")
    write_notebook(tmp_path / ".private" / "c.ipynb", "1")
    (tmp_path / "sales.app.yaml").write_text("app: sales\n")
    (tmp_path / "flow.flow.yaml").write_text("flow: x\n")
    found = [str(app.relative) for app in find_apps(tmp_path)]
    assert found == ["a.ipynb", "sales.app.yaml", "sub/b.ipynb"]


def test_staging_links_notebooks_and_generates_one_for_each_app_spec(tmp_path: Path):
    apps_dir, staging = tmp_path / "apps", tmp_path / "staging"
    write_notebook(apps_dir / "sub" / "b.ipynb", "1")
    (apps_dir / "sales.app.yaml").write_text("app: sales\n")
    staging.mkdir()
    stage(find_apps(apps_dir), staging)
    assert (staging / "sub" / "b.ipynb").resolve() == (apps_dir / "sub" / "b.ipynb").resolve()
    generated = nbformat.read(staging / "sales.app.ipynb", as_version=4)
    assert generated.cells[0].source == spec_notebook("sales.app.yaml").cells[0].source
    assert "app = show_app('sales.app.yaml')" in generated.cells[0].source
    assert generated.metadata.kernelspec.name == "python3"
