"""Behind a reverse proxy (``USM_TRUSTED_PROXIES``): the throttle and the audit log key by the
client's address as the proxy reports it; without the setting, a client's own X-Forwarded-For is
ignored, so forging it dodges nothing. The deployment settings refuse values they do not know."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.support.web import login
from usm.app import create_app
from usm.config import Settings, allow_act_as, trusted_proxies
from usm.services import audit_log
from usm.services.accounts import FAILURE_LIMIT
from usm.services.audit_log import AuditQuery


@pytest.fixture
def proxied_app(sqlite_url: str) -> Iterator[Flask]:
    app = create_app(Settings(database_url=sqlite_url, secret_key="test", testing=True,
                              trusted_proxies=1))
    yield app
    app.extensions["usm_db"].dispose()


def _from(app: Flask, forwarded: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    # Over HTTPS, Flask-WTF also wants a same-site Referer with each form (browsers send it).
    client.environ_base.update({"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": forwarded,
                                "HTTP_X_FORWARDED_PROTO": "https",
                                "HTTP_REFERER": "https://localhost/login"})
    return client


def test_behind_a_proxy_the_real_client_address_counts(proxied_app: Flask) -> None:
    attacker = _from(proxied_app, "198.51.100.7")
    for _ in range(FAILURE_LIMIT):
        login(attacker, "carol", "wrong password")
    assert login(attacker, "carol").status_code == 429
    colleague = _from(proxied_app, "203.0.113.5")  # the same proxy, another client
    response = login(colleague, "carol")
    assert response.status_code == 302, "the proxy's own address is not what is throttled"
    assert "Strict-Transport-Security" in colleague.get("/").headers, "HTTPS, says the proxy"

    db = proxied_app.extensions["usm_db"]
    addresses = {r.address for r in audit_log.audit_entries(db, AuditQuery(actor="carol")).rows}
    assert addresses == {"198.51.100.7", "203.0.113.5"}


def test_without_a_proxy_a_forged_header_changes_nothing(web_app: Flask) -> None:
    for n in range(FAILURE_LIMIT):
        login(_from(web_app, f"192.0.2.{n}"), "carol", "wrong password")
    assert login(_from(web_app, "192.0.2.200"), "carol").status_code == 429


def test_the_deployment_settings_refuse_what_they_do_not_know(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("USM_ALLOW_ACT_AS", raising=False)
    monkeypatch.delenv("USM_TRUSTED_PROXIES", raising=False)
    assert allow_act_as() is False and trusted_proxies() == 0
    monkeypatch.setenv("USM_ALLOW_ACT_AS", "1")
    monkeypatch.setenv("USM_TRUSTED_PROXIES", "2")
    assert allow_act_as() is True and trusted_proxies() == 2
    monkeypatch.setenv("USM_ALLOW_ACT_AS", "maybe")
    with pytest.raises(ValueError, match="USM_ALLOW_ACT_AS must be 1 or 0, not 'maybe'"):
        allow_act_as()
    monkeypatch.setenv("USM_TRUSTED_PROXIES", "all")
    with pytest.raises(ValueError, match="USM_TRUSTED_PROXIES must be a number"):
        trusted_proxies()
