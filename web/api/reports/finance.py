"""The finance report over the API: book values at a day, an item's depreciation schedule, total
cost of ownership per service and cost per cost centre over whole months, disposals."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from usm.services.reports import finance
from web.api.auth import roles_required
from web.api.blueprint import bp
from web.api.schemas.common import money_text
from web.api.schemas.reports.finance import (
    BookValueQuery,
    BookValues,
    CostLineOut,
    DayQuery,
    DepreciationSchedule,
    DisposalOut,
    Disposals,
    GroupTotalOut,
    ItemBookValueOut,
    PeriodCosts,
    PeriodOut,
    PeriodQuery,
)
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database

TAGS = ["reports"]


def _today(day: date | None) -> date:
    return day or datetime.now(UTC).date()


def _group(g: finance.GroupTotal) -> GroupTotalOut:
    return GroupTotalOut(group=g.group, label=g.label, currency=g.currency, items=g.items,
                         cost=f"{g.cost:.2f}", depreciated=f"{g.depreciated:.2f}",
                         book_value=f"{g.book_value:.2f}")


@bp.get("/reports/finance/book-values")
@roles_required(*access.REPORT_READERS)
@api_spec.validate(query=BookValueQuery, resp=responses(HTTP_200=BookValues), tags=TAGS,
                   operation_id="getBookValues")
def book_values(query: BookValueQuery) -> BookValues:
    """Book value of the items held at the end of a day

    Each item as the register held it then (cost, residual, method, dates); disposed items hold
    none. Optionally only a class, a cost centre, or the items supporting a service. Totals per
    class, per cost centre and overall, each per currency.
    """
    day = _today(query.as_of)
    report = finance.book_values(database(), finance.day_end(day),
                                 class_code=query.class_code, cost_centre=query.cost_centre,
                                 service_key=query.service)
    return BookValues(
        as_of=day,
        items=[ItemBookValueOut(
            key=i.key, name=i.name, class_code=i.class_code, status=i.status,
            cost_centre=i.cost_centre, currency=i.currency, method=i.method, start=i.start,
            cost=f"{i.cost:.2f}", depreciated=f"{i.depreciated:.2f}",
            book_value=f"{i.book_value:.2f}") for i in report.items],
        totals=[_group(g) for g in report.totals],
        by_class=[_group(g) for g in report.by_class],
        by_cost_centre=[_group(g) for g in report.by_cost_centre])


@bp.get("/reports/finance/items/<key>/depreciation")
@roles_required(*access.REPORT_READERS)
@api_spec.validate(query=DayQuery, resp=responses("HTTP_404", HTTP_200=DepreciationSchedule),
                   tags=TAGS, operation_id="getDepreciationSchedule")
def depreciation_schedule(key: str, query: DayQuery) -> DepreciationSchedule:
    """An item's depreciation schedule and its book value at the end of a day

    The schedule of the item as registered then; 404 when it did not exist yet.
    """
    day = _today(query.as_of)
    item = finance.item_schedule(database(), key, finance.day_end(day))
    terms = item.terms
    return DepreciationSchedule(
        key=item.key, name=item.name, as_of=day, currency=item.currency,
        cost=money_text(terms.cost) if terms else None,
        residual_value=money_text(terms.residual) if terms else None,
        method=terms.method if terms else None, months=terms.months if terms else None,
        start=terms.start if terms else None, book_value=money_text(item.book_value),
        disposed=item.disposed,
        periods=[PeriodOut(number=p.number, start=p.start, end=p.end,
                           opening=f"{p.opening:.2f}", amount=f"{p.amount:.2f}",
                           closing=f"{p.closing:.2f}") for p in item.periods])


def _period(query: PeriodQuery) -> tuple[date, date]:
    start, end = finance.default_period(_today(None))
    return query.start or start, query.end or end


def _costs(query: PeriodQuery, lines_of) -> PeriodCosts:  # type: ignore[no-untyped-def]
    start, end = _period(query)
    lines = lines_of(database(), start, end)
    return PeriodCosts(start=start, end=end, lines=[
        CostLineOut(group=c.group, label=c.label, currency=c.currency, items=c.items,
                    depreciation=f"{c.depreciation:.2f}", recurring=f"{c.recurring:.2f}",
                    total=f"{c.total:.2f}") for c in lines])


@bp.get("/reports/finance/services")
@roles_required(*access.REPORT_READERS)
@api_spec.validate(query=PeriodQuery, resp=responses(HTTP_200=PeriodCosts), tags=TAGS,
                   operation_id="getServiceCosts")
def service_costs(query: PeriodQuery) -> PeriodCosts:
    """Total cost of ownership per service over whole months

    Per month, the items supporting each service at the month's end carry the depreciation
    booked that month and their recurring cost (quarterly / 3, yearly / 12, while held). An item
    supporting several services is split evenly unless its supports relation has a `share`.
    `group` is the service key. Per currency.
    """
    return _costs(query, finance.service_costs)


@bp.get("/reports/finance/cost-centres")
@roles_required(*access.REPORT_READERS)
@api_spec.validate(query=PeriodQuery, resp=responses(HTTP_200=PeriodCosts), tags=TAGS,
                   operation_id="getCostCentreCosts")
def cost_centre_costs(query: PeriodQuery) -> PeriodCosts:
    """Cost per cost centre over whole months

    Depreciation booked and recurring cost, charged each month to the cost centre the item had
    at the month's end (`group` is '' for items without one). Per currency.
    """
    return _costs(query, finance.cost_centre_costs)


@bp.get("/reports/finance/disposals")
@roles_required(*access.REPORT_READERS)
@api_spec.validate(query=PeriodQuery, resp=responses(HTTP_200=Disposals), tags=TAGS,
                   operation_id="getDisposals")
def disposals(query: PeriodQuery) -> Disposals:
    """Items disposed of in a period, with gain or loss

    Gain or loss is the item's disposal proceeds less its book value when a change set its
    status to disposed.
    """
    start, end = _period(query)
    finance.months_of(start, end)
    found = finance.disposals(database(), datetime.combine(start, time(), UTC),
                              datetime.combine(end, time(), UTC))
    return Disposals(start=start, end=end, disposals=[
        DisposalOut(key=d.key, name=d.name, class_code=d.class_code, disposed_at=d.disposed_at,
                    change_key=d.change_key, currency=d.currency, cost=money_text(d.cost),
                    book_value=f"{d.book_value:.2f}", proceeds=f"{d.proceeds:.2f}",
                    gain=f"{d.gain:.2f}") for d in found])
