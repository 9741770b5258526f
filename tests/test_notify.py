"""Notifications: email through a real local SMTP server, webhooks to a real local HTTP server."""

from __future__ import annotations

import pytest
from http_server import ApiServer
from smtp_server import SmtpServer, free_port

from aqtra_nb.notify import Notify, NotifyError, send
from aqtra_nb.runs import default_store
from aqtra_nb.secrets import SecretStore


def test_email_reaches_the_smtp_server_with_a_referenced_password(monkeypatch):
    SecretStore(default_store()).set("SMTP_PW", "s3cret-smtp-pw")
    with SmtpServer(password="s3cret-smtp-pw") as smtp:
        url = f"smtp://bot:${{secret:SMTP_PW}}@127.0.0.1:{smtp.port}?from=reports@example.com"
        monkeypatch.setenv("AQTRA_SMTP_URL", url)
        notify = Notify(email=["ann@example.com", "bob@example.com"])
        send(notify, subject="Run failed", body="step x broke", payload={"run": "r1"})
    assert len(smtp.messages) == 1
    sender, recipients, message = smtp.messages[0]
    assert sender == "reports@example.com"
    assert recipients == ["ann@example.com", "bob@example.com"]
    assert message["Subject"] == "Run failed" and "step x broke" in message.get_payload()


def test_wrong_password_and_dead_server_name_the_target_not_the_secret(monkeypatch):
    SecretStore(default_store()).set("SMTP_BAD", "wrong-pw-4711")
    with SmtpServer(password="right") as smtp:
        monkeypatch.setenv("AQTRA_SMTP_URL", f"smtp://bot:${{secret:SMTP_BAD}}@127.0.0.1:{smtp.port}")
        with pytest.raises(NotifyError) as info:
            send(Notify(email="ann@example.com"), subject="s", body="b", payload={})
    text = str(info.value)
    assert f"email to ann@example.com via smtp://127.0.0.1:{smtp.port} failed" in text
    assert "refused the login" in text and "wrong-pw-4711" not in text
    monkeypatch.setenv("AQTRA_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(NotifyError, match="connection refused"):
        send(Notify(email="ann@example.com"), subject="s", body="b", payload={})


def test_smtp_from_a_named_connection(tmp_path, monkeypatch):
    monkeypatch.delenv("AQTRA_SMTP_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    with SmtpServer() as smtp:
        (tmp_path / "aqtra.yaml").write_text(
            "connections:\n  mail:\n    kind: smtp\n"
            f"    url: smtp://127.0.0.1:{smtp.port}\n    options: {{from: ops@example.com}}\n"
        )
        send(Notify(email=["x@example.com"], smtp="mail"), subject="hi", body="b", payload={})
        with pytest.raises(
            NotifyError, match="email to x@example.com: unknown connection .mial.. Did you mean .mail."
        ):
            send(Notify(email=["x@example.com"], smtp="mial"), subject="hi", body="b", payload={})
    assert smtp.messages[0][0] == "ops@example.com"


def test_without_an_smtp_server_email_is_kept_in_the_outbox(tmp_path, monkeypatch, capsys):
    """No $AQTRA_SMTP_URL and no `smtp` connection: messages become .eml files under HOME/outbox, which
    `aqtra-nb outbox` lists and shows."""
    from email import message_from_bytes

    from aqtra_nb.cli import main

    monkeypatch.delenv("AQTRA_SMTP_URL", raising=False)
    monkeypatch.setenv("AQTRA_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    where = send(Notify(email=["ann@example.com"]), subject="Run failed", body="step x broke", payload={})
    (path,) = (tmp_path / "home" / "outbox").glob("*.eml")
    assert where == [str(path)] and path.stat().st_mode & 0o077 == 0
    message = message_from_bytes(path.read_bytes())
    assert message["To"] == "ann@example.com" and message["Subject"] == "Run failed"
    assert main(["outbox"]) == 0
    listed = capsys.readouterr().out
    message_id = path.stem.rsplit("-", 1)[1]
    assert message_id in listed and "ann@example.com" in listed and "Run failed" in listed
    assert main(["outbox", "show", message_id]) == 0
    shown = capsys.readouterr().out
    assert "Subject: Run failed" in shown and "step x broke" in shown
    assert main(["outbox", "show", "nope"]) == 2
    assert "no message 'nope' in the outbox" in capsys.readouterr().err
    assert main(["outbox", "clear"]) == 0
    assert "removed 1 message" in capsys.readouterr().out
    assert not list((tmp_path / "home" / "outbox").glob("*.eml"))


def test_webhook_posts_json_with_a_secret_header(monkeypatch):
    SecretStore(default_store()).set("HOOK_TOKEN", "t0ken")
    with ApiServer() as api:
        notify = Notify(
            webhook=api.url + "/sink/hook", headers={"Authorization": "Bearer ${secret:HOOK_TOKEN}"}
        )
        send(notify, subject="done", body="all good", payload={"status": "succeeded", "n": 3})
        assert api.posted == [{"subject": "done", "body": "all good", "status": "succeeded", "n": 3}]
        assert api.post_headers[0]["Authorization"] == "Bearer t0ken"
        failing = Notify(webhook=api.url + "/fail", headers={"Authorization": "Bearer ${secret:HOOK_TOKEN}"})
        with pytest.raises(NotifyError) as info:
            send(failing, subject="s", body="b", payload={})
    assert f"webhook {api.url}/fail answered 500" in str(info.value)
    assert "t0ken" not in str(info.value) and "***" in str(info.value)


def test_both_targets_tried_and_each_failure_named(monkeypatch):
    monkeypatch.setenv("AQTRA_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    with ApiServer() as api:
        with pytest.raises(NotifyError) as info:
            send(
                Notify(email="a@example.com", webhook=api.url + "/sink-fail"),
                subject="s",
                body="b",
                payload={},
            )
    assert "email to a@example.com" in str(info.value) and "webhook" in str(info.value)


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"email": ["not-an-address"]}, "is not an email address"),
        ({"webhook": "ftp://x"}, "must be an http"),
        ({"webhook": "https://u:pw@host/x"}, "password in clear"),
        ({"webhook": "https://h/x", "headers": {"Authorization": "Bearer abc"}}, "credential in clear"),
        ({"on": ["sometimes"]}, "failure"),
        ({"emails": ["a@b.c"]}, "Extra inputs"),
    ],
)
def test_bad_settings_are_refused(settings, match):
    with pytest.raises(ValueError, match=match):
        Notify.model_validate(settings)


def test_an_smtp_connection_refuses_a_password_in_clear_and_masks_one_from_the_environment(monkeypatch):
    from aqtra_nb.connections import ConnectionSpec

    with pytest.raises(ValueError, match="password in clear"):
        ConnectionSpec(kind="smtp", url="smtp://bot:hunter22@mail.example.com:587")
    ConnectionSpec(kind="smtp", url="smtp://bot:${secret:SMTP_PW}@mail.example.com:587")
    with SmtpServer(password="right") as smtp:  # the environment may hold it in clear; it is still masked
        monkeypatch.setenv("AQTRA_SMTP_URL", f"smtp://bot:env-pw-9981@127.0.0.1:{smtp.port}")
        with pytest.raises(NotifyError) as info:
            send(Notify(email="a@example.com"), subject="s", body="b", payload={})
    assert "refused the login" in str(info.value) and "env-pw-9981" not in str(info.value)
