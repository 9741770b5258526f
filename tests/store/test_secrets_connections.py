"""Encrypted secrets and named connections: references only, resolved when used, clear errors."""

import os
import stat
import subprocess
import sys

import pytest
from sqlalchemy import text

from aqtra_nb.connections import Connections, ConnectionSpec, ConnectorError
from aqtra_nb.secrets import SecretError, SecretStore, resolve_references
from aqtra_nb.store import Store


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    yield store
    store.close()


def test_secrets_are_encrypted_at_rest(store, aqtra_home):
    secrets = SecretStore(store)
    secrets.set("API_TOKEN", "tok-7f3a9e-planted")
    assert secrets.get("API_TOKEN") == "tok-7f3a9e-planted"
    with store.engine.connect() as connection:
        token = connection.execute(text("select token from secrets")).scalar()
    assert b"tok-7f3a9e-planted" not in bytes(token)
    key = aqtra_home / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    secrets.set("API_TOKEN", "new")
    assert secrets.get("API_TOKEN") == "new" and secrets.names() == ["API_TOKEN"]
    assert secrets.delete("API_TOKEN") and not secrets.delete("API_TOKEN")


def test_missing_secret_and_env_are_clear_errors(store, monkeypatch):
    secrets = SecretStore(store)
    secrets.set("DB_PASSWORD", "x")
    with pytest.raises(SecretError, match=r"secret 'DB_PASWORD' is not set\. Did you mean 'DB_PASSWORD'\?"):
        secrets.get("DB_PASWORD")
    monkeypatch.delenv("NOPE_VAR", raising=False)
    with pytest.raises(SecretError, match="connection 'w': environment variable 'NOPE_VAR' is not set"):
        resolve_references("a${env:NOPE_VAR}b", secrets, where="connection 'w': ")
    monkeypatch.setenv("YES_VAR", "v")
    assert resolve_references("a${env:YES_VAR}b${secret:DB_PASSWORD}", secrets) == "avbx"


def test_a_changed_key_cannot_decrypt(store, monkeypatch):
    from cryptography.fernet import Fernet

    secrets = SecretStore(store)
    secrets.set("S", "v")
    monkeypatch.setenv("AQTRA_SECRET_KEY", Fernet.generate_key().decode())
    with pytest.raises(SecretError, match="cannot be decrypted with this key"):
        secrets.get("S")


def test_connections_from_file_and_store(store, tmp_path, monkeypatch):
    (tmp_path / "aqtra.yaml").write_text(
        "connections:\n"
        "  local_db: {kind: sql, url: 'sqlite:///${env:DB_FILE}'}\n"
        "  api: {kind: http, base_url: 'http://127.0.0.1:1', headers: {Authorization: 'Bearer ${secret:TOKEN}'}}\n"
    )
    nested = tmp_path / "flows" / "sub"
    nested.mkdir(parents=True)
    monkeypatch.setenv("DB_FILE", str(tmp_path / "x.db"))
    SecretStore(store).set("TOKEN", "t0k")
    connections = Connections(nested, store=store)  # aqtra.yaml is found in a parent folder
    assert connections.get("local_db").resolved["url"] == f"sqlite:///{tmp_path / 'x.db'}"
    with connections.get("local_db").engine().connect() as connection:
        assert connection.execute(text("select 1")).scalar() == 1
    assert connections.get("api").resolved["headers"] == {"Authorization": "Bearer t0k"}
    connections.add("files", {"kind": "files", "url": str(tmp_path)})
    assert connections.names() == ["api", "files", "local_db"]
    fs, root = connections.get("files").filesystem()
    assert fs.exists(os.path.join(root, "aqtra.yaml"))
    with pytest.raises(ConnectorError, match=r"unknown connection 'local'\. Did you mean 'local_db'\?"):
        connections.get("local")
    assert connections.remove("files") and "files" not in Connections(nested, store=store).names()


def test_relative_paths_in_aqtra_yaml_mean_its_folder_and_user_sqlite_keeps_its_journal(
    tmp_path, monkeypatch
):
    import sqlite3

    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "aqtra.yaml").write_text(
        "connections:\n  db: {kind: sql, url: 'sqlite:///data/user.db'}\n  files: {kind: files, url: data}\n"
    )
    sqlite3.connect(project / "data" / "user.db").execute("create table t (x int)").connection.commit()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the process runs from another folder
    connections = Connections(project, store=object())
    with connections.get("db").engine().connect() as connection:
        assert connection.execute(text("select count(*) from t")).scalar() == 0
        assert connection.execute(text("pragma journal_mode")).scalar() == "delete"
    fs, root = connections.get("files").filesystem()
    assert fs.exists(os.path.join(root, "user.db"))
    assert not (elsewhere / "data").exists()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "sql", "url": "postgresql+psycopg://u:hunter2@h/db"}, "password in clear"),
        (
            {"kind": "http", "base_url": "http://x", "auth": {"username": "u", "password": "hunter2"}},
            "not in clear",
        ),
        ({"kind": "sql"}, "needs `url`"),
        ({"kind": "http"}, "needs `base_url`"),
        ({"kind": "ftp", "url": "x"}, "Input should be"),
    ],
)
def test_bad_connection_specs(spec, message):
    with pytest.raises(Exception, match=message):
        ConnectionSpec.model_validate(spec)


def test_bad_aqtra_yaml_names_the_file_and_field(tmp_path, store):
    (tmp_path / "aqtra.yaml").write_text("connections:\n  db: {kind: sql, url: 'postgresql://u:pw@h/d'}\n")
    with pytest.raises(ConnectorError) as info:
        Connections(tmp_path, store=store).get("db")
    assert str(tmp_path / "aqtra.yaml") in str(info.value) and "connections.db" in str(info.value)


def test_cli_secrets_never_echo_the_value(tmp_path):
    env = {**os.environ, "AQTRA_HOME": str(tmp_path / "home")}

    def cli(*args, stdin=None):
        return subprocess.run(
            [sys.executable, "-m", "aqtra_nb.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )

    done = cli("secrets", "set", "PLANTED", stdin="zz-planted-value\n")
    assert done.returncode == 0 and "zz-planted-value" not in done.stdout + done.stderr
    assert cli("secrets", "list").stdout.split() == ["PLANTED"]
    for path in (tmp_path / "home").rglob("*"):
        if path.is_file():
            assert b"zz-planted-value" not in path.read_bytes()
    assert cli("secrets", "delete", "NOPE").returncode == 2
    refused = cli("connections", "add", "db", "--kind", "sql", "--url", "postgresql://u:zz-planted-value@h/d")
    assert refused.returncode == 2 and "password in clear" in refused.stderr
    assert "zz-planted-value" not in refused.stderr


def test_a_whole_url_reference_is_allowed_and_from_url_checks_like_a_connection(monkeypatch, tmp_path):
    ConnectionSpec.model_validate({"kind": "sql", "url": "${env:DATABASE_URL}"})  # resolved when used
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    connection = Connections(tmp_path).from_url("${env:DATABASE_URL}")
    assert connection.resolved["url"] == f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(ConnectorError, match="password in clear") as info:
        Connections(tmp_path).from_url("postgresql+psycopg://u:hunter2@h/db")
    assert "hunter2" not in str(info.value)
