"""Role x route: every web page answers each role as the access table says.

The routes come from the app itself, so a new route without an entry here fails the test: whoever
adds a screen decides who may open it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.attachments.files import sample_files
from tests.support.web import login
from usm.services.audit import save_options, start_scan, store_upload
from usm.services.platform import Database, load_demo

COORDINATOR, OWNER, DESIGNER, ADMIN = "carol", "sam", "pat", "ada"
EVERYONE = {COORDINATOR, OWNER, DESIGNER, ADMIN}
REGISTER = {COORDINATOR, OWNER, DESIGNER}
CHANGES = {COORDINATOR, OWNER}
REPORTS = {COORDINATOR, OWNER}

# endpoint -> users allowed to GET it (None: public). Sample values fill the URL variables.
ACCESS: dict[str, set[str] | None] = {
    "accounts.login": None,
    "accounts.oidc_login": None, "accounts.oidc_callback": None,  # single sign-on: sign-in page
    "static": None,
    "home.index": EVERYONE,
    "accounts.tokens": EVERYONE,
    "accounts.password": EVERYONE,
    "home.favicon": None,
    "search.results": EVERYONE,
    "register.item": REGISTER,
    "register.search": REGISTER,
    "register.services": REGISTER,
    "register.service": REGISTER,
    "changes.queue": CHANGES,
    "changes.detail": CHANGES,
    "changes.new": {COORDINATOR},
    "changes.new_for_model": {COORDINATOR},
    "changes.calendar": CHANGES,
    "change_models.definitions": {DESIGNER},
    "change_models.definition": {DESIGNER},
    "change_models.definition_svg": {DESIGNER},
    "change_models.edit": {DESIGNER}, "change_models.diff": {DESIGNER},
    "change_models.download": {DESIGNER}, "change_models.import_form": {DESIGNER},
    "change_models.dry_run": {DESIGNER},
    "item_classes.classes": {DESIGNER}, "item_classes.class_page": {DESIGNER},
    "item_classes.edit": {DESIGNER}, "item_classes.diff": {DESIGNER},
    "item_classes.download": {DESIGNER}, "item_classes.import_form": {DESIGNER},
    "reports.index": REPORTS,
    "reports.finance_page": REPORTS, "reports.finance_export": REPORTS, "reports.item_schedule": REPORTS, "reports.item_schedule_export": REPORTS,  # noqa: E501
    "reports.licences": REPORTS, "reports.licence_product": REPORTS, "reports.licence_export": REPORTS,
    "reports.lifecycle": REPORTS, "reports.lifecycle_export": REPORTS, "reports.spares": REPORTS, "reports.spares_export": REPORTS,  # noqa: E501
    "accounts.users": {ADMIN},
    "audit.upload_form": {COORDINATOR}, "audit.reconciliation": {COORDINATOR},
    "audit.mapping_file": {COORDINATOR},
    "audit.scan_start": {COORDINATOR}, "audit.scan_page": {COORDINATOR},
    "labels.form": REGISTER, "labels.pdf": REGISTER,
    "attachments.item_download": REGISTER, "attachments.change_download": CHANGES,
    "checkouts.overview": CHANGES, "checkouts.new": {COORDINATOR},
    "checkouts.checkin_form": {COORDINATOR},
    "register.items_export": REGISTER, "register.history_export": REGISTER, "changes.export": CHANGES,
    "accounts.new_user": {ADMIN},
    "accounts.user": {ADMIN},
    "audit_log.entries": {ADMIN}, "audit_log.export": {ADMIN},
    "reference.index": {ADMIN}, "reference.values": {ADMIN}, "reference.value": {ADMIN},
    "reference.lookup": EVERYONE,
}
SAMPLES = {
    "key": "LAP-000003", "code": "normal-change", "version": "1", "username": "carol",
    "model": "normal-change", "filename": "usm.css",
}
SAMPLE_BY_ENDPOINT = {
    "changes.detail": {"key": "CHG-000001"},
    **{f"item_classes.{page}": {"code": "hardware.laptop"}
       for page in ("class_page", "edit", "diff", "download")},
    "register.service": {"key": "SVC-000001"},
    "reports.finance_export": {"table": "book-by-class", "fmt": "csv"}, "reports.item_schedule_export": {"fmt": "xlsx"},  # noqa: E501
    "reports.licence_product": {"product": "Adobe Acrobat Pro"},
    "register.items_export": {"fmt": "xlsx"}, "register.history_export": {"fmt": "csv"},
    "changes.export": {"fmt": "csv"}, "audit_log.export": {"fmt": "xlsx"},
    "reference.values": {"kind": "cost_centre"},
    "reference.value": {"kind": "cost_centre", "code": "CC-100"},
}


@pytest.fixture(scope="module")
def matrix_app(tmp_path_factory: pytest.TempPathFactory, templates):  # type: ignore[no-untyped-def]
    yield from demo_app_with_import(tmp_path_factory, templates, "matrix")


def demo_app_with_import(tmp_path_factory: pytest.TempPathFactory, templates: Any,
                         name: str) -> Iterator[Flask]:
    """The app on a copy of the migrated template with the demo loaded and an import stored,
    so that every route has something to show (for module-scoped fixtures)."""
    import shutil

    from tests.support.web import make_app

    path = tmp_path_factory.mktemp(name) / "usm.db"
    shutil.copyfile(templates.sqlite(), path)
    app = make_app(f"sqlite:///{path}")
    db: Database = app.extensions["usm_db"]
    load_demo(db)
    with stored_import(path.parent, db):
        yield app
    db.dispose()


@contextmanager
def stored_import(folder: Path, db: Database) -> Iterator[None]:
    """An import upload and a scan in an instance folder under ``folder``, named in the samples:
    the reconciliation and scan pages' URLs need one (the folder stays set while the app is
    used)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("USM_INSTANCE_PATH", str(folder / "instance"))
        token = store_upload(io.BytesIO(b"class,name\nhardware.laptop,Found\n"), "carol")
        save_options(token, {"format": "csv", "match": "serial_number", "name": "found.csv"})
        env.setitem(SAMPLE_BY_ENDPOINT, "audit.reconciliation", {"token": token})
        env.setitem(SAMPLE_BY_ENDPOINT, "audit.mapping_file", {"token": token})
        scan = start_scan(db, "carol", "IT store room, floor 0")
        env.setitem(SAMPLE_BY_ENDPOINT, "audit.scan_page", {"token": scan})
        item_file, change_file = sample_files(db)
        env.setitem(SAMPLE_BY_ENDPOINT, "attachments.item_download", item_file)
        env.setitem(SAMPLE_BY_ENDPOINT, "attachments.change_download", change_file)
        yield


def _get_rules(app: Flask) -> list[tuple[str, str]]:
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint.startswith("api"):
            continue
        values = {**SAMPLES, **SAMPLE_BY_ENDPOINT.get(rule.endpoint, {})}
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m, values=values: str(values[m.group(1)]), rule.rule)
        rules.append((rule.endpoint, path))
    return sorted(rules)


def test_every_route_is_in_the_access_table(matrix_app: Flask) -> None:
    missing = [endpoint for endpoint, _ in _get_rules(matrix_app) if endpoint not in ACCESS
               and not endpoint.startswith("test_only")]
    assert missing == [], "add these routes to ACCESS with the roles that may open them"


@pytest.mark.parametrize("user", [None, COORDINATOR, OWNER, DESIGNER, ADMIN])
def test_role_route_matrix(matrix_app: Flask, user: str | None) -> None:
    client = matrix_app.test_client()
    if user:
        assert login(client, user).status_code == 302
    wrong = []
    for endpoint, path in _get_rules(matrix_app):
        allowed = ACCESS.get(endpoint, set())
        response = client.get(path)
        status = response.status_code
        response.close()
        if allowed is None:
            ok = status in (200, 302)
        elif user is None:
            ok = status == 302
        elif user in allowed:
            ok = status == 200
        else:
            ok = status == 403
        if not ok:
            wrong.append(f"{user or 'anonymous'} GET {path} ({endpoint}) -> {status}")
    assert wrong == []
