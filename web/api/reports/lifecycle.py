"""The lifecycle and spares reports over the API: the same figures as the report pages."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal

from usm.services import reports
from usm.services.reports import LifecycleItem
from usm.services.user_input import InputError, parse_day
from web.api.auth import roles_required
from web.api.blueprint import bp
from web.api.errors import ApiError
from web.api.schemas.reports.lifecycle import (
    AgreedLevelOut,
    DeliveryOut,
    EndOfLifeOut,
    ExpiryOut,
    LifecycleOut,
    LifecycleQuery,
    MissingDataOut,
    MonthOut,
    ProbabilityOut,
    RecordedFailureOut,
    ReplacementOut,
    SparesOut,
    SparesQueryIn,
    StatusCount,
    StockOut,
)
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database

TAGS = ["reports"]


def _item(item: LifecycleItem) -> dict[str, str | None]:
    return asdict(item)


def _text(value: Decimal | None, places: int = 2) -> str | None:
    return None if value is None else f"{value:.{places}f}"


@bp.get("/reports/lifecycle")
@roles_required(*access.REPORT_READERS)
@api_spec.validate(query=LifecycleQuery, resp=responses(HTTP_200=LifecycleOut), tags=TAGS,
                   operation_id="getLifecycleReport")
def lifecycle_report(query: LifecycleQuery) -> LifecycleOut:
    """Lifecycle: expiries, end of life, stock, data quality, counts by status

    With the register as it stood at the end of `as_of` (UTC; today by default): warranties and
    leases ending within `days`, items past end of life, stock per class and location, items in
    use without owner or cost centre, counts by status and expiries per month for twelve months.
    """
    report = reports.lifecycle_report(database(), query.as_of or parse_day(None), query.days)
    return LifecycleOut(
        as_of=report.as_of, days=report.days, until=report.until,
        expiring=[ExpiryOut(**_item(e.item), kind=e.kind, ends_on=e.ends_on,
                            days_left=e.days_left) for e in report.expiring],
        past_end_of_life=[EndOfLifeOut(**_item(p.item), end_of_life=p.end_of_life,
                                       days_past=p.days_past) for p in report.past_end_of_life],
        stock=[StockOut(**asdict(s)) for s in report.stock],
        data_quality=[MissingDataOut(**_item(m.item), missing=list(m.missing))
                      for m in report.data_quality],
        status_counts=[StatusCount(status=s, count=n) for s, n in report.status_counts],
        expiries_by_month=[MonthOut(month=m.month.strftime("%Y-%m"), warranty=m.warranty,
                                    lease=m.lease) for m in report.months])


@bp.get("/reports/spares")
@roles_required(*access.REPORT_READERS)
@api_spec.validate(query=SparesQueryIn, resp=responses(HTTP_200=SparesOut), tags=TAGS,
                   operation_id="getSparesReport")
def spares_report(query: SparesQueryIn) -> SparesOut:
    """Spares: the Poisson base stock a pool needs, against its stock on hand

    A pool is an item class (subclasses included) at a location (or every location). Measured
    from the register unless given, each with the changes it came from: the installed base; the
    replacement rate, failures (devices moved from in use to maintenance, or to retired with the
    reason failure or lost_or_stolen) per device per day over the observed days (the window, or
    fewer when the pool was registered later); the lead time, the mean order-to-delivery time per
    delivered device of the class (from its ordered status to its in-stock status, or the order
    and delivery dates its hardware receipt records); the service level, the highest agreed level
    of the services the pool's devices support (else 95). Demand during the lead time is
    `base x rate x lead time x (1 + growth)`, and `spares_needed` the smallest S with
    P(Poisson(demand) <= S) >= the service level.
    """
    try:
        report = reports.spares_report(database(), reports.SparesQuery(
            class_code=query.class_code, location=query.location, as_of=query.as_of,
            window_days=query.window_days, rate_percent_per_year=query.rate_percent,
            lead_time_days=query.lead_time_days, growth_percent=query.growth_percent,
            service_level_percent=query.service_level))
    except InputError as exc:
        raise ApiError(422, "validation_failed", str(exc), [(exc.field, exc.message)]) from None
    q = report.query
    return SparesOut(
        as_of=report.as_of, class_code=q.class_code, class_name=report.class_name,
        location=q.location, window_days=q.window_days, window_start=report.window_start,
        installed_base=report.installed_base, stock_on_hand=report.stock_on_hand,
        observed_from=report.observed_from, observed_days=report.observed_days,
        observation_short=report.observation_short,
        replacements=[ReplacementOut(**asdict(r)) for r in report.replacements],
        failures_from=report.failures_from, failures_counted=report.failures_counted,
        recorded_failures=[RecordedFailureOut(**asdict(f)) for f in report.recorded_failures],
        not_counted=[ReplacementOut(**asdict(r)) for r in report.not_counted],
        measured_rate_per_day=_text(report.measured_rate_per_day, 12),
        rate_per_day=_text(report.rate_per_day, 12), rate_given=report.rate_given,
        deliveries=[DeliveryOut(**asdict(d), days=_text(d.days), problem=d.problem)
                    for d in report.deliveries],
        deliveries_in_window=report.deliveries_in_window,
        delivered_devices_measured=report.devices_measured,
        measured_lead_time_days=_text(report.measured_lead_days),
        lead_time_days=_text(report.lead_days), lead_given=report.lead_given,
        growth_percent=str(q.growth_percent), service_level_percent=str(report.service_level),
        service_level_from=report.service_level_from,
        agreed_service_levels=[AgreedLevelOut(
            service_key=a.service_key, service_name=a.service_name, percent=str(a.percent),
            usable=a.usable, used=a in report.services_used) for a in report.agreed_levels],
        demand=_text(report.demand, 4), spares_needed=report.spares_needed,
        shortfall=report.shortfall, stock_service_level=report.stock_service_level,
        cumulative=[ProbabilityOut(k=k, probability=p) for k, p in report.cumulative])
