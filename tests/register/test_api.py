"""The REST API: who may call what, the one error shape, the register reads, the document and docs.

The role matrix takes its operations from the API's own OpenAPI document, so an operation added
without an entry here fails the test: whoever adds an endpoint decides who may call it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.attachments.files import sample_files
from tests.support.api import API, ApiClient, error_of
from tests.support.helpers import at, implement_normal_change, laptop
from tests.support.web import make_app
from usm.services.platform import Database, load_demo

COORDINATOR, OWNER, DESIGNER, ADMIN = "carol", "sam", "pat", "ada"
EVERYONE = {COORDINATOR, OWNER, DESIGNER, ADMIN}
REGISTER = {COORDINATOR, OWNER, DESIGNER}
CHANGES = {COORDINATOR, OWNER}

# operationId -> users allowed (the web's role groups, web/access.py).
ACCESS: dict[str, set[str]] = {
    "listItems": REGISTER, "getItem": REGISTER, "getItemHistory": REGISTER,
    "getItemRelations": REGISTER, "listItemClasses": REGISTER, "getItemClass": REGISTER,
    "listServices": REGISTER, "getService": REGISTER,
    "listChanges": CHANGES, "getChange": CHANGES, "getChangeLog": CHANGES,
    "moveChange": CHANGES, "approveChange": CHANGES, "commentChange": CHANGES,
    "createChange": {COORDINATOR}, "editChange": {COORDINATOR},
    "listDefinitions": {DESIGNER, COORDINATOR}, "getDefinition": {DESIGNER, COORDINATOR},
    "createDefinitionDraft": {DESIGNER}, "updateDefinitionDraft": {DESIGNER},
    "publishDefinition": {DESIGNER}, "retireDefinition": {DESIGNER},
    "listItemClassVersions": {DESIGNER}, "getItemClassVersion": {DESIGNER},
    "exportItemClassVersion": {DESIGNER}, "createItemClassDraft": {DESIGNER},
    "updateItemClassDraft": {DESIGNER}, "publishItemClass": {DESIGNER},
    "retireItemClass": {DESIGNER},
    "getMe": EVERYONE, "listTokens": EVERYONE, "createToken": EVERYONE, "revokeToken": EVERYONE,
    "search": EVERYONE,  # each caller gets the groups their roles open
    # the report readers: service owners and coordinators
    "getBookValues": CHANGES, "getDepreciationSchedule": CHANGES, "getServiceCosts": CHANGES,
    "getCostCentreCosts": CHANGES, "getDisposals": CHANGES,
    "getLicencePosition": CHANGES, "getLicenceProduct": CHANGES,
    "getLifecycleReport": CHANGES, "getSparesReport": CHANGES,
    # downloads as on the web; imports (reconcile, accept) for coordinators only
    "exportItems": REGISTER, "exportItemHistory": REGISTER, "exportChanges": CHANGES,
    "createImport": {COORDINATOR}, "acceptImport": {COORDINATOR},
    "listImportDifferences": {COORDINATOR},
    "listAuditLog": {ADMIN}, "exportAuditLog": {ADMIN},  # the audit log: administrators only
    "printLabels": REGISTER,  # labels of items the caller may read
    # attachments: readers download, coordinators attach and remove (each a change); files
    # kept with a change are for its participants
    "listItemAttachments": REGISTER, "getItemAttachmentContent": REGISTER,
    "attachToItem": {COORDINATOR}, "detachFromItem": {COORDINATOR},
    "listChangeFiles": CHANGES, "addChangeFile": CHANGES, "getChangeFileContent": CHANGES,
    "createBulkChange": {COORDINATOR},  # one change for a selection: coordinators, as on the web
    # check-out and check-in are changes (coordinators); participants see them and book items
    "checkOut": {COORDINATOR}, "checkIn": {COORDINATOR}, "listCheckouts": CHANGES,
    "listReservations": CHANGES, "createReservation": CHANGES, "cancelReservation": CHANGES,
    # failures recorded from incidents: coordinators (an incident tool has a coordinator's
    # token) record them, whoever reads the register reads them
    "recordFailure": {COORDINATOR}, "listItemFailures": REGISTER, "listFailures": REGISTER,
    # reference data: any caller reads (the pickers), administrators keep it
    "listReferenceValues": EVERYONE, "addReferenceValue": {ADMIN},
    "editReferenceValue": {ADMIN}, "mergeReferenceValue": {ADMIN},
}
SAMPLES = {"key": "LAP-000003", "code": "hardware.laptop", "trigger": "assess",
           "token_id": "999999", "version": "999", "file_id": "999999",
           "reservation_id": "999999"}
# Reads that need a query to have anything to answer.
QUERY_BY_OPERATION = {"printLabels": "?keys=LAP-000001"}
SAMPLE_BY_OPERATION = {
    "getService": {"key": "SVC-000001"}, "getChange": {"key": "CHG-000001"},
    "getChangeLog": {"key": "CHG-000001"}, "moveChange": {"key": "CHG-000022"},
    "approveChange": {"key": "CHG-000022"}, "editChange": {"key": "CHG-000022"},
    "commentChange": {"key": "CHG-000022"},
    "getDefinition": {"code": "normal-change"},
    "getItemClassVersion": {"version": "1"}, "exportItemClassVersion": {"version": "1"},
    "getLicenceProduct": {"product": "Adobe Acrobat Pro"},
    "acceptImport": {"import_id": "0" * 32},
    **{op: {"kind": "cost_centre", "code": "CC-100"} for op in (
        "listReferenceValues", "addReferenceValue", "editReferenceValue", "mergeReferenceValue")},
}


@pytest.fixture(scope="module")
def demo_api(tmp_path_factory: pytest.TempPathFactory, templates) -> Iterator[ApiClient]:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("api") / "usm.db"
    shutil.copyfile(templates.sqlite(), path)
    app = make_app(f"sqlite:///{path}")
    load_demo(app.extensions["usm_db"])
    client = ApiClient(app)
    with pytest.MonkeyPatch.context() as env:  # an import upload, for its differences' pages
        env.setenv("USM_INSTANCE_PATH", str(path.parent / "instance"))
        upload = client.post("/imports", COORDINATOR, query_string={"format": "csv"},
                             data=b"class,name\nhardware.laptop,Found\n", content_type="text/csv")
        env.setitem(SAMPLE_BY_OPERATION, "listImportDifferences",
                    {"import_id": upload.get_json()["id"]})
        item_file, change_file = sample_files(app.extensions["usm_db"])
        env.setitem(SAMPLE_BY_OPERATION, "getItemAttachmentContent", item_file)
        env.setitem(SAMPLE_BY_OPERATION, "listChangeFiles", {"key": change_file["key"]})
        env.setitem(SAMPLE_BY_OPERATION, "getChangeFileContent", change_file)
        yield client
    app.extensions["usm_db"].dispose()


@pytest.fixture
def api(web_app: Flask) -> ApiClient:
    return ApiClient(web_app)


def _operations(client: ApiClient) -> list[tuple[str, str, str]]:
    document = client.client.get(f"{API}/openapi.json").get_json()
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            values = {**SAMPLES, **SAMPLE_BY_OPERATION.get(operation["operationId"], {})}
            filled = re.sub(r"\{([^}]+)\}", lambda m, v=values: v[m.group(1)], path)
            found.append((operation["operationId"], method.upper(), filled))
    return sorted(found)


def test_every_operation_is_in_the_access_table(demo_api: ApiClient) -> None:
    assert sorted({op for op, _, _ in _operations(demo_api)}) == sorted(ACCESS)


@pytest.mark.parametrize("user", [None, COORDINATOR, OWNER, DESIGNER, ADMIN])
def test_role_operation_matrix(demo_api: ApiClient, user: str | None) -> None:
    """Anonymous: 401. A user without the role: 403 (before the input is even read). A user with
    it gets past the gate: writes are sent an empty body, so they stop at validation (422) and
    change nothing."""
    wrong = []
    for op, method, path in _operations(demo_api):
        kwargs = {"json": {}} if method in ("POST", "PATCH") else {}
        response = demo_api.call(method, path, user, **kwargs)
        status = response.status_code
        if user is None:
            ok = status == 401 and error_of(response)["code"] == "unauthenticated"
        elif user in ACCESS[op]:
            ok = status not in (401, 403, 500)
        else:
            ok = status == 403 and error_of(response)["code"] == "forbidden"
        if not ok:
            wrong.append(f"{user or 'anonymous'} {method} {path} ({op}) -> {status}")
    assert wrong == []


def test_allowed_reads_answer_200(demo_api: ApiClient) -> None:
    for op, method, path in _operations(demo_api):
        if method == "GET":
            user = sorted(ACCESS[op])[0]
            response = demo_api.get(path + QUERY_BY_OPERATION.get(op, ""), user)
            assert response.status_code == 200, (op, path, response.get_json())


# -- the error shape ------------------------------------------------------------------------------

def test_missing_token_is_401_with_bearer_challenge(api: ApiClient) -> None:
    response = api.get("/items", None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "unauthenticated"


@pytest.mark.parametrize("header", ["Bearer usm_not-a-real-token", "Basic Y2Fyb2w6eA==",
                                    "Bearer", "usm_abc"])
def test_bad_tokens_are_401(api: ApiClient, header: str) -> None:
    response = api.client.get(f"{API}/items", headers={"Authorization": header})
    assert response.status_code == 401
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert error_of(response)["code"] in ("unauthenticated", "invalid_token")


def test_unknown_path_and_method_are_json(api: ApiClient) -> None:
    missing = api.get("/nothing-here")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    not_allowed = api.delete("/items")
    assert not_allowed.status_code == 405
    assert "GET" in not_allowed.headers["Allow"]
    assert error_of(not_allowed)["code"] == "method_not_allowed"


def test_unknown_item_is_404(api: ApiClient) -> None:
    response = api.get("/items/LAP-999999")
    assert response.status_code == 404
    assert "LAP-999999" in error_of(response)["message"]


def test_schema_violations_are_422_naming_the_field(api: ApiClient) -> None:
    response = api.get("/items?limit=500&as_of=yesterday")
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_request"
    assert {f["field"] for f in error["fields"]} == {"limit", "as_of"}


def test_a_body_that_is_not_json_is_400_and_another_media_type_415(api: ApiClient) -> None:
    bad = api.post("/changes", data="{not json", content_type="application/json")
    assert bad.status_code == 400 and error_of(bad)["code"] == "malformed_json"
    form = api.post("/changes", data={"title": "x"})
    assert form.status_code == 415 and error_of(form)["code"] == "unsupported_media_type"
    array = api.post("/changes", json=[1, 2])
    assert array.status_code == 422 and error_of(array)["fields"][0]["field"] == "body"


def test_unknown_body_fields_are_refused(api: ApiClient) -> None:
    response = api.post("/tokens", json={"name": "x", "colour": "red"})
    assert response.status_code == 422
    assert [f["field"] for f in error_of(response)["fields"]] == ["colour"]


def test_no_csrf_token_is_needed_with_a_bearer_token(api: ApiClient) -> None:
    response = api.post("/tokens", json={"name": "script"})
    assert response.status_code == 201


def test_an_unexpected_failure_is_a_json_500_without_internals(
        api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from usm.services import register

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(register, "search_items", broken)
    response = api.get("/items")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "internal_error" and "secret" not in error["message"]


# -- the register ---------------------------------------------------------------------------------

@pytest.fixture
def two_versions(api: ApiClient) -> None:
    db: Database = api.db
    implement_normal_change(db, [laptop("a", "SN-API-1", owner="alice", purchase_cost="800",
                                        currency="EUR", acquired_on="2026-01-05")],
                            at("2026-01-10"), title="Receive")
    implement_normal_change(db, [laptop(f"b{n}", f"SN-API-{n}") for n in range(2, 5)],
                            at("2026-01-20"), title="Receive more")
    implement_normal_change(db, [{"op": "update_item", "item": "LAP-000001", "owner": "bob"}],
                            at("2026-02-10"), title="Hand over to Bob")


@pytest.mark.usefixtures("two_versions")
def test_item_detail_now_and_as_of(api: ApiClient) -> None:
    now = api.get("/items/lap-000001", "sam").get_json()
    assert now["key"] == "LAP-000001" and now["owner"] == "bob" and now["version"] == 2
    assert now["financial"]["purchase_cost"] == "800.00"
    assert now["financial"]["acquired_on"] == "2026-01-05"
    assert now["configuration"]["serial_number"] == "SN-API-1"
    then = api.get("/items/LAP-000001?as_of=2026-01-31T00:00:00Z", "sam").get_json()
    assert then["owner"] == "alice" and then["version"] == 1
    before = api.get("/items/LAP-000001?as_of=2025-12-31T00:00:00%2B01:00", "sam")
    assert before.status_code == 404


@pytest.mark.usefixtures("two_versions")
def test_item_history_names_the_changes(api: ApiClient) -> None:
    body = api.get("/items/LAP-000001/history", "pat").get_json()
    assert [v["version"] for v in body["versions"]] == [1, 2]
    assert body["versions"][1]["change_title"] == "Hand over to Bob"
    assert {"field": "owner", "old": "alice", "new": "bob"} in body["versions"][1]["changes"]


@pytest.mark.usefixtures("two_versions")
def test_items_list_filters_and_keyset_pages(api: ApiClient) -> None:
    first = api.get("/items?class=hardware&limit=3").get_json()
    assert first["total"] == 4
    assert [i["key"] for i in first["items"]] == ["LAP-000001", "LAP-000002", "LAP-000003"]
    assert first["next"] is not None and "cursor=" in first["next"]
    assert "class=hardware" in first["next"] and "limit=3" in first["next"]
    second = api.get(first["next"]).get_json()
    assert [i["key"] for i in second["items"]] == ["LAP-000004"] and second["next"] is None
    assert api.get("/items?q=sn-api-3").get_json()["total"] == 1
    assert api.get("/items?owner=bob").get_json()["total"] == 1


@pytest.mark.usefixtures("two_versions")
def test_items_as_of_reads_the_past_register(api: ApiClient) -> None:
    body = api.get("/items?as_of=2026-01-15T00:00:00Z").get_json()
    assert [i["key"] for i in body["items"]] == ["LAP-000001"]
    assert body["items"][0]["owner"] == "alice"
    assert body["as_of"] == "2026-01-15T00:00:00Z"


@pytest.mark.parametrize("moment", ["2026-01-15T00:00", "2026-01-15 00:00", "2026-01-15T01:00+01:00"])
def test_as_of_reads_moments_as_the_web_and_the_cli_do(api: ApiClient, two_versions: None,
                                                      moment: str) -> None:
    """No zone is UTC, as on the web and in the CLI."""
    body = api.get("/items", query_string={"as_of": moment}).get_json()
    assert body["as_of"] == "2026-01-15T00:00:00Z"
    assert [i["owner"] for i in body["items"]] == ["alice"]


def test_a_cursor_this_api_did_not_make_is_422(api: ApiClient) -> None:
    response = api.get("/items?cursor=bm9wZQ")
    assert response.status_code == 422
    assert error_of(response)["fields"][0]["field"] == "cursor"


def test_relations_classes_and_services(demo_api: ApiClient) -> None:
    relations = demo_api.get("/items/VM-000001/relations").get_json()["relations"]
    assert relations and {r["direction"] for r in relations} <= {"outgoing", "incoming"}
    classes = demo_api.get("/item-classes", "pat").get_json()["classes"]
    laptop_class = next(c for c in classes if c["code"] == "hardware.laptop")
    assert {"name": "memory_gb"}.items() <= next(
        a for a in laptop_class["attributes"] if a["name"] == "memory_gb").items()
    assert next(a for a in laptop_class["attributes"]
                if a["name"] == "memory_gb")["inherited_from"] == "hardware"
    assert demo_api.get("/item-classes/no.such").status_code == 404
    services = demo_api.get("/services", "sam").get_json()
    assert services["total"] == 3 and all(s["class_code"] == "service"
                                          for s in services["services"])
    service = demo_api.get(f"/services/{services['services'][0]['key']}", "sam").get_json()
    assert service["supporting"], "a demo service is supported by items"
    assert demo_api.get("/services/LAP-000003", "sam").status_code == 404


def test_definitions_list_and_detail(demo_api: ApiClient) -> None:
    listed = demo_api.get("/workflow-definitions", "pat").get_json()["definitions"]
    assert {"normal-change", "standard-change", "hardware-receipt"} <= {d["code"] for d in listed}
    detail = demo_api.get("/workflow-definitions/standard-change", "carol").get_json()
    assert detail["pre_authorised"] is True and detail["change_class"] == "standard"
    assert detail["states"][0]["step"] == "registration"
    assert any(t["auto"] for t in detail["transitions"])
    assert demo_api.get("/workflow-definitions/normal-change?version=1",
                        "pat").get_json()["approvers"] == ["service_owner"]
    assert demo_api.get("/workflow-definitions/normal-change?version=99",
                        "pat").status_code == 404


# -- the document and the docs page ---------------------------------------------------------------

def test_openapi_document_is_public_and_complete(api: ApiClient) -> None:
    response = api.client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    move = document["paths"]["/api/v1/changes/{key}/transitions/{trigger}"]["post"]
    assert move["x-roles"] == ["change_coordinator", "service_owner"]
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in move["parameters"])
    assert {"200", "409", "422", "401", "403"} <= set(move["responses"])
    create = document["paths"]["/api/v1/changes"]["post"]
    assert "GetChange" in create["responses"]["201"]["links"]
    assert "ETag" in document["paths"]["/api/v1/changes/{key}"]["get"]["responses"]["200"][
        "headers"]
    error = document["components"]["schemas"]["ErrorBody"]
    assert error["properties"]["error"]


def test_docs_page_and_its_assets_are_served_locally(api: ApiClient) -> None:
    page = api.client.get(f"{API}/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") for s in sources), "no asset from another host"
    for source in sources:
        with api.client.get(source) as asset:
            assert asset.status_code == 200, source
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert api.client.get(f"{API}/docs/swagger/../../app.py").status_code == 404


# -- hostile input, on both databases -------------------------------------------------------------

@pytest.fixture
def any_db_api(db_url: str) -> Iterator[ApiClient]:
    app = make_app(db_url)
    yield ApiClient(app)
    app.extensions["usm_db"].dispose()


HOSTILE: list[tuple[str, str, dict[str, object]]] = [
    ("GET", "/items/" + "X" * 5000, {}),
    ("GET", "/items/LAP%00001", {}),
    ("GET", "/items?q=a%00b", {}),
    ("GET", "/items?as_of=9999-12-31T23:59:59-23:59", {}),
    ("GET", "/items?as_of=0001-01-01T00:00:00%2B23:59", {}),
    ("GET", "/items?limit=99999999999999999999999", {}),
    ("GET", "/changes/" + "é" * 300 + "/log", {}),
    ("DELETE", "/tokens/99999999999999999999", {}),
    ("GET", "/workflow-definitions/normal-change?version=9999999999999", {}),
    ("POST", "/changes", {"data": b'{"title": "\\ud800 lone"}', "content_type": "application/json"}),
    ("POST", "/changes", {"data": b'{"title": 1e999999}', "content_type": "application/json"}),
    ("POST", "/changes", {"data": b"[" * 100000, "content_type": "application/json"}),
    ("POST", "/changes", {"json": {"model": "normal-change", "title": "NUL \x00 inside",
                                   "operations": [{"op": "set_status", "item": "X",
                                                   "status": "retired"}]}}),
    ("POST", "/changes", {"json": {"model": "normal-change", "title": "Long ref",
                                   "operations": [{"op": "create_item", "ref": "r" * 31,
                                                   "class": "hardware.laptop", "name": "L"},
                                                  {"op": "update_item", "item": "@" + "r" * 31,
                                                   "owner": "x"}]}}),
    ("POST", "/changes", {"json": {"model": "normal-change", "title": "Huge amount",
                                   "operations": [{"op": "create_item", "class": "hardware.laptop",
                                                   "name": "L", "purchase_cost": "1e999999"}]}}),
    ("POST", "/changes", {"json": {"model": "normal-change", "title": "Odd fields",
                                   "fields": {"x" * 1000: "y"}, "cost_estimate": 1e300,
                                   "operations": [{"op": "add_relation", "kind": "runs_on",
                                                   "source": "é" * 32, "target": "@x"}]}}),
    ("POST", "/changes/CHG-000001/transitions/" + "t" * 1000, {"json": {"comment": "é" * 2000}}),
    ("PATCH", "/changes/CHG-000001", {"json": {"coordinator": "z" * 64}}),
    ("POST", "/tokens", {"json": {"name": "n" * 120, "expires_at": "9999-12-31T23:59:59Z"}}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), HOSTILE,
                         ids=[f"{m} {p[:40]}" for m, p, _ in HOSTILE])
def test_hostile_input_gets_a_clean_answer(any_db_api: ApiClient, method: str, path: str,
                                           kwargs: dict[str, object]) -> None:
    response = any_db_api.call(method, path, "carol", **kwargs)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400:
        error_of(response)
