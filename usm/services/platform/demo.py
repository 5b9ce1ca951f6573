"""Demo data: users, three services, 50 items and 22 changes, built only through CHM.

``load_demo`` runs a small IT department's history through the change engine on a simulated clock
(March 2025 to November 2026), so the register has history on both sides of 31 January 2026 and
changes are left in several steps. It refuses a register that already holds items or changes.
Each change names the shipped model that fits; when that model is not installed, does not make the
change's operations or its limits (cost, risk) do not allow it, ``normal-change`` is used. Guards
are met as a coordinator would meet them: details at registration, approvals by the users holding
the model's approver roles, the outcome at evaluation.

Demo sign-ins (local demo credentials only; listed in the README):

    carol / carol-changes-2026   change coordinator
    sam   / sam-services-2026    service owner
    pat   / pat-designs-2026     process designer
    ada   / ada-admin-2026       administrator
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from bir.classes import ClassCatalogue
from bir.items import Item
from bir.queries import items_by_key
from usm.accounts import User
from usm.services import changes, reference
from usm.services.accounts import add_user
from usm.services.audit_log import Origin
from usm.services.errors import Refused
from usm.services.platform.database import Database
from workflows.change_model import ChangeModelSpec, TransitionSpec
from workflows.changes import latest_change_model
from workflows.engine import compiled
from workflows.guards import RISK_LEVELS
from workflows.models import Change, ChangeModel
from workflows.skeleton import FINAL, Step

# username: (role, display name, password)
DEMO_USERS: dict[str, tuple[str, str, str]] = {
    "carol": ("change_coordinator", "Carol (change coordinator)", "carol-changes-2026"),
    "sam": ("service_owner", "Sam (service owner)", "sam-services-2026"),
    "pat": ("process_designer", "Pat (process designer)", "pat-designs-2026"),
    "ada": ("administrator", "Ada (administrator)", "ada-admin-2026"),
}
COORDINATOR = "carol"
FALLBACK_MODEL = "normal-change"
EUR = {"currency": "EUR"}
SUPPLIER = "Centralpoint B.V."
ROOM = "Server room HQ-0.12"
SWITCH = "Core switch sw-core-01"

# Laptops: number, manufacturer, model, price, owner (None: kept in stock), cost centre, floor.
LAPTOPS = [
    (1, "Dell", "Latitude 7450", "1389.00", "Joost de Vries", "CC-100", 1),
    (2, "Dell", "Latitude 7450", "1389.00", "Fatima El Amrani", "CC-100", 1),
    (3, "Dell", "Latitude 7450", "1389.00", "Pieter Bakker", "CC-200", 2),
    (4, "HP", "EliteBook 840 G11", "1249.00", "Sanne Visser", "CC-200", 2),
    (5, "HP", "EliteBook 840 G11", "1249.00", "Daan Smit", "CC-200", 2),
    (6, "HP", "EliteBook 840 G11", "1249.00", "Lotte Mulder", "CC-300", 3),
    (7, "HP", "EliteBook 840 G11", "1249.00", "Ahmed Yilmaz", "CC-300", 3),
    (8, "Lenovo", "ThinkPad T14 Gen 5", "1195.00", "Emma de Boer", "CC-400", 1),
    (9, "Lenovo", "ThinkPad T14 Gen 5", "1195.00", "Noah Jansen", "CC-400", 1),
    (10, "Lenovo", "ThinkPad T14 Gen 5", "1195.00", "Julia Dekker", "CC-300", 3),
    (11, "Lenovo", "ThinkPad T14 Gen 5", "1195.00", "Bram Peters", "CC-200", 2),
    (12, "Lenovo", "ThinkPad T14 Gen 5", "1195.00", "Mila Hendriks", "CC-100", 1),
    (13, "Dell", "Latitude 7450", "1389.00", None, None, None),
    (14, "Dell", "Latitude 7450", "1389.00", None, None, None),
]
# Servers: name, cores, memory GB, price.
SERVERS = [("esx-01", 32, 512, "18450.00"), ("esx-02", 32, 512, "18450.00"),
           ("esx-03", 24, 384, "15200.00")]
# Virtual machines: name, host, service it supports, vCPUs, memory GB, operating system.
VMS = [
    ("vm-mail-01", "esx-01", "E-mail", 4, 32, "Windows Server 2022"),
    ("vm-mail-02", "esx-02", "E-mail", 4, 32, "Windows Server 2022"),
    ("vm-portal-db", "esx-01", "Customer portal", 8, 64, "Ubuntu 24.04 LTS"),
    ("vm-payroll-01", "esx-02", "Payroll", 4, 16, "Windows Server 2022"),
    ("vm-dc-01", "esx-03", "E-mail", 2, 8, "Windows Server 2022"),
]
# Licence entitlements: product, vendor, metric, quantity, unit price.
ENTITLEMENTS = [
    ("Microsoft 365 E3", "Microsoft", "user", 25, "33.75"),
    ("Adobe Acrobat Pro", "Adobe", "device", 3, "239.88"),
    ("Windows Server Datacenter", "Microsoft", "core", 64, "96.00"),
    ("AFAS Payroll", "AFAS Software", "site", 1, "5400.00"),
]
# Services: name, service level, customer.
SERVICES = [("E-mail", "gold", "All staff"), ("Customer portal", "gold", "Customers"),
            ("Payroll", "silver", "HR department")]
# Cloud instances: name, provider, region, instance type, monthly cost, service it supports.
CLOUD = [("portal-web-01", "aws", "eu-central-1", "m6i.large", "72.50", "Customer portal"),
         ("portal-web-02", "aws", "eu-central-1", "m6i.large", "72.50", "Customer portal"),
         ("mail-archive-01", "azure", "westeurope", "Standard_D2s_v5", "81.03", "E-mail")]
CLOUD_SUPPLIERS = {"aws": "Amazon Web Services EMEA SARL", "azure": "Microsoft Ireland"}
# Reference data, set up first as the administrator would (issue 23): the register stores the
# codes; the names are what the screens and reports show.
COST_CENTRES = [("CC-100", "Finance"), ("CC-200", "Sales"), ("CC-300", "IT"), ("CC-400", "HR")]
PEOPLE = ["Sam", "Reception", "Payroll office", "Iris van Dijk", "Tom Bos"]
PERSON_USERS = {"Sam": "sam"}
LOCATIONS = [ROOM, *(f"Head office Utrecht, floor {n}" for n in range(4)),
             "Amsterdam sales office", "IT store room, floor 0"]
ADMIN = "ada"


class DemoRefused(Refused):
    """The register is not empty; the demo loads only into an empty one."""


class DemoError(RuntimeError):
    """A demo change could not be walked through its model (a model the demo cannot meet)."""


@dataclass
class DemoReport:
    users_created: list[str]
    changes_created: int
    items: int
    changes_by_step: dict[str, int] = field(default_factory=dict)
    summary: str = ""


def _moment(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _path(d: ChangeModelSpec, state: str, goal: Step) -> list[TransitionSpec]:
    """The shortest run of transitions from ``state`` into step ``goal``, through no other final
    outcome."""
    seen, queue = {state}, deque([(state, [])])
    while queue:
        here, path = queue.popleft()
        for t in d.transitions_from(here):
            step = d.step_of(t.dest)
            if step is goal:
                return path + [t]
            if t.dest not in seen and step not in FINAL:
                seen.add(t.dest)
                queue.append((t.dest, path + [t]))
    return []


def _user(roles: list[str], prefer: list[str] | None = None) -> str:
    """The demo user to act: one holding a role of ``prefer`` and ``roles`` if there is one."""
    for wanted in (set(prefer or ()) & set(roles), set(roles)):
        for username, (role, _, _) in DEMO_USERS.items():
            if role in wanted:
                return username
    raise DemoError(f"no demo user holds any of {', '.join(roles)}")


class _Demo:
    """Runs the demo's changes one after another on a clock that only moves forward."""

    def __init__(self, db: Database):
        self.db = db
        self.now = _moment("2025-03-01")
        self.keys: dict[str, str] = {}  # item name -> key, filled in as changes are implemented
        self.created: list[str] = []
        self.state = ""  # state of the change being walked

    def k(self, name: str) -> str:
        return self.keys[name]

    def tick(self, hours: float = 1) -> datetime:
        self.now += timedelta(hours=hours)
        return self.now

    def _model(self, preferred: str, ops: list[dict[str, Any]], cost: Decimal,
               risk: str) -> tuple[str, ChangeModelSpec]:
        """``preferred`` if it is installed, makes these operations and its limits allow this cost
        and risk; otherwise the fallback model."""
        with self.db.reading() as session:
            catalogue = ClassCatalogue.load(session)
            existing = items_by_key(session, [op["item"] for op in ops if "item" in op])
            touched = [op["class"] if op["op"] == "create_item" else existing[op["item"]].class_code
                       for op in ops if op["op"] in ("create_item", "update_item", "set_status")]
            for code in (preferred, FALLBACK_MODEL):
                if not session.scalar(select(ChangeModel.id).where(
                        ChangeModel.code == code, ChangeModel.status == "published")):
                    continue
                d = compiled(latest_change_model(session, code)).definition
                classes, guards = d.change_set.classes, [g for t in d.transitions for g in t.guards]
                fits = all(op["op"] in d.change_set.operations for op in ops) and (
                    not classes or all(any(catalogue.is_a(t, c) for c in classes)
                                       for t in touched))
                fits = fits and all(cost <= Decimal(str(g.params["amount"])) for g in guards
                                    if g.name == "cost_at_most")
                if fits and all(RISK_LEVELS.index(risk) <= RISK_LEVELS.index(g.params["level"])
                                for g in guards if g.name == "risk_at_most"):
                    return code, d
        raise DemoError(f"neither {preferred} nor {FALLBACK_MODEL} is installed and fits")

    def change(self, day: str, model: str, title: str, ops: list[dict[str, Any]], *,
               until: Step = Step.CLOSED, source: str = "customer", risk: str = "low",
               impact: str = "no interruption of any agreed service", cost: str = "0",
               reason: str | None = None, fields: dict[str, Any] | None = None,
               incident: str | None = None) -> str:
        """Register a change on ``day`` and walk it to ``until`` (a step or a final outcome);
        ``fields`` gives values for model-specific fields, used when the model has them;
        ``incident`` the reference of the incident a change from INC recovers from."""
        self.now = max(self.now, _moment(day))
        code, d = self._model(model, ops, Decimal(cost), risk)
        window = self.now.replace(hour=18) + timedelta(days=1)
        given = fields or {}
        details: dict[str, Any] = {
            "source": source, "reason": reason or title, "description": title, "risk": risk,
            "impact": impact, "cost_estimate": cost, "currency": "EUR",
            "planned_start": window, "planned_end": window + timedelta(hours=4),
            "coordinator": COORDINATOR,
            **({"incident_reference": incident} if incident else {}),
            "fields": {f.name: given.get(f.name, {"integer": 1, "money": "0.00", "date": day}.get(
                f.type, f"{f.name.replace('_', ' ')}: see {title}")) for f in d.fields},
        }
        summary = changes.register_change(self.db, COORDINATOR, model=code, title=title,
                                          operations=ops, now=self.now, **details)
        key, self.state = summary.key, summary.state
        self.created.append(key)
        if until is Step.REJECTED:
            self._drive(key, d, Step.AUTHORISATION, window)
            self.state = changes.approve_change(
                self.db, key, _user(d.approvers), approve=False,
                comment="not now: the business case is not agreed", now=self.tick()).state
        elif until is Step.WITHDRAWN:
            self._drive(key, d, Step.PLANNING, window)
        self._drive(key, d, until, window)
        with self.db.reading() as session:  # learn the keys the implementation gave new items
            self.keys.update(session.execute(select(Item.name, Item.key).join(
                Change, Change.id == Item.created_change_id).where(Change.key == key)).all())
        self.now = max(self.now, _moment(day, 18))
        return key

    def _drive(self, key: str, d: ChangeModelSpec, goal: Step, window: datetime) -> None:
        for _ in range(50):
            if d.step_of(self.state) is goal:
                return
            path = _path(d, self.state, goal)
            if not path or (path[0].auto and not path[0].needs_approvals):
                raise DemoError(f"{key} ({d.code}): no manual way from {self.state} to {goal}")
            t = path[0]
            self._meet_guards(key, d, t)
            if t.auto:  # the approvals just given moved the change on by itself
                self.state = changes.change_summary(self.db, key).state
                continue
            dest = d.step_of(t.dest)
            at = self.now = max(self.tick(), window + timedelta(minutes=30)) \
                if dest is Step.IMPLEMENTATION else self.tick(24 if dest in (
                    Step.EVALUATION, Step.CLOSED) else 1)
            approving = d.approvers if any(g.name == "approvals" for g in t.guards) else []
            self.state = changes.move_change(self.db, key, t.trigger, _user(t.roles, approving),
                                             now=at).state
        raise DemoError(f"{key}: did not reach {goal}")

    def _meet_guards(self, key: str, d: ChangeModelSpec, t: TransitionSpec) -> None:
        for g in t.guards:
            if g.name == "approvals":
                approvers = [u for u, (role, _, _) in DEMO_USERS.items() if role in d.approvers]
                if len(approvers) < g.params["count"]:
                    raise DemoError(f"{d.code} needs {g.params['count']} approvals; the demo "
                                    f"has {len(approvers)} approver(s)")
                for username in approvers[:g.params["count"]]:
                    changes.approve_change(self.db, key, username, comment="agreed",
                                           now=self.tick())
            needs_outcome = g.name == "outcome_recorded" or (
                g.name == "required_fields" and "outcome" in g.params.get("fields", []))
            if needs_outcome and d.step_of(self.state) is Step.EVALUATION:
                changes.update_change(self.db, key, COORDINATOR, {"outcome": "successful"},
                                      now=self.tick())


# -- change-set builders --------------------------------------------------------------------------

def _create(ref: str, klass: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"op": "create_item", "ref": ref, "class": klass, "name": name, **fields}


def _update(item: str, **fields: Any) -> dict[str, Any]:
    return {"op": "update_item", "item": item, **fields}


def _status(item: str, status: str) -> dict[str, Any]:
    return {"op": "set_status", "item": item, "status": status}


def _rel(kind: str, source: str, target: str) -> dict[str, Any]:
    return {"op": "add_relation", "kind": kind, "source": source, "target": target}


def _unlink(kind: str, source: str, target: str) -> dict[str, Any]:
    return {"op": "remove_relation", "kind": kind, "source": source, "target": target}


def _laptop(no: int) -> str:
    return f"Laptop UT-LT-{no:03d}"


def _bought(cost: str, months: int, *, cluster: bool = False, warranty_months: int | None = None
            ) -> dict[str, Any]:
    """Financial fields of the 2025 purchases: the cluster in March, the workplaces in May. The
    warranty runs as long as the depreciation unless the supplier gives less."""
    warranty_months = warranty_months or months
    acquired, supplier = ("2025-03-14", "Dell Technologies") if cluster else ("2025-05-12",
                                                                               SUPPLIER)
    return {"purchase_cost": cost, **EUR, "acquired_on": acquired, "supplier": supplier,
            "invoice": f"INV-25-{acquired[5:7]}{acquired[8:]}",
            "warranty_end": f"{2025 + warranty_months // 12}{acquired[4:]}",
            "depreciation_method": "straight_line", "depreciation_months": months}


def _receipt(order: str, note: str, ordered_on: str, delivered_on: str) -> dict[str, str]:
    """A receipt's fields, with the order and delivery dates the spares lead time is taken from."""
    return {"purchase_order": order, "delivery_note": note, "ordered_on": ordered_on,
            "delivered_on": delivered_on}


def _cloud(demo: _Demo, i: int, name: str, provider: str, region: str, kind: str, monthly: str,
           service: str) -> list[dict[str, Any]]:
    return [_create(f"c{i}", "cloud.instance", name, status="in_use", hostname=name, **EUR,
                    supplier=CLOUD_SUPPLIERS[provider], recurring_cost=monthly,
                    recurring_period="monthly", cost_centre="CC-300",
                    attributes={"provider": provider, "region": region, "instance_type": kind,
                                "vcpus": 2, "memory_gb": 8}),
            _rel("supports", f"@c{i}", demo.k(service))]


def _installs(demo: _Demo, pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Software installations on devices, each licensed by the product's entitlement."""
    ops = []
    for i, (product, device) in enumerate(pairs):
        vendor = next(v for p, v, *_ in ENTITLEMENTS if p == product)
        ops += [_create(f"i{i}", "software.installation", f"{product} on {device}",
                        status="in_use", in_service_on=demo.now.date().isoformat(),
                        attributes={"product": product, "vendor": vendor}),
                _rel("installed_on", f"@i{i}", demo.k(device)),
                _rel("licensed_by", f"@i{i}", demo.k(f"{product} entitlement"))]
    return ops


# -- the demo's history, oldest first -------------------------------------------------------------

def _reference_data(db: Database) -> None:
    """The demo's people, locations and cost centres, added through the reference service
    before any change names them (so every change's values are checked against them)."""
    admin = Origin(ADMIN)
    people = dict.fromkeys([owner for *_, owner, _centre, _floor in LAPTOPS if owner] + PEOPLE)
    values = [("cost_centre", code, name, None) for code, name in COST_CENTRES]
    values += [("person", person, person, PERSON_USERS.get(person)) for person in people]
    values += [("location", location, location, None) for location in LOCATIONS]
    for kind, code, name, username in values:
        try:
            reference.get_value(db, kind, code)  # kept as an administrator left it
        except reference.ReferenceNotFound:
            reference.add_value(db, admin, kind, code, name, username=username)


def _history_2025(demo: _Demo) -> None:
    k = demo.k
    ops = [_create("hq", "building", "Head office Utrecht", status="in_use",
                   attributes={"address": "Catharijnesingel 10, Utrecht", "floor_area_m2": 2400}),
           _create("room", "building.room", ROOM, status="in_use"),
           _rel("located_in", "@room", "@hq")]
    ops += [_create(f"svc{i}", "service", name, status="in_use", owner="Sam",
                    attributes={"service_level": level, "customer": customer})
            for i, (name, level, customer) in enumerate(SERVICES)]
    demo.change("2025-03-03", FALLBACK_MODEL, "Register head office and the agreed services", ops,
                source="ctm")
    # The server room is a registered building item: its location value points to it.
    reference.update_value(demo.db, Origin(ADMIN), "location", ROOM, item_key=k(ROOM))

    ops = [_create("sw", "network.switch", SWITCH, status="in_stock", serial_number="FOC2718X0AB",
                   manufacturer="Cisco", model="Catalyst 9300-48P", **_bought("6980.00", 60,
                                                                              cluster=True),
                   end_of_life="2026-10-31",  # the vendor's end of software maintenance
                   attributes={"ports": 48, "firmware": "17.9.4", "management_ip": "10.0.0.2"}),
           _rel("located_in", "@sw", k(ROOM))]
    for i, (name, cores, memory, cost) in enumerate(SERVERS):
        ops += [_create(f"s{i}", "hardware.server", name, status="in_stock", hostname=name,
                        serial_number=f"CZ25{i}8841", manufacturer="Dell", model="PowerEdge R760",
                        location=ROOM, **_bought(cost, 60, cluster=True),
                        attributes={"cores": cores, "sockets": 2, "memory_gb": memory,
                                    "rack_units": 2}),
                _rel("located_in", f"@s{i}", k(ROOM)), _rel("connected_to", f"@s{i}", "@sw")]
    demo.change("2025-03-17", "hardware-receipt", "Receive virtualisation cluster and switch", ops,
                cost="62080.00",
                fields=_receipt("PO-2025-0311", "DELL-DN-448120", "2025-03-11", "2025-03-17"))

    ops = [_update(k(n), status="in_use", in_service_on="2025-04-01", cost_centre="CC-300")
           for n, *_ in SERVERS] + [_status(k(SWITCH), "in_use")]
    for i, (name, host, service, vcpus, memory, os) in enumerate(VMS):
        ops += [_create(f"vm{i}", "virtual_machine", name, status="in_use", hostname=name,
                        cost_centre="CC-300",
                        attributes={"vcpus": vcpus, "memory_gb": memory, "os": os}),
                _rel("runs_on", f"@vm{i}", k(host)), _rel("supports", f"@vm{i}", k(service))]
    demo.change("2025-03-31", FALLBACK_MODEL, "Commission the cluster and build the service VMs",
                ops, risk="medium", impact="new platform; no running service affected")

    ops = [_create(f"e{i}", "licence.entitlement", f"{product} entitlement", status="in_use",
                   supplier="SoftwareONE", contract=f"LIC-2025-{i + 1:02d}", **EUR,
                   attributes={"product": product, "vendor": vendor, "metric": metric,
                               "quantity": qty, "unit_price": price, "term_start": "2025-04-01",
                               "term_end": "2028-03-31"})
           for i, (product, vendor, metric, qty, price) in enumerate(ENTITLEMENTS)]
    demo.change("2025-04-07", FALLBACK_MODEL, "Register the licence entitlements bought in April",
                ops, cost="19800.00")
    demo.change("2025-04-14", "software-installation", "Install Windows Server and AFAS Payroll",
                _installs(demo, [("Windows Server Datacenter", n) for n, *_ in SERVERS]
                          + [("AFAS Payroll", "vm-payroll-01")]))

    ops = [_create(f"l{no}", "hardware.laptop", _laptop(no), status="in_stock", model=model,
                   hostname=f"ut-lt-{no:03d}", serial_number=f"{maker[:2].upper()}25-{7300 + no}",
                   asset_tag=f"AT-{10000 + no}", manufacturer=maker,
                   **_bought(cost, 36, warranty_months=24),
                   attributes={"memory_gb": 16, "keyboard_layout": "us"})
           for no, maker, model, cost, *_ in LAPTOPS]
    for no in (1, 2):
        ops += [_create(f"d{no}", "hardware.desktop", f"Desktop UT-PC-{no:03d}", status="in_stock",
                        serial_number=f"HP25-{8800 + no}", manufacturer="HP",
                        model="Elite Mini 800 G9", **_bought("899.00", 48),
                        lease_end="2027-01-31",  # bought out of a lease that runs on
                        attributes={"cores": 14}),
                _create(f"m{no}", "hardware.monitor", f"Monitor UT-MON-{no:03d}",
                        status="in_stock", serial_number=f"DL25-{5500 + no}", manufacturer="Dell",
                        model="P2725H", **_bought("279.00", 60), attributes={"screen_inches": 27}),
                _rel("connected_to", f"@m{no}", f"@d{no}")]
    demo.change("2025-05-12", "hardware-receipt", "Receive the 2025 workplace delivery", ops,
                cost="19922.00",
                fields=_receipt("PO-2025-0427", "CP-DN-25-0931", "2025-04-27", "2025-05-12"))

    ops = [_update(k(_laptop(no)), status="in_use", owner=owner, cost_centre=centre,
                   location=f"Head office Utrecht, floor {floor}", in_service_on="2025-06-02")
           for no, _, _, _, owner, centre, floor in LAPTOPS if owner]
    ops += [_update(k(f"{kind} UT-{tag}-{no:03d}"), status="in_use", owner=owner,
                    cost_centre="CC-400", location="Head office Utrecht, floor 0",
                    in_service_on="2025-06-02")
            for no, owner in ((1, "Reception"), (2, "Payroll office"))
            for kind, tag in (("Desktop", "PC"), ("Monitor", "MON"))]
    demo.change("2025-06-02", "standard-change", "Hand out laptops and workplaces to staff", ops)
    demo.change("2025-06-16", "software-installation", "Install Acrobat and Microsoft 365 Apps",
                _installs(demo, [("Adobe Acrobat Pro", _laptop(n)) for n in (1, 2, 5, 11)]
                          + [("Microsoft 365 E3", f"Desktop UT-PC-{n:03d}") for n in (1, 2)]))
    demo.change("2025-09-08", "cloud-instance-request", "Run the portal front end on AWS",
                _cloud(demo, 0, *CLOUD[0]) + _cloud(demo, 1, *CLOUD[1]), cost="1740.00",
                fields={"environment": "production", "business_justification":
                        "portal traffic outgrew the on-premises front end"})
    demo.change("2025-12-01", "emergency-change", "Patch core switch firmware (CVE advisory)",
                [_update(k(SWITCH), attributes={"firmware": "17.9.5a"})], source="inc",
                incident="INC-2025-0871",
                risk="high", impact="core network restarts: about 10 minutes without network")


def _history_2026(demo: _Demo) -> None:
    k = demo.k
    demo.change("2026-02-09", "standard-change", "Hand over UT-LT-003 to the new sales lead",
                [_update(k(_laptop(3)), owner="Iris van Dijk", location="Amsterdam sales office")])
    demo.change("2026-02-16", "emergency-change", "Take esx-02 out for a failed memory module",
                [_status(k("esx-02"), "maintenance")]
                + [op for vm in ("vm-mail-02", "vm-payroll-01") for op in (
                    _unlink("runs_on", k(vm), k("esx-02")), _rel("runs_on", k(vm), k("esx-03")))],
                source="inc", incident="INC-2026-0154", risk="high",
                impact="VMs migrate live; no outage expected")
    demo.change("2026-03-10", "cloud-instance-request", "Mail archive instance on Azure",
                _cloud(demo, 0, *CLOUD[2]), cost="972.36",
                fields={"environment": "production",
                        "business_justification": "legal retention of mail for seven years"})
    acrobat = k(f"Adobe Acrobat Pro on {_laptop(11)}")
    demo.change("2026-04-20", "asset-retirement", "Retire two damaged laptops",
                [_update(k(_laptop(n)), status="retired", owner=None,
                         location="IT store room, floor 0") for n in (11, 12)]
                + [_status(acrobat, "retired"), _unlink("installed_on", acrobat, k(_laptop(11))),
                   _unlink("licensed_by", acrobat, k("Adobe Acrobat Pro entitlement"))],
                fields={"disposal_method": "recycling", "data_wipe_certificate": "WIPE-26-0417",
                        "retirement_reason": "failure"})
    demo.change("2026-06-15", "asset-retirement", "Dispose of UT-LT-011 (certified wipe)",
                [_update(k(_laptop(11)), status="disposed", disposal_proceeds="150.00")],
                fields={"disposal_method": "recycling", "data_wipe_certificate": "WIPE-26-0611",
                        "retirement_reason": "failure"})
    demo.change("2026-07-06", FALLBACK_MODEL, "Move payroll to a SaaS provider",
                [_status(k("vm-payroll-01"), "retired")], until=Step.REJECTED, risk="high",
                reason="cost reduction", impact="Payroll unavailable during migration")
    demo.change("2026-08-03", FALLBACK_MODEL, "Add a storage array for the cluster",
                [_create("st", "hardware.storage", "Storage array sto-01",
                         attributes={"capacity_tb": "120"})], until=Step.WITHDRAWN,
                cost="42000.00", reason="capacity forecast (later revised)")
    demo.change("2026-09-14", "software-installation", "Install Acrobat on UT-LT-007",
                _installs(demo, [("Adobe Acrobat Pro", _laptop(7))]))
    demo.change("2026-10-19", FALLBACK_MODEL, "Upgrade core switch firmware to 17.12",
                [_update(k(SWITCH), attributes={"firmware": "17.12.3"})],
                until=Step.AUTHORISATION, risk="medium", impact="core network restarts")
    demo.change("2026-11-02", FALLBACK_MODEL, "Add 256 GB memory to esx-01",
                [_update(k("esx-01"), attributes={"memory_gb": 768})], until=Step.PLANNING,
                cost="2900.00")
    demo.change("2026-11-16", "standard-change", "Hand out spare laptop UT-LT-013 to a new hire",
                [_update(k(_laptop(13)), status="in_use", owner="Tom Bos",
                         cost_centre="CC-200", location="Head office Utrecht, floor 2",
                         in_service_on="2026-11-17")], until=Step.EVALUATION)
    demo.change("2026-11-20", "hardware-receipt", "Receive a laptop for the December starter",
                [_create("l", "hardware.laptop", "Laptop UT-LT-015", status="in_stock",
                         manufacturer="Dell", model="Latitude 7450", purchase_cost="1389.00",
                         **EUR, supplier=SUPPLIER)], until=Step.REGISTRATION, cost="1389.00",
                fields=_receipt("PO-2026-1118", "CP-DN-26-1187", "2026-11-18", "2026-11-20"))


def load_demo(db: Database) -> DemoReport:
    """Load the demo users and register history; ``DemoRefused`` if the register is not empty."""
    with db.reading() as session:
        items = session.scalar(select(func.count(Item.id))) or 0
        count = session.scalar(select(func.count(Change.id))) or 0
        existing = {u.username: u for u in session.scalars(
            select(User).where(User.username.in_(list(DEMO_USERS))))}
    if items or count:
        raise DemoRefused(f"the register already holds {items} item(s) and {count} change(s); "
                          "the demo loads only into an empty register")
    for username, user in existing.items():  # the demo acts as these users
        if not user.active or DEMO_USERS[username][0] not in user.roles:
            raise DemoRefused(f"user {username} exists but is not an active "
                              f"{DEMO_USERS[username][0]}; the demo needs it as one")
    created = []
    for username, (role, display, password) in DEMO_USERS.items():
        if username not in existing:
            add_user(db, username, password, [role], display_name=display)
            created.append(username)
    _reference_data(db)
    demo = _Demo(db)
    _history_2025(demo)
    _history_2026(demo)
    with db.reading() as session:
        items = session.scalar(select(func.count(Item.id))) or 0
        steps = Counter(session.scalars(select(Change.step).where(Change.key.in_(demo.created))))
    by_step = dict(sorted(steps.items()))
    summary = (f"demo loaded: {len(demo.created)} changes "
               f"({', '.join(f'{n} {s}' for s, n in by_step.items())}), {items} items in the "
               f"register, history from 2025-03 to {demo.now.date().isoformat()}")
    if created:
        summary += "; sign in as " + ", ".join(
            f"{u} / {DEMO_USERS[u][2]} ({DEMO_USERS[u][0].replace('_', ' ')})" for u in created)
    return DemoReport(created, len(demo.created), items, by_step, summary)


__all__ = ["DEMO_USERS", "DemoError", "DemoRefused", "DemoReport", "load_demo"]
