"""The licence position (software asset management) over the API: per product and metric, and
one product's entitlements and installations behind its figures, as of any day."""

from __future__ import annotations

from typing import Any

from usm.services.reports import licences
from web.api.auth import roles_required
from web.api.blueprint import bp
from web.api.schemas.common import money_text
from web.api.schemas.reports.licences import (
    CostTotalOut,
    DeviceOut,
    EntitlementOut,
    InstallationOut,
    LicencePosition,
    LicenceQuery,
    PositionDetail,
    PositionOut,
    ProductLicences,
)
from web.api.spec import api_spec, responses
from web.support import access
from web.support.context import database

TAGS = ["reports"]


@bp.get("/reports/licences")
@roles_required(*access.REPORT_READERS)
@api_spec.validate(query=LicenceQuery, resp=responses(HTTP_200=LicencePosition), tags=TAGS,
                   operation_id="getLicencePosition")
def licence_position(query: LicenceQuery) -> LicencePosition:
    """The licence position per product and metric

    Entitled, consumed, surplus or shortfall and the cost of the shortfall, with the register as
    it stood at the end of `as_of` (UTC; today by default). `rules` says how each metric counts.
    Each position says its `kind`: `entitled` (the product holds entitlements), `unlicensed`
    (installed without any entitlement: a shortfall without a price) or `no_licence_needed` (its
    software product's `licensing` is free, open_source or bundled: never a shortfall). A product
    is marked by a change that updates its software product item's `licensing` attribute.
    """
    report = licences.licence_position(database(), query.as_of)
    return LicencePosition(
        as_of=report.day, positions=[PositionOut(**_position(p)) for p in report.positions],
        shortfall_costs=[CostTotalOut(currency=t.currency, amount=f"{t.amount:.2f}")
                         for t in report.shortfall_costs],
        rules=licences.METRIC_RULES)


@bp.get("/reports/licences/products/<product>")
@roles_required(*access.REPORT_READERS)
@api_spec.validate(query=LicenceQuery, resp=responses("HTTP_404", HTTP_200=ProductLicences),
                   tags=TAGS, operation_id="getLicenceProduct")
def licence_product(product: str, query: LicenceQuery) -> ProductLicences:
    """One product's licence positions with the entitlements and installations behind them

    The product matches ignoring case and surrounding spaces; 404 when the register held no
    entitlement or installation of it at the end of `as_of`.
    """
    detail = licences.product_position(database(), product, query.as_of)
    return ProductLicences(
        as_of=detail.report.day, product=detail.product, vendor=detail.vendor,
        needs_licence=detail.needs_licence, licensing=detail.licensing,
        product_items=list(detail.product_items), positions=[PositionDetail(**_position(p), entitlements=[
            _entitlement(line) for line in p.entitlements], installations=[
            _installation(line) for line in p.installations]) for p in detail.positions])


def _position(p: licences.Position) -> dict[str, Any]:
    return dict(product=p.product, vendor=p.vendor, metric=p.metric, entitled=p.entitled,
                consumed=p.consumed, surplus=p.surplus, shortfall=p.shortfall,
                unit_price=money_text(p.unit_price), currency=p.currency,
                shortfall_cost=money_text(p.shortfall_cost), counted=list(p.counted_units),
                notes=list(p.notes), kind=p.kind, needs_licence=p.needs_licence,
                licensing=p.licensing, product_items=list(p.product_items),
                installed=p.installed)


def _entitlement(line: licences.EntitlementLine) -> EntitlementOut:
    e = line.entitlement
    return EntitlementOut(
        key=e.key, name=e.name, status=e.status, product=e.product, vendor=e.vendor,
        metric=e.metric, quantity=e.quantity, entitled=line.entitled, note=line.note,
        unit_price=money_text(e.unit_price), currency=e.currency, term_start=e.term_start,
        term_end=e.term_end, contract=e.contract, supplier=e.supplier)


def _installation(line: licences.InstallationLine) -> InstallationOut:
    i = line.installation
    return InstallationOut(
        key=i.key, name=i.name, status=i.status, product=i.product, edition=i.edition,
        product_version=i.product_version, counted=line.counted,
        licensed_by=list(i.licensed_by), notes=list(line.notes),
        devices=[DeviceOut(key=d.key, name=d.name, class_code=d.class_code, status=d.status,
                           owner=d.owner, location=d.location, hostname=d.hostname,
                           serial_number=d.serial_number, cores=d.cores) for d in i.devices])
