"""The shared web test fixtures sign users in with the roles the screens expect."""

from __future__ import annotations

from tests.support.web import login


def test_each_role_sees_its_own_navigation(web_client) -> None:  # type: ignore[no-untyped-def]
    login(web_client, "carol")
    html = web_client.get("/").get_data(as_text=True)
    assert "Change queue" in html and "Users" not in html
