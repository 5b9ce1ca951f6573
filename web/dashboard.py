"""The home page's charts, one set per role: what each role comes to look at first.

- Service owners: book value by class, cost per service this year, the licence position and the
  warranty and lease expiries per month: every figure from the register, today.
- Change coordinators: open changes per CHM step (with the overdue ones), and the expiries per
  month, which become receipts and retirements.
- Process designers: changes per change model.
- Administrators: active users per role.

Each panel links to the screen or report behind it. Money is charted per currency: amounts in
different currencies are never added up.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from markupsafe import Markup

from usm.services import changes, definitions, finance, licences, lifecycle, users
from usm.services.database import Database
from web import access
from web.charts import Series, bar_chart, column_chart, value_text

MAX_BARS = 10


@dataclass(frozen=True)
class Panel:
    title: str
    chart: Markup
    endpoint: str  # the screen behind the figure
    link_text: str


def _money(currency: str | None) -> Callable[[int | Decimal], str]:
    return lambda amount: f"{value_text(amount)} {currency or ''}".strip()


def _per_currency(rows: Iterable[tuple[str, str | None, Decimal]]
                  ) -> dict[str | None, list[tuple[str, Decimal]]]:
    by_currency: dict[str | None, list[tuple[str, Decimal]]] = defaultdict(list)
    for label, currency, amount in rows:
        by_currency[currency].append((label, amount))
    return {c: sorted(rows, key=lambda r: (-r[1], r[0]))[:MAX_BARS]
            for c, rows in by_currency.items()}


def _money_panels(title: str, rows: Iterable[tuple[str, str | None, Decimal]], endpoint: str,
                  link_text: str) -> list[Panel]:
    panels = []
    for currency, data in sorted(_per_currency(rows).items(), key=lambda c: c[0] or ""):
        heading = f"{title} ({currency or 'no currency'})"
        panels.append(Panel(heading, bar_chart(data, title=heading, value_format=_money(currency),
                                               value_header=currency or "Amount"),
                            endpoint, link_text))
    return panels


def _expiries(db: Database, today: date) -> Panel:
    months = lifecycle.lifecycle_report(db, today).months
    title = "Warranty and lease expiries per month"
    chart = column_chart([m.month.strftime("%Y-%m") for m in months],
                         [Series("Warranty ends", [m.warranty for m in months]),
                          Series("Lease ends", [m.lease for m in months])], title=title)
    return Panel(title, chart, "reports.lifecycle", "Lifecycle report")


def owner_panels(db: Database, today: date) -> list[Panel]:
    book = finance.book_values(db, finance.day_end(today))
    start, end = finance.default_period(today)
    costs = finance.service_costs(db, start, end)
    positions = licences.licence_position(db, today).positions[:MAX_BARS]
    licence_title = "Licence position: entitled and consumed"
    licence_chart = column_chart(
        [f"{p.product} ({p.metric})" for p in positions],
        [Series("Entitled", [p.entitled for p in positions]),
         Series("Consumed", [p.consumed for p in positions])],
        title=licence_title, stacked=False)
    return [
        *_money_panels("Book value by class", ((g.label, g.currency, g.book_value)
                                               for g in book.by_class),
                       "reports.finance_page", "Finance report"),
        *_money_panels(f"Cost per service, {start:%Y-%m} to {end - timedelta(days=1):%Y-%m}",
                       ((c.label, c.currency, c.total) for c in costs),
                       "reports.finance_page", "Finance report"),
        Panel(licence_title, licence_chart, "reports.licences", "Licence report"),
        _expiries(db, today),
    ]


def coordinator_panels(db: Database, today: date) -> list[Panel]:
    queue = changes.change_queue(db, changes.ChangeFilter(open_only=True), limit=1)
    overdue = changes.change_queue(db, changes.ChangeFilter(overdue_only=True), limit=1).total
    title = f"Open changes per step ({overdue} overdue)"
    chart = bar_chart([(label, count) for _step, label, count in queue.by_step], title=title,
                      value_header="Changes")
    return [Panel(title, chart, "changes.queue", "Change queue"), _expiries(db, today)]


def designer_panels(db: Database) -> list[Panel]:
    models = definitions.list_models(db)
    data = sorted(((m.name, sum(v.change_count for v in m.versions)) for m in models),
                  key=lambda r: (-r[1], r[0]))[:MAX_BARS]
    title = "Changes per change model (all versions)"
    return [Panel(title, bar_chart(data, title=title, value_header="Changes"),
                  "designer.definitions", "Change models")]


def admin_panels(db: Database) -> list[Panel]:
    counts = Counter(role for u in users.list_users(db) if u.active for role in u.roles)
    data = [(label, counts.get(code, 0)) for code, label in users.ROLES.items()]
    title = "Active users per role"
    return [Panel(title, bar_chart(data, title=title, value_header="Users"), "admin.users",
                  "Users")]


def panels_for(db: Database, roles: set[str], today: date) -> list[Panel]:
    """The panels of every role the user holds, each once."""
    found: list[Panel] = []
    if access.SERVICE_OWNER in roles:
        found += owner_panels(db, today)
    if access.COORDINATOR in roles:
        found += coordinator_panels(db, today)
    if access.DESIGNER in roles:
        found += designer_panels(db)
    if access.ADMINISTRATOR in roles:
        found += admin_panels(db)
    unique: dict[str, Panel] = {}
    for panel in found:
        unique.setdefault(panel.title, panel)
    return list(unique.values())
