"""The home page's dashboard: each role sees its own charts, with figures from the register today.

The register is built through one change implemented an hour ago, so every figure can be worked
out by hand whatever day the test runs on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.helpers import implement_normal_change, laptop
from tests.support.web import login
from usm.services.platform import Database

TODAY = datetime.now(UTC).date()
WARRANTY_END = TODAY + timedelta(days=40)


def _create(ref: str, klass: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"op": "create_item", "ref": ref, "class": klass, "name": name, **fields}


def _relate(kind: str, source: str, target: str) -> dict[str, Any]:
    return {"op": "add_relation", "kind": kind, "source": source, "target": target}


@pytest.fixture
def register(web_db: Database) -> None:
    ops = [
        # Two laptops, no depreciation: book value = purchase cost, 1,000.00 + 500.50.
        laptop("a", "SN-A", status="in_use", purchase_cost="1000.00", currency="EUR",
               depreciation_method="none", warranty_end=WARRANTY_END.isoformat()),
        laptop("b", "SN-B", status="in_use", purchase_cost="500.50", currency="EUR",
               depreciation_method="none"),
        # A service with a cloud instance at 100.00 a month: this month's cost is 100.00.
        _create("svc", "service", "Mail", status="in_use"),
        _create("ci", "cloud.instance", "mail-01", status="in_use", recurring_cost="100.00",
                recurring_period="monthly", currency="EUR",
                attributes={"provider": "aws", "instance_type": "m6i.large"}),
        _relate("supports", "@ci", "@svc"),
        # One device licence for Acrobat, installed on both laptops: entitled 1, consumed 2.
        _create("ent", "licence.entitlement", "Acrobat entitlement", status="in_use",
                currency="EUR", attributes={"product": "Acrobat", "metric": "device",
                                            "quantity": 1, "unit_price": "200.00"}),
    ]
    for device in ("a", "b"):
        ops += [_create(f"i{device}", "software.installation", f"Acrobat on {device}",
                        status="in_use", attributes={"product": "Acrobat"}),
                _relate("installed_on", f"@i{device}", f"@{device}"),
                _relate("licensed_by", f"@i{device}", "@ent")]
    implement_normal_change(web_db, ops, datetime.now(UTC) - timedelta(hours=1))


def _panels(client: FlaskClient, user: str) -> dict[str, list[list[str]]]:
    """Each panel's title with the rows of its chart's data table (what a screen reader reads)."""
    login(client, user)
    html = client.get("/").get_data(as_text=True)
    panels = {}
    for title, table in re.findall(r"<h3>(.*?)</h3>.*?<div class=\"visually-hidden\"><table>(.*?)"
                                   r"</table>", html, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
        panels[title] = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in rows[1:]]
    return panels


def test_service_owner_sees_book_value_cost_licences_and_expiries(
        web_client: FlaskClient, register: None) -> None:
    panels = _panels(web_client, "sam")
    assert panels["Book value by class (EUR)"] == [["Laptop", "€1,500.50"]]
    this_month = f"{TODAY:%Y-%m}"
    cost = next(rows for title, rows in panels.items() if title.startswith("Cost per service"))
    assert cost == [["Mail", "€100.00"]]
    assert f"{TODAY.year}-01 to {this_month}" in next(t for t in panels if "Cost per" in t)
    assert panels["Licence position: entitled and consumed"] == [
        ["Acrobat (device)", "1", "2"]]
    expiries = {row[0]: row[1:] for row in panels["Warranty and lease expiries per month"]}
    assert len(expiries) == 12 and next(iter(expiries)) == this_month
    assert expiries[f"{WARRANTY_END:%Y-%m}"] == ["1", "0", "1"]
    assert sum(int(row[0]) for row in expiries.values()) == 1


def test_each_role_sees_its_own_panels(web_client: FlaskClient, register: None) -> None:
    carol = _panels(web_client, "carol")
    assert list(carol) == ["Open changes per step (0 overdue)",
                           "Warranty and lease expiries per month"]
    # The one change is implemented and waits for evaluation: still open, in implementation.
    assert carol["Open changes per step (0 overdue)"] == [
        ["Registration", "0"], ["Assessment", "0"], ["Authorisation", "0"], ["Planning", "0"],
        ["Realisation", "0"], ["Implementation", "1"], ["Evaluation", "0"]]
    pat = _panels(web_client.application.test_client(), "pat")
    assert pat == {"Changes per change model (all versions)": pat[
        "Changes per change model (all versions)"]}
    assert ["Normal change", "1"] in pat["Changes per change model (all versions)"]
    admin = _panels(web_client.application.test_client(), "ada")
    assert admin == {"Active users per role": [["Change coordinator", "1"],
                                               ["Service owner", "1"],
                                               ["Process designer", "1"],
                                               ["Administrator", "1"]]}


def test_an_empty_register_draws_empty_charts(web_client: FlaskClient) -> None:
    panels = _panels(web_client, "sam")
    assert "Licence position: entitled and consumed" in panels
    assert panels["Licence position: entitled and consumed"] == []
    assert not any(t.startswith("Book value") for t in panels)  # no currency, no money chart
