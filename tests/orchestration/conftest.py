"""The alert tests' receivers: a webhook and an SMTP server on 127.0.0.1, and the ALERT_* environment
pointing at both (tests/helpers/alerts.py has the servers)."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from tests.helpers.alerts import Mailbox, Webhook
from tests.helpers.network import free_port


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def mailbox():
    box = Mailbox()
    # AUTH over plain text on 127.0.0.1 only: the test server offers no STARTTLS
    controller = Controller(
        box, hostname="127.0.0.1", port=free_port(), authenticator=box.authenticate, auth_require_tls=False
    )
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture
def alert_env(monkeypatch, webhook, mailbox):
    monkeypatch.setenv("ALERT_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ALERT_SMTP_PORT", str(mailbox.port))
    monkeypatch.setenv("ALERT_SMTP_FROM", "lakehouse@plant.example")
    monkeypatch.setenv("ALERT_EMAIL_TO", "shift-lead@plant.example, maintenance@plant.example")
    monkeypatch.setenv("ALERT_SMTP_USER", "lakehouse")
    monkeypatch.setenv("ALERT_SMTP_PASSWORD", "s3cret")
    monkeypatch.delenv("DAGSTER_UI_URL", raising=False)
