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

from flask_babel import gettext as _
from markupsafe import Markup

from usm.services import accounts, change_models, changes, reports
from usm.services.platform import Database
from usm.services.reports import finance, licences
from web.support import access
from web.support.charts import Series, bar_chart, column_chart
from web.support.formatting import money
from web.support.vocabulary import ROLE_LABELS, ui

MAX_BARS = 10


@dataclass(frozen=True)
class Panel:
    title: str
    chart: Markup
    endpoint: str  # the screen behind the figure
    link_text: str  # the whole link, e.g. "See the finance report"


def _money(currency: str | None) -> Callable[[int | Decimal], str]:
    return lambda amount: money(amount, currency)


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
    # Amounts without a currency are not totalled anywhere (data quality lists their items).
    for currency, data in sorted((c, d) for c, d in _per_currency(rows).items() if c):
        heading = f"{title} ({currency})"
        panels.append(Panel(heading, bar_chart(data, title=heading, value_format=_money(currency),
                                               value_header=currency), endpoint, link_text))
    return panels


def _expiries(db: Database, today: date) -> Panel:
    months = reports.lifecycle_report(db, today).months
    title = _("Warranty and lease expiries per month")
    chart = column_chart([m.month.strftime("%Y-%m") for m in months],
                         [Series(_("Warranty ends"), [m.warranty for m in months]),
                          Series(_("Lease ends"), [m.lease for m in months])], title=title)
    return Panel(title, chart, "reports.lifecycle", _("See the lifecycle report"))


def owner_panels(db: Database, today: date) -> list[Panel]:
    book = finance.book_values(db, finance.day_end(today))
    start, end = finance.default_period(today)
    costs = finance.service_costs(db, start, end)
    # Positions with entitlements: free software and unlicensed installs are no bar to compare
    positions = licences.licence_position(db, today).entitled_positions[:MAX_BARS]
    licence_title = _("Licence position: entitled and consumed")
    licence_chart = column_chart(
        [f"{p.product} ({p.metric})" for p in positions],
        [Series(_("Entitled"), [p.entitled for p in positions]),
         Series(_("Consumed"), [p.consumed for p in positions])],
        title=licence_title, stacked=False)
    return [
        *_money_panels(_("Book value by class"), ((g.label, g.currency, g.book_value)
                                                  for g in book.by_class),
                       "reports.finance_page", _("See the finance report")),
        *_money_panels(_("Cost per service, %(start)s to %(end)s", start=f"{start:%Y-%m}",
                         end=f"{end - timedelta(days=1):%Y-%m}"),
                       ((c.label, c.currency, c.total) for c in costs),
                       "reports.finance_page", _("See the finance report")),
        Panel(licence_title, licence_chart, "reports.licences", _("See the licence report")),
        _expiries(db, today),
    ]


def coordinator_panels(db: Database, today: date) -> list[Panel]:
    queue = changes.change_queue(db, changes.ChangeFilter(open_only=True), limit=1)
    overdue = changes.change_queue(db, changes.ChangeFilter(overdue_only=True), limit=1).total
    title = _("Open changes per step (%(overdue)s overdue)", overdue=overdue)
    chart = bar_chart([(ui(label), count) for _step, label, count in queue.by_step], title=title,
                      value_header=_("Changes"))
    return [Panel(title, chart, "changes.queue", _("See the change queue")), _expiries(db, today)]


def designer_panels(db: Database) -> list[Panel]:
    models = change_models.list_change_models(db)
    data = sorted(((m.name, sum(v.change_count for v in m.versions)) for m in models),
                  key=lambda r: (-r[1], r[0]))[:MAX_BARS]
    title = _("Changes per change model (all versions)")
    return [Panel(title, bar_chart(data, title=title, value_header=_("Changes")),
                  "change_models.definitions", _("See the change models"))]


def admin_panels(db: Database) -> list[Panel]:
    counts = Counter(role for u in accounts.list_users(db) if u.active for role in u.roles)
    data = [(str(ROLE_LABELS.get(code, label)), counts.get(code, 0))
            for code, label in accounts.ROLES.items()]
    title = _("Active users per role")
    return [Panel(title, bar_chart(data, title=title, value_header=_("Users")), "accounts.users",
                  _("See the users"))]


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
