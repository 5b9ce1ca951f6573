"""The process designer's screens over HTTP: change models with their versions, one version as a
diagram, tables and YAML; the diagram as SVG; who may see them; escaping of designer text."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient
from sqlalchemy import delete

from tests.support.web import login
from usm.services.change_models import change_model_detail, list_change_models
from usm.services.change_models.catalogue import guard_text
from usm.services.platform import Database
from web.support.diagram import text_width, wrap
from workflows.change_model import GuardRef
from workflows.changes import store_definition
from workflows.models import ChangeModel

SHIPPED = Path(__file__).resolve().parents[2] / "workflows" / "change_models"
SHIPPED_CODES = sorted(p.stem for p in SHIPPED.glob("*.yaml"))
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE_STATE = "<script>alert('state')</script> & \"quoted\""
HOSTILE_TRIGGER = "</svg><img src=x onerror=alert(1)>"
PAGES = ["/designer/definitions", "/designer/definitions/normal-change/1",
         "/designer/definitions/normal-change/1.svg"]


def _hostile_yaml() -> str:
    source = (SHIPPED / "normal-change.yaml").read_text(encoding="utf-8")
    source = source.replace("code: normal-change", "code: hostile-model")
    source = source.replace("name: Normal change", "name: Hostile <b>model</b>")
    source = source.replace("label: Registered,", f"label: {yaml.safe_dump(HOSTILE_STATE).strip()},"
                            .replace("\n...", ""), 1)
    source = source.replace("label: Start assessment",
                            f"label: {yaml.safe_dump(HOSTILE_TRIGGER).strip()}".replace("\n...", ""))
    return source


def _svg_texts(svg: str) -> str:
    """All visible text of a diagram, its wrapped lines joined again."""
    root = ET.fromstring(svg)
    lines = [t.text or "" for t in root.iter(f"{SVG}text")]
    return re.sub(r"\s+", " ", " ".join(lines)).replace("- ", "-")


def _svg_titles(svg: str) -> list[str]:
    """Hover titles: the full text of each state and transition, unwrapped."""
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}title")]


# Access


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(web_client: FlaskClient, path: str) -> None:
    response = web_client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("user", ["carol", "sam", "ada"])
def test_only_process_designers_open_the_designer_pages(web_client: FlaskClient,
                                                        user: str) -> None:
    login(web_client, user)
    for path in PAGES:
        assert web_client.get(path).status_code == 403, path


def test_the_designer_finds_change_models_in_the_navigation(web_client: FlaskClient) -> None:
    login(web_client, "pat")
    page = web_client.get("/").get_data(as_text=True)
    assert 'href="/designer/definitions"' in page and "Change models" in page


# The list of models


def test_list_shows_every_model_grouped_with_its_versions(web_client: FlaskClient,
                                                         web_db: Database) -> None:
    login(web_client, "pat")
    with web_db.transaction() as session:
        store_definition(session, (SHIPPED / "normal-change.yaml").read_text(encoding="utf-8")
                         .replace("version: 1", "version: 2"), status="draft")

    response = web_client.get("/designer/definitions")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    for code in SHIPPED_CODES:
        assert f'id="model-{code}"' in page
        assert f'href="/designer/definitions/{code}/1"' in page
    group = page[page.index('id="model-normal-change"'):]
    group = group[:group.index("</tbody>")]
    assert "Version 2" in group and "Version 1" in group
    assert "status-draft" in group and "status-published" in group
    assert group.index("Version 2") < group.index("Version 1")  # newest first
    assert f"{len(SHIPPED_CODES)} models, {len(SHIPPED_CODES) + 1} versions." in page


def test_list_explains_what_to_do_when_no_model_is_installed(web_client: FlaskClient,
                                                            web_db: Database) -> None:
    with web_db.transaction() as session:
        session.execute(delete(ChangeModel))
    login(web_client, "pat")

    page = web_client.get("/designer/definitions").get_data(as_text=True)

    assert "No change models are installed yet" in page and "usm db upgrade" in page


def test_list_models_service_counts_changes_per_version(web_db: Database) -> None:
    models = {m.code: m for m in list_change_models(web_db)}

    assert sorted(models) == SHIPPED_CODES
    normal = models["normal-change"]
    assert normal.name == "Normal change" and normal.change_class == "normal"
    assert [(v.version, v.status, v.change_count) for v in normal.versions] == [(1, "published", 0)]
    assert normal.current is not None and normal.current.version == 1
    assert normal.description and normal.description.startswith("Any change")


# One version


def test_version_page_shows_diagram_tables_and_yaml(web_client: FlaskClient) -> None:
    login(web_client, "pat")
    response = web_client.get("/designer/definitions/normal-change/1")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "<h1>Normal change" in page
    assert page.count("<svg") == 1 and 'class="chm-diagram"' in page
    assert 'href="/designer/definitions/normal-change/1.svg"' in page
    assert 'id="state-awaiting_approval"' in page and "Awaiting approval" in page
    assert "needs risk, impact" in page and "1 approval" in page  # guards, readable
    assert "Change coordinator, Service owner" in page  # who may authorise
    assert '<pre class="yaml"><code># Normal change' in page
    assert "code: normal-change" in page
    assert "no change uses this version yet" in page


def test_unknown_model_or_version_is_404(web_client: FlaskClient) -> None:
    login(web_client, "pat")
    for path in ("/designer/definitions/no-such-model/1", "/designer/definitions/normal-change/7",
                 "/designer/definitions/normal-change/7.svg", "/designer/definitions/normal-change/x"):
        response = web_client.get(path)
        assert response.status_code == 404, path
    page = web_client.get("/designer/definitions/normal-change/7").get_data(as_text=True)
    assert "There is no change model normal-change version 7." in page


@pytest.mark.parametrize("code", SHIPPED_CODES)
def test_diagram_svg_names_every_state_and_transition(web_client: FlaskClient, web_db: Database,
                                                      code: str) -> None:
    login(web_client, "pat")
    response = web_client.get(f"/designer/definitions/{code}/1.svg")

    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert svg.startswith("<?xml")
    text = _svg_texts(svg)  # parses: the document is well-formed XML
    detail = change_model_detail(web_db, code, 1)
    for state in detail.states:
        assert state.label in text, state.label
    for transition in detail.transitions:
        assert transition.label in text, transition.label
        for guard in transition.guards:
            assert f"[{guard}]" in text, guard


def test_diagram_marks_automatic_transitions_and_the_start(web_client: FlaskClient) -> None:
    login(web_client, "pat")
    root = ET.fromstring(web_client.get("/designer/definitions/standard-change/1.svg").data)

    dashed = [p for p in root.iter(f"{SVG}path") if p.get("stroke-dasharray")]
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert dashed, "the automatic pre-authorisation is drawn dashed"
    assert any(t.startswith("Pre-authorised by the model (pre_authorise) · automatic")
               for t in titles)
    assert any("initial state" in t for t in titles)


def test_designer_text_is_escaped_in_page_and_diagram(web_client: FlaskClient,
                                                      web_db: Database) -> None:
    with web_db.transaction() as session:
        store_definition(session, _hostile_yaml(), status="draft")
    login(web_client, "pat")

    listing = web_client.get("/designer/definitions").get_data(as_text=True)
    assert "Hostile &lt;b&gt;model&lt;/b&gt;" in listing and "<b>model</b>" not in listing

    page = web_client.get("/designer/definitions/hostile-model/1").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert html.escape(HOSTILE_STATE, quote=False) in page
    # The inline diagram is one well-formed <svg> element: nothing closed it early.
    inline = page[page.index("<svg"):page.index("</svg>") + len("</svg>")]
    assert any(HOSTILE_STATE in t for t in _svg_titles(inline))

    svg = web_client.get("/designer/definitions/hostile-model/1.svg").get_data(as_text=True)
    titles = _svg_titles(svg)
    assert any(t.startswith(HOSTILE_STATE) for t in titles)
    assert any(t.startswith(HOSTILE_TRIGGER) for t in titles)
    assert "</svg><img" in _svg_texts(svg)  # shown as text, wrapped over lines
    assert "<script>" not in svg and "<img" not in svg


def test_a_stored_version_that_no_longer_validates_shows_its_problems(
        web_client: FlaskClient, web_db: Database) -> None:
    with web_db.transaction() as session:
        session.add(ChangeModel(code="broken-model", version=1, name="Broken model",
                                       change_class="normal", status="draft",
                                       source="code: broken-model\nname: Broken model\n"))
    login(web_client, "pat")

    page = web_client.get("/designer/definitions/broken-model/1").get_data(as_text=True)
    svg = web_client.get("/designer/definitions/broken-model/1.svg").get_data(as_text=True)

    assert "no longer passes the checks" in page and "change_class" in page
    assert "code: broken-model" in page
    assert "cannot be drawn" in _svg_texts(svg)


# Pieces of the diagram


def test_wrap_breaks_long_labels_on_words_and_hyphens() -> None:
    lines = wrap("Start post-implementation review", 90, 11, bold=True)
    assert len(lines) > 1
    assert all(text_width(line, 11, True) <= 90 for line in lines)
    assert re.sub(r"\s+", " ", " ".join(lines)).replace("- ", "-") == \
        "Start post-implementation review"
    assert wrap("a " * 50, 40, 11, max_lines=2)[-1].endswith("…")


def test_guards_read_as_plain_words() -> None:
    assert guard_text(GuardRef(name="required_fields", params={"fields": ["risk", "data_wipe"]})) \
        == "needs risk, data wipe"
    assert guard_text(GuardRef(name="approvals", params={"count": 2})) == "2 approvals"
    assert guard_text(GuardRef(name="cost_at_most", params={"amount": 500})) == \
        "cost (estimate or change set value) ≤ 500"
    assert guard_text(GuardRef(name="window_planned")) == "window planned"
