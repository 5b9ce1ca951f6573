"""Every shipped change model works as shipped.

For each file in ``workflows/change_models/`` (found by glob, so a new file is covered without editing
this test): the definition is valid and named after its file; a change can be walked through every
transition of the model by the service layer, and what a user sees (state, step, label, approvals,
log, the register) is checked after each move; the engine refuses a trigger from the wrong state and
from a user without the role; a standard model passes authorisation automatically, within its limits,
and records that; a non-standard model waits for its approvers.

The walks are derived from the definition itself (shortest paths over its transitions); only the
change set each model carries, and what it should do to the register, is written per model below.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bir.classes import load_class_specs
from bir.queries import ItemFilter
from tests.support.helpers import at, implement_normal_change, laptop
from usm.services import changes, register
from usm.services.platform import Database
from workflows.change_model import ChangeModelSpec, TransitionSpec, parse_change_model
from workflows.engine import ChangeError, TransitionRefused
from workflows.guards import CHANGE_FIELDS
from workflows.skeleton import FINAL, ROLES, SKELETON, Step

DEFINITIONS = Path(__file__).resolve().parents[2] / "workflows" / "change_models"
SHIPPED = sorted(DEFINITIONS.glob("*.yaml"))
# The users every test database holds (tests/conftest.py), one per role.
USER_FOR_ROLE = {"change_coordinator": "carol", "service_owner": "sam",
                 "process_designer": "pat", "administrator": "ada"}
ROLE_OF_USER = {user: role for role, user in USER_FOR_ROLE.items()}


def load(path: Path) -> ChangeModelSpec:
    return parse_change_model(path.read_text(encoding="utf-8"), where=path.name)


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


STANDARD = [p for p in SHIPPED if load(p).pre_authorised]
NOT_STANDARD = [p for p in SHIPPED if not load(p).pre_authorised]


# --- What each model's change set does to the register -------------------------------------------

@dataclass
class Scenario:
    """A model's change set and its visible effect on the register.

    ``setup`` registers the items the change set works on (through normal changes, before the walk
    starts) and returns their keys; ``operations(ctx, n)`` is the change set of the n-th change of the
    walk (n = 0 is the one walked to closed); ``observe`` reads what a user sees of the items touched
    by change 0, which is ``before`` until that change is implemented and ``after`` from then on.
    """

    operations: Callable[[dict[str, str], int], list[dict[str, Any]]]
    observe: Callable[[Database, dict[str, str]], Any]
    before: Callable[[dict[str, str]], Any]
    after: Callable[[dict[str, str]], Any]
    setup: Callable[[Database], dict[str, str]] = lambda db: {}


SETUP_AT = at("2026-02-02")
WALK_STARTS = at("2026-03-02")


def key_of(db: Database, text: str) -> str:
    rows, total = register.list_items(db, ItemFilter(text=text))
    assert total == 1, f"expected one item matching {text!r}, found {[r.key for r in rows]}"
    return rows[0].key


def rows_matching(db: Database, text: str) -> list[register.ItemRow]:
    return register.list_items(db, ItemFilter(text=text))[0]


def attribute(view: register.ItemView, name: str) -> Any:
    return next((value for n, _, value, _ in view.attributes if n == name), None)


def relations(view: register.ItemView) -> list[tuple[str, bool, str]]:
    return sorted((r.kind, r.outgoing, r.key) for r in view.relations)


def _setup_laptop_in_use(db: Database) -> dict[str, str]:
    implement_normal_change(db, [laptop("lap", "STD-LAP", status="in_use", owner="alice",
                                        attributes={"memory_gb": 8})], SETUP_AT)
    return {"lap": key_of(db, "STD-LAP")}


def _setup_laptop_in_stock(db: Database) -> dict[str, str]:
    implement_normal_change(db, [laptop("lap", "CHK-LAP", status="in_stock")], SETUP_AT)
    return {"lap": key_of(db, "CHK-LAP")}


def _setup_core_switch(db: Database) -> dict[str, str]:
    implement_normal_change(db, [{"op": "create_item", "ref": "sw", "class": "network.switch",
                                  "name": "Core switch A", "serial_number": "EMG-SW-A",
                                  "status": "in_use", "location": "Data centre"}], SETUP_AT)
    return {"switch": key_of(db, "EMG-SW-A")}


def _setup_stock_room_and_order(db: Database) -> dict[str, str]:
    implement_normal_change(db, [
        {"op": "create_item", "ref": "room", "class": "building.room", "name": "Stock room 1",
         "asset_tag": "HR-ROOM", "status": "in_use"},
        {"op": "create_item", "ref": "sw", "class": "network.switch", "name": "Access switch 7",
         "serial_number": "HR-SW-ORDERED", "status": "ordered"},
    ], SETUP_AT)
    return {"room": key_of(db, "HR-ROOM"), "switch": key_of(db, "HR-SW-ORDERED")}


def _receipt_view(db: Database, ctx: dict[str, str]) -> Any:
    received = [(r.name, r.class_code, r.status,
                 relations(register.item_view(db, r.key)))
                for r in rows_matching(db, "HR-LAP-0")]
    return register.item_view(db, ctx["switch"]).core["status"], received


def _setup_subscription(db: Database) -> dict[str, str]:
    implement_normal_change(db, [
        {"op": "create_item", "ref": "sub", "class": "cloud.subscription",
         "name": "Azure production", "asset_tag": "CLOUD-SUB-1", "status": "in_use",
         "recurring_cost": "1000.00", "currency": "EUR", "recurring_period": "monthly",
         "attributes": {"provider": "azure"}},
    ], SETUP_AT)
    return {"sub": key_of(db, "CLOUD-SUB-1")}


def _cloud_ops(ctx: dict[str, str], n: int) -> list[dict[str, Any]]:
    return [
        {"op": "create_item", "ref": "vm", "class": "cloud.instance", "name": f"app-{n}",
         "hostname": f"app-{n}.cloud.example", "status": "in_use", "cost_centre": "CC-100",
         "attributes": {"provider": "azure", "region": "westeurope",
                        "instance_type": "D4s_v5", "vcpus": 4, "memory_gb": 16}},
        {"op": "add_relation", "kind": "part_of", "source": "@vm", "target": ctx["sub"]},
        {"op": "update_item", "item": ctx["sub"], "recurring_cost": str(1300 + n)},
    ]


def _cloud_view(db: Database, ctx: dict[str, str]) -> Any:
    instances = [(r.name, r.class_code, r.status, r.cost_centre,
                  relations(register.item_view(db, r.key)))
                 for r in rows_matching(db, "app-0.cloud.example")]
    return str(register.item_view(db, ctx["sub"]).financial["recurring_cost"]), instances


def _setup_installed_software(db: Database) -> dict[str, str]:
    implement_normal_change(db, [
        laptop("lap", "SW-LAP", status="in_use"),
        {"op": "create_item", "ref": "ent", "class": "licence.entitlement",
         "name": "Visio device licences", "asset_tag": "SW-ENT", "status": "in_use",
         "attributes": {"product": "Visio", "metric": "device", "quantity": 10}},
        {"op": "create_item", "ref": "old", "class": "software.installation",
         "name": "Visio 2016 installation", "asset_tag": "SW-OLD", "status": "in_use",
         "attributes": {"product": "Visio", "product_version": "2016"}},
        {"op": "add_relation", "kind": "installed_on", "source": "@old", "target": "@lap"},
        {"op": "add_relation", "kind": "licensed_by", "source": "@old", "target": "@ent"},
    ], SETUP_AT)
    return {"lap": key_of(db, "SW-LAP"), "ent": key_of(db, "SW-ENT"), "old": key_of(db, "SW-OLD")}


def _software_ops(ctx: dict[str, str], n: int) -> list[dict[str, Any]]:
    return [
        {"op": "create_item", "ref": "ins", "class": "software.installation",
         "name": f"Visio 2024 installation #{n}", "asset_tag": f"SW-NEW-{n}", "status": "in_use",
         "attributes": {"product": "Visio", "product_version": "2024"}},
        {"op": "add_relation", "kind": "installed_on", "source": "@ins", "target": ctx["lap"]},
        {"op": "add_relation", "kind": "licensed_by", "source": "@ins", "target": ctx["ent"]},
        {"op": "remove_relation", "kind": "installed_on", "source": ctx["old"],
         "target": ctx["lap"]},
        {"op": "update_item", "item": ctx["old"], "status": "retired"},
    ]


def _software_view(db: Database, ctx: dict[str, str]) -> Any:
    on_laptop = sorted(r.name for r in register.item_view(db, ctx["lap"]).relations
                       if r.kind == "installed_on" and not r.outgoing)
    return on_laptop, register.item_view(db, ctx["old"]).core["status"]


def _setup_laptop_in_room(db: Database) -> dict[str, str]:
    implement_normal_change(db, [
        {"op": "create_item", "ref": "room", "class": "building.room", "name": "Floor 3 office",
         "asset_tag": "RET-ROOM", "status": "in_use"},
        laptop("lap", "RET-LAP", status="in_use", owner="alice", location="Floor 3"),
        {"op": "add_relation", "kind": "located_in", "source": "@lap", "target": "@room"},
    ], SETUP_AT)
    return {"room": key_of(db, "RET-ROOM"), "lap": key_of(db, "RET-LAP")}


def _retirement_view(db: Database, ctx: dict[str, str]) -> Any:
    view = register.item_view(db, ctx["lap"])
    return view.core["status"], view.core["location"], view.core["owner"], relations(view)


SCENARIOS: dict[str, Scenario] = {
    "normal-change": Scenario(
        operations=lambda ctx, n: [laptop("lap", f"NC-{n}", owner="alice")],
        observe=lambda db, ctx: [(r.name, r.class_code, r.status, r.owner)
                                 for r in rows_matching(db, "NC-0")],
        before=lambda ctx: [],
        after=lambda ctx: [("Laptop NC-0", "hardware.laptop", "planned", "alice")],
    ),
    "standard-change": Scenario(  # a memory upgrade, a routine standard change
        setup=_setup_laptop_in_use,
        operations=lambda ctx, n: [{"op": "update_item", "item": ctx["lap"],
                                    "attributes": {"memory_gb": 32 + n}}],
        observe=lambda db, ctx: (lambda v: (v.version, attribute(v, "memory_gb")))(
            register.item_view(db, ctx["lap"])),
        before=lambda ctx: (1, 8),
        after=lambda ctx: (2, 32),
    ),
    "check-out": Scenario(  # a laptop from stock handed to a person
        setup=_setup_laptop_in_stock,
        operations=lambda ctx, n: [
            {"op": "update_item", "item": ctx["lap"], "owner": "Iris van Dijk"},
            {"op": "set_status", "item": ctx["lap"], "status": "in_use"}],
        observe=lambda db, ctx: (lambda v: (v.core["status"], v.core["owner"]))(
            register.item_view(db, ctx["lap"])),
        before=lambda ctx: ("in_stock", None),
        after=lambda ctx: ("in_use", "Iris van Dijk"),
    ),
    "emergency-change": Scenario(  # a failed core switch swapped for a spare
        setup=_setup_core_switch,
        operations=lambda ctx, n: [
            {"op": "set_status", "item": ctx["switch"], "status": "maintenance"},
            {"op": "create_item", "ref": "spare", "class": "network.switch",
             "name": f"Spare core switch {n}", "serial_number": f"EMG-SPARE-{n}",
             "status": "in_use", "location": "Data centre"},
        ],
        observe=lambda db, ctx: (register.item_view(db, ctx["switch"]).core["status"],
                                 [(r.name, r.status) for r in rows_matching(db, "EMG-SPARE-0")]),
        before=lambda ctx: ("in_use", []),
        after=lambda ctx: ("maintenance", [("Spare core switch 0", "in_use")]),
    ),
    "hardware-receipt": Scenario(  # a delivered laptop put in the stock room, an ordered switch
        setup=_setup_stock_room_and_order,
        operations=lambda ctx, n: [
            laptop("lap", f"HR-LAP-{n}", status="in_stock"),
            {"op": "add_relation", "kind": "located_in", "source": "@lap", "target": ctx["room"]},
            {"op": "set_status", "item": ctx["switch"], "status": "in_stock"},
        ],
        observe=_receipt_view,
        before=lambda ctx: ("ordered", []),
        after=lambda ctx: ("in_stock", [("Laptop HR-LAP-0", "hardware.laptop", "in_stock",
                                         [("located_in", True, ctx["room"])])]),
    ),
    "cloud-instance-request": Scenario(
        setup=_setup_subscription,
        operations=_cloud_ops,
        observe=_cloud_view,
        before=lambda ctx: ("1000.00", []),
        after=lambda ctx: ("1300.00", [("app-0", "cloud.instance", "in_use", "CC-100",
                                        [("part_of", True, ctx["sub"])])]),
    ),
    "software-installation": Scenario(  # an upgrade: new installation, old one retired
        setup=_setup_installed_software,
        operations=_software_ops,
        observe=_software_view,
        before=lambda ctx: (["Visio 2016 installation"], "in_use"),
        after=lambda ctx: (["Visio 2024 installation #0"], "retired"),
    ),
    "asset-retirement": Scenario(
        setup=_setup_laptop_in_room,
        operations=lambda ctx, n: [
            {"op": "set_status", "item": ctx["lap"], "status": "retired"},
            {"op": "set_status", "item": ctx["lap"], "status": "disposed"},
            {"op": "update_item", "item": ctx["lap"], "location": "Recycling partner"},
            {"op": "remove_relation", "kind": "located_in", "source": ctx["lap"],
             "target": ctx["room"]},
        ],
        observe=_retirement_view,
        before=lambda ctx: ("in_use", "Floor 3", "alice",
                                  [("located_in", True, ctx["room"])]),
        after=lambda ctx: ("disposed", "Recycling partner", "alice", []),
    ),
}


def _sample_attributes(class_code: str) -> dict[str, Any]:
    samples = {"integer": 1, "decimal": "1.5", "money": "10.00", "boolean": True,
               "date": "2026-01-01"}
    specs = {s.code: s for s in load_class_specs()}
    parts = class_code.split(".")
    values: dict[str, Any] = {}
    for i in range(len(parts)):
        for a in specs[".".join(parts[: i + 1])].attributes:
            if a.required:
                values[a.name] = a.allowed[0] if a.allowed else samples.get(a.type.value, "x")
    return values


def fallback_scenario(d: ChangeModelSpec) -> Scenario:
    """For a newly shipped model without an entry in SCENARIOS: one item of a class it may make."""
    allowed = d.change_set.classes
    concrete = [s.code for s in load_class_specs() if not s.abstract and (
        allowed is None or any(s.code == c or s.code.startswith(c + ".") for c in allowed))]
    ops = set(d.change_set.operations)
    if not concrete or not ops & {"create_item", "set_status", "update_item"}:
        pytest.fail(f"{d.code}: add a Scenario for it to SCENARIOS in {Path(__file__).name}")
    code, tag = concrete[0], f"FALLBACK-{d.code}"
    attributes = _sample_attributes(code)
    if "create_item" in ops:
        return Scenario(
            operations=lambda ctx, n: [{"op": "create_item", "class": code, "name": f"{tag}-{n}",
                                        "asset_tag": f"{tag}-{n}", "attributes": attributes}],
            observe=lambda db, ctx: [(r.name, r.class_code) for r in rows_matching(db, f"{tag}-0")],
            before=lambda ctx: [], after=lambda ctx: [(f"{tag}-0", code)])

    def setup(db: Database) -> dict[str, str]:
        implement_normal_change(db, [{"op": "create_item", "class": code, "name": tag,
                                      "asset_tag": tag, "status": "in_use",
                                      "attributes": attributes}], SETUP_AT)
        return {"item": key_of(db, tag)}

    if "set_status" in ops:
        return Scenario(
            setup=setup,
            operations=lambda ctx, n: [{"op": "set_status", "item": ctx["item"],
                                        "status": "maintenance"}],
            observe=lambda db, ctx: register.item_view(db, ctx["item"]).core["status"],
            before=lambda ctx: "in_use", after=lambda ctx: "maintenance")
    return Scenario(
        setup=setup,
        operations=lambda ctx, n: [{"op": "update_item", "item": ctx["item"], "owner": f"o{n}"}],
        observe=lambda db, ctx: register.item_view(db, ctx["item"]).core["owner"],
        before=lambda ctx: None, after=lambda ctx: "o0")


# --- Walking a model --------------------------------------------------------------------------------

Edge = tuple[str, TransitionSpec]  # (source state, transition)


def settle(d: ChangeModelSpec, state: str) -> str:
    """Where a change comes to rest after entering ``state``: the engine fires automatic transitions
    (one that waits for approvals fires when they are in, so the change rests before it)."""
    for _ in range(10):
        auto = next((t for t in d.transitions_from(state) if t.auto and not t.needs_approvals),
                    None)
        if auto is None:
            return state
        state = auto.dest
    raise AssertionError(f"{d.code}: automatic transitions loop from {state}")


def manual_edges(d: ChangeModelSpec) -> list[Edge]:
    """The moves a walk makes: the manual ones, and the automatic ones approvals set off."""
    return [(src, t) for t in d.transitions if not t.auto or t.needs_approvals
            for src in t.source]


def routes(d: ChangeModelSpec) -> dict[str, list[Edge]]:
    """The shortest sequence of manual moves from registration to each state a change can rest in."""
    start = settle(d, d.initial)
    found: dict[str, list[Edge]] = {start: []}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        for t in d.transitions_from(here):
            if t.auto and not t.needs_approvals:
                continue
            there = settle(d, t.dest)
            if there not in found:
                found[there] = found[here] + [(here, t)]
                queue.append(there)
    return found


def plan_walks(d: ChangeModelSpec) -> list[list[Edge]]:
    """Walks that together fire every manual transition from every source state: first the
    shortest way to closed, then, for each transition not yet fired, the way to its source and it."""
    to = routes(d)
    closed = [s for s in to if d.step_of(s) is Step.CLOSED]
    assert closed, f"{d.code}: no way to a closed state"
    walks = [min((to[s] for s in closed), key=len)]
    fired = {(src, t.trigger) for src, t in walks[0]}
    for src, t in manual_edges(d):
        if (src, t.trigger) in fired:
            continue
        assert src in to, f"{d.code}: a change never rests in '{src}', so '{t.trigger}' can't fire"
        walk = to[src] + [(src, t)]
        walks.append(walk)
        fired |= {(s, tr.trigger) for s, tr in walk}
    return walks


def user_for(t: TransitionSpec) -> str:
    return USER_FOR_ROLE["change_coordinator"] if "change_coordinator" in t.roles \
        else USER_FOR_ROLE[t.roles[0]]


def user_without(roles: list[str]) -> str:
    return next(user for user, role in ROLE_OF_USER.items() if role not in roles)


@dataclass
class Walker:
    """Moves changes of one model through the service layer, as users would, checking each move."""

    db: Database
    d: ChangeModelSpec
    scenario: Scenario
    ctx: dict[str, str] = field(default_factory=dict)
    now: datetime = WALK_STARTS
    keys: list[str] = field(default_factory=list)

    def tick(self) -> datetime:
        self.now += timedelta(minutes=5)
        return self.now

    @property
    def cost(self) -> Decimal:
        """An estimate at the lowest cost limit the model sets (at most is at most)."""
        limits = [Decimal(str(g.params["amount"])) for t in self.d.transitions
                  for g in t.guards if g.name == "cost_at_most"]
        return min(limits, default=Decimal("250.00"))

    def expect(self, summary: changes.ChangeSummary, state: str) -> None:
        spec = self.d.state(state)
        assert (summary.model, summary.model_version, summary.change_class) == \
            (self.d.code, self.d.version, self.d.change_class.value)
        assert (summary.state, summary.step, summary.state_label) == \
            (state, spec.step.value, spec.title), f"{summary.key} should be in {state}"
        assert not summary.overdue

    def register(self, n: int | None = None) -> str:
        n = len(self.keys) if n is None else n
        summary = changes.register_change(
            self.db, "carol", model=self.d.code, title=f"{self.d.name} #{n}",
            operations=self.scenario.operations(self.ctx, n), reason="test walk",
            now=self.tick())
        self.expect(summary, settle(self.d, self.d.initial))
        self.keys.append(summary.key)
        return summary.key

    def satisfy(self, key: str, t: TransitionSpec) -> changes.ChangeSummary | None:
        """Fill in what the transition's guards ask for, and give the approvals it needs; the
        change as the last approval left it, if any was given."""
        values: dict[str, Any] = {}
        model_fields: dict[str, Any] = {}
        samples: dict[str, Any] = {
            "description": "Walked by the shipped-definitions test", "reason": "test walk",
            "risk": "low", "impact": "one component, no service outage",
            "cost_estimate": str(self.cost), "coordinator": "carol",
            "planned_start": self.now + timedelta(minutes=30),
            "planned_end": self.now + timedelta(hours=2), "outcome": "successful",
        }
        for g in t.guards:
            if g.name == "required_fields":
                for name in g.params["fields"]:
                    if name in CHANGE_FIELDS:
                        assert name in samples, f"the test cannot fill in {name}"
                        values[name] = samples[name]
                    else:
                        model_fields[name] = f"{name} for {key}"
            elif g.name == "risk_at_most":
                values["risk"] = "low"
            elif g.name == "cost_at_most":
                values["cost_estimate"] = str(self.cost)
            elif g.name == "window_planned":
                values["planned_start"] = samples["planned_start"]
                values["planned_end"] = samples["planned_end"]
            elif g.name == "outcome_recorded":
                values["outcome"] = "successful"
        if model_fields:
            values["fields"] = model_fields
        if values:
            changes.update_change(self.db, key, "carol", values, now=self.tick())
        summary = None
        for g in t.guards:
            if g.name == "approvals":
                approvers = [u for u, role in ROLE_OF_USER.items() if role in self.d.approvers]
                assert len(approvers) >= g.params["count"], f"{self.d.code}: too few approvers"
                for n, user in enumerate(approvers[: g.params["count"]], start=1):
                    summary = changes.approve_change(self.db, key, user, now=self.tick())
                    last = n == g.params["count"]
                    # The last approval an automatic transition waits for fires it.
                    assert (summary.step == Step.AUTHORISATION.value) != (last and t.auto)
        return summary

    def fire(self, key: str, src: str, t: TransitionSpec) -> changes.ChangeSummary:
        approved = self.satisfy(key, t)
        summary = approved if t.auto and approved is not None else \
            changes.move_change(self.db, key, t.trigger, user_for(t), now=self.tick())
        self.expect(summary, settle(self.d, t.dest))
        return summary

    def walk(self, edges: list[Edge], *, n: int | None = None, observe: bool = False) -> str:
        key = self.register(n)
        for src, t in edges:
            implements = self.d.step_of(t.dest) is Step.IMPLEMENTATION
            if observe and implements:
                assert self.scenario.observe(self.db, self.ctx) == self.scenario.before(self.ctx), \
                    "the register changed before implementation"
            self.fire(key, src, t)
            if observe and implements:
                assert self.scenario.observe(self.db, self.ctx) == self.scenario.after(self.ctx), \
                    "implementation did not register the change set as expected"
                last = changes.change_detail(self.db, key).log[-1]
                assert last.to_step == Step.IMPLEMENTATION.value and "register:" in last.comment
        return key

    def walk_to(self, state: str) -> str:
        return self.walk(routes(self.d)[state])


def walker(db: Database, path: Path) -> Walker:
    d = load(path)
    scenario = SCENARIOS.get(d.code) or fallback_scenario(d)
    return Walker(db, d, scenario, scenario.setup(db))


# --- Tests ------------------------------------------------------------------------------------------

def test_the_product_ships_the_expected_models() -> None:
    assert {p.stem for p in SHIPPED} >= {
        "normal-change", "standard-change", "emergency-change", "hardware-receipt",
        "cloud-instance-request", "software-installation", "asset-retirement", "check-out"}


@pytest.mark.parametrize("path", SHIPPED, ids=_ids(SHIPPED))
def test_definition_is_valid_and_complete(path: Path) -> None:
    d = load(path)

    assert d.code == path.stem
    assert d.version == 1 and d.name and d.description
    steps = [s.step for s in d.states]
    assert all(step in steps for step in (*SKELETON, Step.CLOSED, Step.REJECTED))
    for s in d.states:
        assert s.label, f"state {s.name} has no label"
        if s.step in FINAL:
            assert s.time_target_hours is None, f"final state {s.name} has a time target"
        else:
            assert s.time_target_hours, f"working state {s.name} has no time target"
    for t in d.transitions:
        assert t.label, f"transition {t.trigger} has no label"
        assert set(t.roles) <= set(ROLES)
    assert set(d.approvers) <= set(ROLES)
    if d.pre_authorised:
        assert not d.approvers
        assert any(t.auto for t in d.transitions if d.authorising(t))


@pytest.mark.parametrize("path", SHIPPED, ids=_ids(SHIPPED))
def test_every_transition_can_be_walked(db: Database, path: Path) -> None:
    w = walker(db, path)
    walks = plan_walks(w.d)

    # The other walks first: their change sets are planned against the register before the
    # walk to closed implements its own (which, for a retirement, disposes of their item).
    for n, edges in enumerate(walks[1:], start=1):
        w.walk(edges, n=n)
    happy = w.walk(walks[0], n=0, observe=True)

    detail = changes.change_detail(db, happy)
    assert detail.summary.step == Step.CLOSED.value and detail.outcome == "successful"
    assert [status for _, _, status in detail.steps] == ["done"] * len(SKELETON)
    assert [op["op"] for op in detail.operations] == \
        [op["op"] for op in w.scenario.operations(w.ctx, 0)]
    # Every transition of the model, manual or automatic, from every source state, was taken by
    # some change, as its log shows.
    taken = {(row.from_state, row.trigger, row.to_state)
             for key in w.keys for row in changes.change_detail(db, key).log}
    expected = {(src, t.trigger, t.dest) for t in w.d.transitions for src in t.source}
    assert expected - taken == set()
    # Only the change walked to closed implemented anything; the others left the register alone.
    assert w.scenario.observe(db, w.ctx) == w.scenario.after(w.ctx)
    finals = [changes.change_detail(db, key).summary.step for key in w.keys]
    assert finals.count(Step.CLOSED.value) == 1


@pytest.mark.parametrize("path", SHIPPED, ids=_ids(SHIPPED))
def test_refused_transitions_name_the_reason(db: Database, path: Path) -> None:
    w = walker(db, path)
    key = w.register()
    here = settle(w.d, w.d.initial)
    possible = [t.trigger for t in w.d.transitions_from(here) if not t.auto]
    log_before = len(changes.change_detail(db, key).log)

    # From the wrong state: implementing straight after registration.
    implementing = next(t for t in w.d.transitions
                        if w.d.step_of(t.dest) is Step.IMPLEMENTATION and here not in t.source)
    with pytest.raises(TransitionRefused) as refused:
        changes.move_change(db, key, implementing.trigger, user_for(implementing), now=w.tick())
    assert str(refused.value) == (
        f"{key}: cannot {implementing.trigger}: not possible from {here} "
        f"({w.d.step_of(here)}); possible now: {', '.join(possible)}")

    # By a user without the role the transition names.
    first = next(t for t in w.d.transitions_from(here) if not t.auto)
    w.satisfy(key, first)
    outsider = user_without(first.roles)
    with pytest.raises(TransitionRefused) as refused:
        changes.move_change(db, key, first.trigger, outsider, now=w.tick())
    assert refused.value.reasons == [f"only {', '.join(first.roles)} may {first.trigger}"]
    assert f"cannot {first.trigger}: only" in str(refused.value)

    # Neither attempt moved the change or left a trace in its log.
    detail = changes.change_detail(db, key)
    assert (detail.summary.state, len(detail.log)) == (here, log_before)
    # The rightful user still can.
    w.expect(changes.move_change(db, key, first.trigger, user_for(first), now=w.tick()),
             settle(w.d, first.dest))


def _entering_authorisation(d: ChangeModelSpec) -> TransitionSpec:
    return next(t for t in d.transitions if d.step_of(t.dest) is Step.AUTHORISATION
                and any(d.step_of(s) is not Step.AUTHORISATION for s in t.source))


@pytest.mark.parametrize("path", STANDARD, ids=_ids(STANDARD))
def test_standard_model_authorises_within_its_limits(db: Database, path: Path) -> None:
    w = walker(db, path)
    entering = _entering_authorisation(w.d)
    src = next(s for s in entering.source if s in routes(w.d))
    key = w.walk_to(src)
    w.satisfy(key, entering)
    limits = {g.name: g.params for g in entering.guards}

    # Beyond the model's limits it is not a standard change: the engine refuses, naming the limit.
    if "cost_at_most" in limits:
        amount = Decimal(str(limits["cost_at_most"]["amount"]))
        changes.update_change(db, key, "carol", {"cost_estimate": str(amount + 1)}, now=w.tick())
        with pytest.raises(TransitionRefused, match="above this model's limit of"):
            changes.move_change(db, key, entering.trigger, "carol", now=w.tick())
        changes.update_change(db, key, "carol", {"cost_estimate": str(amount)}, now=w.tick())
    if "risk_at_most" in limits:
        changes.update_change(db, key, "carol", {"risk": "high"}, now=w.tick())
        with pytest.raises(TransitionRefused, match=r"risk high is above this model's limit \("):
            changes.move_change(db, key, entering.trigger, "carol", now=w.tick())
        changes.update_change(db, key, "carol", {"risk": limits["risk_at_most"]["level"]},
                              now=w.tick())
    assert changes.change_detail(db, key).summary.state == src

    # Within them, authorisation passes on its own and lands the change in planning.
    moved_at = w.tick()
    summary = changes.move_change(db, key, entering.trigger, "carol", now=moved_at)
    assert summary.step == Step.PLANNING.value

    detail = changes.change_detail(db, key, "carol")
    model = f"model:{w.d.code} v{w.d.version}"
    assert [(a.approver, a.decision, a.automatic, a.round, a.at) for a in detail.approvals] == \
        [(model, "approved", True, 1, moved_at)]
    auto = next(t for t in w.d.transitions_from(entering.dest) if t.auto)
    assert [(r.actor, r.trigger, r.from_state, r.to_state) for r in detail.log[-2:]] == [
        ("carol", entering.trigger, src, entering.dest),
        (model, auto.trigger, entering.dest, auto.dest)]
    assert dict((s, status) for s, _, status in detail.steps)["authorisation"] == "done"
    assert auto.trigger not in [o.trigger for o in detail.options]
    # Nobody approves a standard change by hand.
    with pytest.raises(ChangeError, match="approvals are given in authorisation"):
        changes.approve_change(db, key, "sam", now=w.tick())


@pytest.mark.parametrize("path", NOT_STANDARD, ids=_ids(NOT_STANDARD))
def test_non_standard_model_waits_for_its_approvers(db: Database, path: Path) -> None:
    w = walker(db, path)
    authorising = next(t for t in w.d.transitions if w.d.authorising(t))
    src = next(s for s in authorising.source if s in routes(w.d))
    key = w.walk_to(src)
    count = next(g.params["count"] for g in authorising.guards if g.name == "approvals")

    waiting = changes.change_detail(db, key).waiting
    assert waiting is not None and (waiting.needed, waiting.given) == (count, 0)
    assert authorising.auto, "the shipped models move on by themselves once approved"
    with pytest.raises(TransitionRefused, match=f"not possible from {src}"):
        changes.move_change(db, key, authorising.trigger, "carol", now=w.tick())
    outsider = user_without(w.d.approvers)
    with pytest.raises(ChangeError, match=f"only {', '.join(w.d.approvers)} may approve"):
        changes.approve_change(db, key, outsider, now=w.tick())
    approver = next(u for u, role in ROLE_OF_USER.items() if role in w.d.approvers)
    changes.approve_change(db, key, approver, approve=False, comment="not now", now=w.tick())

    # The approver's rejection is the model's Reject from here, with their reason in the log.
    detail = changes.change_detail(db, key)
    assert detail.summary.step == Step.REJECTED.value
    assert (detail.log[-1].actor, detail.log[-1].comment) == (approver, "not now")
    assert [(a.approver, a.decision, a.automatic) for a in detail.approvals] == \
        [(approver, "rejected", False)]


def _back_past_authorisation(path: Path) -> list[Edge]:
    """Manual moves of a model that take a change from after authorisation back to before it."""
    d = load(path)
    after = {Step.PLANNING, Step.REALISATION}
    before = {Step.REGISTRATION, Step.ASSESSMENT}
    return [(src, t) for src, t in manual_edges(d)
            if d.step_of(src) in after and d.step_of(t.dest) in before]


REAUTHORISED = [p for p in STANDARD if _back_past_authorisation(p)]


@pytest.mark.parametrize("path", REAUTHORISED, ids=_ids(REAUTHORISED))
def test_standard_change_sent_back_is_authorised_again_in_a_new_round(db: Database,
                                                                      path: Path) -> None:
    w = walker(db, path)
    src, back = _back_past_authorisation(path)[0]
    key = w.walk(routes(w.d)[src] + [(src, back)])
    # Once more the way from where it was sent back to the authorisation it passed before.
    to = routes(w.d)
    assert to[src][: len(to[back.dest])] == to[back.dest]
    for edge_src, t in to[src][len(to[back.dest]):]:
        w.fire(key, edge_src, t)

    model = f"model:{w.d.code} v{w.d.version}"
    approvals = changes.change_detail(db, key).approvals
    assert [(a.approver, a.automatic, a.round) for a in approvals] == \
        [(model, True, 1), (model, True, 2)]
