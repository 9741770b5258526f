"""Secret hygiene: a planted secret value, used through connections and flows by the CLI and from Python,
on success and on failure, is never written anywhere: flow files, aqtra.yaml, the store (the SQLite file
and its WAL), run records, outputs, stdout/stderr, DEBUG logs, error messages and tracebacks, pickled
errors. And a connection spec with a credential in clear is refused without echoing it."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests
from http_server import ApiServer

PLANTED = "PLANTED-s3cr3t+Zq/9=Lw"  # distinctive, and changed by URL encoding ('+', '/', '=')
FORMS = {
    "raw": PLANTED,
    "url-encoded": quote(PLANTED, safe=""),
    "form-encoded": quote_plus(PLANTED),
    "basic-auth": base64.b64encode(f"user:{PLANTED}".encode()).decode(),
}
TESTS = Path(__file__).resolve().parent


def leaks(text: str | bytes) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [name for name, form in FORMS.items() if form.encode() in data]


class Session:
    """Runs `aqtra-nb` and Python in subprocesses with their own AQTRA_HOME and DEBUG logging, and keeps
    every byte they print."""

    def __init__(self, home: Path, cwd: Path) -> None:
        self.cwd = cwd
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("AQTRA_DATABASE_URL", "AQTRA_SECRET_KEY")
        }
        self.env.update({"AQTRA_HOME": str(home), "AQTRA_LOG_LEVEL": "DEBUG", "PYTHONPATH": str(TESTS)})
        self.printed: list[tuple[str, str]] = []

    def run(
        self, args: list[str], *, stdin: str | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess:
        return self._run([sys.executable, "-m", "aqtra_nb.cli", *args], " ".join(args), stdin, cwd)

    def python(self, code: str) -> subprocess.CompletedProcess:
        return self._run([sys.executable, "-c", code], "python", None, None)

    def _run(self, argv, label, stdin, cwd) -> subprocess.CompletedProcess:
        done = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, env=self.env, cwd=cwd or self.cwd, timeout=300
        )
        self.printed.append((label, done.stdout + done.stderr))
        return done


@pytest.fixture
def api():
    with ApiServer(token=PLANTED, query_token=True) as server:
        yield server


def write_project(project: Path, api: ApiServer) -> None:
    port = api.url.rsplit(":", 1)[1]
    (project / "aqtra.yaml").write_text(
        textwrap.dedent(
            f"""\
            connections:
              api:
                kind: http
                base_url: {api.url}
                headers: {{Authorization: 'Bearer ${{secret:API_TOKEN}}'}}
              basic:
                kind: http
                base_url: {api.url}
                auth: {{username: user, password: '${{secret:API_TOKEN}}'}}
              userinfo:
                kind: http
                base_url: 'http://user:${{secret:API_TOKEN}}@127.0.0.1:{port}'
              out: {{kind: files, url: '{project / "out"}'}}
            """
        )
    )
    secure = "{connection: api, path: /secure, query: {api_key: '${secret:API_TOKEN}'}, records: data.items"
    flows = {
        "ok": f"""\
            - {{id: items, component: http_get, with: {secure}, paginate: {{kind: page}}}}}}
            - {{id: save, component: export_file, input: items, with: {{connection: out, path: items.csv}}}}
            - {{id: basic, component: http_get, with: {{connection: basic, path: /basic}}}}
            - {{id: save_basic, component: export_file, input: basic, with: {{connection: out, path: basic.json}}}}
            - {{id: userinfo, component: http_get, with: {{connection: userinfo, path: /basic}}}}
            - {{id: save_userinfo, component: export_file, input: userinfo, with: {{path: out/userinfo.xlsx}}}}
            - {{id: send, component: http_post, input: items, with: {{connection: api, path: /sink, batch_rows: 7}}}}
            """,
        # Fails while planning: the server echoes the request (query included) and its Authorization header.
        "fail_echo": """\
            - {id: items, component: http_get, with: {connection: api, path: /fail, query: {api_key: '${secret:API_TOKEN}'}, retries: 1, backoff_seconds: 0}}
            - {id: save, component: export_file, input: items, with: {connection: out, path: never.csv}}
            """,
        # Fails while running (page 3), with the secret in the query string of the failing URL.
        "fail_running": f"""\
            - {{id: items, component: http_get, with: {secure.replace("/secure", "/fail-on-page-3")}, paginate: {{kind: page}}, retries: 0}}}}
            - {{id: save, component: export_file, input: items, with: {{connection: out, path: never.csv}}}}
            """,
        "fail_basic": """\
            - {id: items, component: http_get, with: {connection: basic, path: /fail, retries: 0}}
            """,
        "fail_userinfo": """\
            - {id: items, component: http_get, with: {connection: userinfo, path: /fail, retries: 0}}
            """,
        "fail_post": """\
            - {id: rows, component: sample_data, with: {table: regions}}
            - {id: send, component: http_post, input: rows, with: {connection: api, path: /fail, retries: 0}}
            """,
    }
    for name, steps in flows.items():
        (project / f"{name}.flow.yaml").write_text(f"flow: hygiene_{name}\nsteps:\n" + textwrap.dedent(steps))


PYTHON = """
import logging, pickle, sys, traceback
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
from aqtra_nb import Flow
from aqtra_nb.runs import default_store

pickles = open("pickled.bin", "wb")
for name in ["ok", "fail_echo", "fail_running", "fail_basic", "fail_userinfo", "fail_post"]:
    flow = Flow.load(f"{name}.flow.yaml")
    print(flow.to_yaml())
    try:
        plan = flow.plan()
        print(plan.explain())
        for step in plan.steps.values():
            for part in ("endpoint", "location"):
                if part in vars(step.component):
                    pickles.write(pickle.dumps(vars(step.component)[part]))
        result = flow.run(progress=False)
        print(result.to_json(), repr(result), result.outputs, sep="\\n")
    except Exception as exc:
        print("failed:", exc, repr(exc), vars(exc))
        traceback.print_exc()
        pickles.write(pickle.dumps(exc))
for run in default_store().runs(limit=50):
    print(run.id, run.status, run.error, run.parameters)
# The store is still open here, so its write-ahead log exists: keep a copy to search.
import os, shutil
from aqtra_nb.resources import current
database = current().settings.home_path / "aqtra.db"
for suffix in ("-wal", "-shm"):
    if os.path.exists(f"{database}{suffix}"):
        shutil.copy(f"{database}{suffix}", f"copy-of-aqtra.db{suffix}")
"""


@pytest.mark.slow  # about 25 CLI and Python processes
def test_a_planted_secret_is_never_written_anywhere(tmp_path, api):
    home, project = tmp_path / "home", tmp_path / "project"
    project.mkdir()
    write_project(project, api)
    session = Session(home, project)

    stored = session.run(["secrets", "set", "API_TOKEN"], stdin=PLANTED + "\n")
    assert stored.returncode == 0, stored.stderr
    assert session.run(["connections", "list"]).returncode == 0
    assert session.run(["validate", "ok.flow.yaml"]).returncode == 0
    assert session.run(["preview", "ok.flow.yaml", "items", "--rows", "3"]).returncode == 0
    ok = session.run(["run", "ok.flow.yaml", "--json"])
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["steps"]["send"]["rows"] == 23
    assert session.run(["run", "ok.flow.yaml", "-v", "--no-progress"]).returncode == 0
    expected = {"fail_echo": 2, "fail_running": 1, "fail_basic": 2, "fail_userinfo": 2, "fail_post": 1}
    for name, code in expected.items():
        for flags in (
            (["--json"], ["-v", "--no-progress"]) if name in ("fail_echo", "fail_running") else (["-v"],)
        ):
            failed = session.run(["run", f"{name}.flow.yaml", *flags])
            assert failed.returncode == code, (name, failed.stdout, failed.stderr)
            assert "HTTP 500" in failed.stdout + failed.stderr
            assert "***" in failed.stdout + failed.stderr or name in ("fail_running", "fail_post")
    python = session.python(PYTHON)
    assert python.returncode == 0, python.stderr
    listed = session.run(["runs", "list", "--json", "--limit", "100"])
    runs = json.loads(listed.stdout)
    assert {r["status"] for r in runs} == {"succeeded", "failed"} and len(runs) == 12
    # `runs list --json` printed every record; show one run of each flow and outcome in full.
    for run in {(r["flow"], r["status"]): r for r in runs}.values():
        assert session.run(["runs", "show", run["run_id"], "--json"]).returncode == 0
    assert session.run(["runs", "show", runs[0]["run_id"]]).returncode == 0

    # The runs did what they should, so there was something to leak.
    everything = "\n".join(text for _, text in session.printed)
    assert "DEBUG urllib3.connectionpool" in everything and "api_key=" in everything  # DEBUG logs were on
    assert "Authorization: Bearer ***" in everything and "answered HTTP 500" in everything
    assert (project / "out" / "items.csv").is_file() and (project / "out" / "userinfo.xlsx").is_file()
    assert (home / "aqtra.db").is_file()
    assert len(api.posted) >= 2 * 4  # the POSTed batches (4 per run of `ok`)
    assert leaks(json.dumps(api.post_headers)) == ["raw"]  # the secret was sent, so the search can find it

    for label, text in session.printed:
        assert not leaks(text), f"`{label}` printed the secret ({leaks(text)}):\n{text[-3000:]}"
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"pickled.bin", "ok.flow.yaml", "aqtra.yaml", "aqtra.db", "copy-of-aqtra.db-wal"} <= names
    for path in files:
        assert not leaks(path.read_bytes()), f"{path} holds the secret ({leaks(path.read_bytes())})"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "http", "--base-url", f"http://user:{PLANTED}@example.com"], "password in clear"),
        (
            ["--kind", "http", "--base-url", "http://x", "--header", f"Authorization=Bearer {PLANTED}"],
            "in clear",
        ),
        (["--kind", "http", "--base-url", "http://x", "--header", f"X-Api-Key={PLANTED}"], "in clear"),
        (["--kind", "sql", "--url", f"postgresql://u:{quote(PLANTED, safe='')}@h/d"], "password in clear"),
        (["--kind", "files", "--url", f"sftp://u:{quote(PLANTED, safe='')}@h/dir"], "password in clear"),
    ],
)
def test_a_connection_with_a_credential_in_clear_is_refused_without_echoing_it(tmp_path, args, message):
    session = Session(tmp_path / "home", tmp_path)
    refused = session.run(["connections", "add", "bad", *args])
    assert refused.returncode == 2 and message in refused.stderr, refused.stderr
    assert not leaks(refused.stdout + refused.stderr)
    assert "bad" not in session.run(["connections", "list"]).stdout


@pytest.mark.parametrize(
    "spec",
    [
        f"{{kind: http, base_url: 'http://127.0.0.1:1', auth: {{username: u, password: '{PLANTED}'}}}}",
        f"{{kind: http, base_url: 'http://127.0.0.1:1', auth: {{token: '{PLANTED}'}}}}",
        f"{{kind: http, base_url: 'http://127.0.0.1:1', headers: {{Authorization: 'Bearer {PLANTED}'}}}}",
        f"{{kind: files, url: 's3://bucket/x', options: {{secret: '{PLANTED}'}}}}",
        f"{{kind: sql, url: 'sqlite:///x.db', options: {{password: '{PLANTED}'}}}}",
    ],
    ids=["basic-password", "token", "header", "files-option", "sql-option"],
)
def test_aqtra_yaml_with_a_credential_in_clear_is_refused_without_echoing_it(tmp_path, spec):
    (tmp_path / "aqtra.yaml").write_text(f"connections:\n  bad: {spec}\n")
    component = "import_file" if "files" in spec else "read_sql" if "sql" in spec else "http_get"
    extra = ", path: a.csv" if component == "import_file" else ", table: t" if component == "read_sql" else ""
    (tmp_path / "f.flow.yaml").write_text(
        f"flow: f\nsteps:\n- {{id: src, component: {component}, with: {{connection: bad{extra}}}}}\n"
    )
    session = Session(tmp_path / "home", tmp_path)
    refused = session.run(["run", "f.flow.yaml", "--json"])
    assert refused.returncode == 2 and "in clear" in refused.stdout, refused.stdout + refused.stderr
    assert "field 'connections.bad" in refused.stdout
    assert not leaks(refused.stdout + refused.stderr)


def test_a_step_with_a_credential_in_clear_is_refused_without_echoing_it(tmp_path):
    (tmp_path / "f.flow.yaml").write_text(
        "flow: f\nsteps:\n"
        f"- {{id: src, component: http_get, with: {{url: 'http://127.0.0.1:1', headers: {{Authorization: 'Bearer {PLANTED}'}}}}}}\n"
    )
    session = Session(tmp_path / "home", tmp_path)
    refused = session.run(["validate", "f.flow.yaml"])
    assert refused.returncode == 2 and "credential in clear" in refused.stderr
    assert not leaks(refused.stdout + refused.stderr)


def test_references_in_a_url_password_are_percent_encoded_and_clear_passwords_found(monkeypatch):
    from aqtra_nb.connections import check_url_userinfo
    from aqtra_nb.secrets import resolve_url

    monkeypatch.setenv("HYGIENE_PW", "a/b@c:d")
    monkeypatch.setenv("HYGIENE_HOST", "db.example")
    url = resolve_url("postgresql://u:${env:HYGIENE_PW}@${env:HYGIENE_HOST}/x?p=${env:HYGIENE_PW}", None)
    assert url == "postgresql://u:a%2Fb%40c%3Ad@db.example/x?p=a/b@c:d"
    for fine in ["https://host/users/@me", "https://host:8080/x@y", "http://u:${secret:A}@h", "/a/folder"]:
        check_url_userinfo(fine)
    for clear in [
        f"http://user:{PLANTED}@h",
        "sftp://u:p%2Fq@h/dir",
        "http://u:x${secret:A}@h",
        "http://u:pw@h?x",
    ]:
        with pytest.raises(ValueError, match="password in clear") as info:
            check_url_userinfo(clear)
        assert not leaks(str(info.value))


# A secret that JSON, URL encoding and latin-1 Basic auth all write differently from its raw form.
ESCAPED = 'Esc"ape\\d-\u00e9-s3cr3tCORE+/='
ESCAPED_CORE = "s3cr3tCORE"  # in every text form of it (raw, URL-encoded, JSON-escaped)
ESCAPED_BASIC = [
    base64.b64encode(f"user:{ESCAPED}".encode(encoding)).decode() for encoding in ("utf-8", "latin-1")
]


def escaped_leaks(text: str | bytes) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    found = [ESCAPED_CORE] if ESCAPED_CORE.encode() in data else []
    return found + [form for form in ESCAPED_BASIC if form.encode() in data]


def write_echo_project(project: Path, api: ApiServer) -> None:
    (project / "aqtra.yaml").write_text(
        "connections:\n"
        f"  api: {{kind: http, base_url: '{api.url}', headers: {{Authorization: 'Bearer ${{secret:TOKEN}}'}}}}\n"
        f"  basic: {{kind: http, base_url: '{api.url}', auth: {{username: user, password: '${{secret:TOKEN}}'}}}}\n"
    )
    # `columns` are declared: the request is made while running, so the step's record holds the error.
    step = "{{id: items, component: http_get, with: {{connection: {}, path: /echo-fail, query: {}, retries: 0, columns: {{id: integer}}}}}}"
    flows = {
        "ascii": step.format("api", "{api_key: '${secret:TOKEN}'}"),
        "unicode": step.format("api", "{api_key: '${secret:TOKEN}', unicode: '1'}"),
        "basic": step.format("basic", "{unicode: '1'}"),
    }
    for name, steps in flows.items():
        (project / f"{name}.flow.yaml").write_text(f"flow: echo_{name}\nsteps:\n- {steps}\n")


@pytest.mark.slow  # 12 CLI processes and a job run
def test_a_secret_echoed_json_escaped_or_as_basic_auth_is_masked_everywhere(tmp_path):
    """A server that echoes the request's credentials in a JSON error body: the secret's JSON-escaped
    forms (with and without ensure_ascii) and its latin-1 Basic form reach no output, record or log."""
    home, project = tmp_path / "home", tmp_path / "project"
    project.mkdir()
    session = Session(home, project)
    with ApiServer(token=ESCAPED) as api:
        write_echo_project(project, api)
        assert session.run(["secrets", "set", "TOKEN"], stdin=ESCAPED + "\n").returncode == 0
        for name in ("ascii", "unicode", "basic"):
            failed = session.run(["run", f"{name}.flow.yaml", "-v", "--no-progress"])
            assert failed.returncode == 1 and "HTTP 500" in failed.stderr, failed.stderr
        assert session.run(["jobs", "add", "unicode.flow.yaml", "--name", "echo"]).returncode == 0
        job = session.run(["jobs", "run", "echo", "--wait"])
        assert job.returncode == 1 and "HTTP 500" in job.stdout, job.stdout + job.stderr
    runs = json.loads(session.run(["runs", "list", "--json"]).stdout)
    assert len(runs) == 4 and {r["status"] for r in runs} == {"failed"}
    for run in runs:
        shown = session.run(["runs", "show", run["run_id"], "--json"])
        assert json.loads(shown.stdout)["steps"]["items"]["error"], shown.stdout
        session.run(["runs", "show", run["run_id"]])
    log = session.run(["runs", "log", runs[0]["run_id"]])
    assert "HTTP 500" in log.stdout and "***" in log.stdout, log.stdout
    # The server got (and echoed) the secret: in the query, a Bearer header and Basic auth (latin-1).
    assert [path for path, _ in api.queries].count("/echo-fail") == 4
    assert [q["api_key"] for path, q in api.queries if "api_key" in q][0] == [ESCAPED]
    assert requests.auth._basic_auth_str("user", ESCAPED) == "Basic " + ESCAPED_BASIC[1]

    for label, text in session.printed:
        assert not escaped_leaks(text), f"`{label}` printed the secret:\n{text[-3000:]}"
    everything = "\n".join(text for _, text in session.printed)
    for masked in ('"authorization": "Bearer ***"', '"authorization": "Basic ***"', '"api_key": ["***"]'):
        assert masked in everything  # the echo is shown, with the secret masked
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {"aqtra.db", "run.log"} <= {p.name for p in files}
    for path in files:
        assert not escaped_leaks(path.read_bytes()), f"{path} holds the secret"


def test_every_encoding_of_a_secret_is_redacted():
    from aqtra_nb.secrets import redact, reveal, reveal_basic_auth

    reveal(ESCAPED)
    reveal_basic_auth("user", ESCAPED)
    forms = [
        ESCAPED,
        quote(ESCAPED, safe=""),
        quote(ESCAPED),
        quote_plus(ESCAPED),
        json.dumps(ESCAPED)[1:-1],
        json.dumps(ESCAPED, ensure_ascii=False)[1:-1],
        json.dumps(ESCAPED)[1:-1].replace("\\u00e9", "\\u00E9"),
        json.dumps(ESCAPED)[1:-1].replace("/", "\\/"),
        repr(ESCAPED)[1:-1],
        *ESCAPED_BASIC,
    ]
    for form in forms:
        assert redact(f"echo: {form}!") == "echo: ***!", form
    body = json.dumps({"got": f"Bearer {ESCAPED}", "query": {"key": [ESCAPED]}}, ensure_ascii=False)
    assert ESCAPED_CORE not in redact(body) and redact(body).count("***") == 2


@pytest.mark.slow  # a job run by the scheduler, a workflow
def test_a_secret_in_a_webhook_path_is_scrubbed_from_third_party_debug_logs(tmp_path):
    """urllib3 logs each request line at DEBUG: a job's and a workflow's webhook whose path holds a
    secret are posted from processes that never loaded the HTTP connectors (whose loggers were scrubbed)."""
    home, project = tmp_path / "home", tmp_path / "project"
    project.mkdir()
    session = Session(home, project)  # AQTRA_LOG_LEVEL=DEBUG
    (project / "ok.flow.yaml").write_text(
        "flow: ok\nsteps:\n- {id: rows, component: sample_data, with: {table: regions}}\n"
    )
    assert session.run(["secrets", "set", "HOOK"], stdin=PLANTED + "\n").returncode == 0
    with ApiServer() as api:
        hook = f"{api.url}/sink/${{secret:HOOK}}"
        (project / "hook.workflow.yaml").write_text(
            f"workflow: hook\nsteps:\n- {{id: tell, kind: notify, webhook: '{hook}', subject: s}}\n"
            "- {id: done, kind: finish}\n"
        )
        added = session.run(
            [
                "jobs",
                "add",
                "ok.flow.yaml",
                "--name",
                "hooked",
                "--notify-webhook",
                hook,
                "--notify-on",
                "success",
            ]
        )
        assert added.returncode == 0, added.stderr
        assert session.run(["jobs", "run", "hooked"]).returncode == 0
        assert session.run(["scheduler", "--once"]).returncode == 0  # runs it, then notifies
        started = session.run(["workflows", "start", "hook.workflow.yaml"])
        assert started.returncode == 0, started.stdout + started.stderr
    assert len(api.posted) == 2  # both webhooks were posted, to the secret path
    everything = "\n".join(text for _, text in session.printed)
    assert everything.count("urllib3.connectionpool: http://127.0.0.1") >= 2, everything  # DEBUG was on
    assert everything.count('"POST /sink/*** HTTP/1.1" 200') == 2, everything
    for label, text in session.printed:
        assert not leaks(text), f"`{label}` printed the secret ({leaks(text)}):\n{text[-3000:]}"


def test_every_logger_is_scrubbed_through_handlers_made_after_a_secret(caplog):
    """Third-party loggers (urllib3, requests, sqlalchemy, ...) and handlers added later: every record
    is scrubbed, its message, arguments and traceback."""
    import logging

    from aqtra_nb.secrets import reveal

    reveal(PLANTED)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    try:
        with caplog.at_level(logging.DEBUG):
            for name in ("urllib3.connectionpool", "requests.sessions", "sqlalchemy.engine", "some.library"):
                logging.getLogger(name).warning('%s "POST /hook/%s HTTP/1.1" 200', "http://h", PLANTED)
            try:
                raise ValueError(f"bad hook /hook/{quote(PLANTED, safe='')}")
            except ValueError:
                logging.getLogger("tornado.application").exception("failed")
    finally:
        logging.getLogger().removeHandler(handler)
    printed = stream.getvalue()
    assert printed.count('"POST /hook/*** HTTP/1.1" 200') == 4 and "bad hook /hook/***" in printed, printed
    assert not leaks(printed) and not leaks(caplog.text), printed
