"""The licence audit export: the position per product and metric, and every entitlement and
installation behind each figure (with the device, its cores, owner and location), as of one day.

Fit to hand a vendor's auditor: XLSX holds the three tables as sheets (numbers and money stay
numbers), CSV holds the one table asked for. Each position says what it is (it holds
entitlements, it is installed without any entitlement, or its product needs no licence) and the
licensing its software product registers.
"""

from __future__ import annotations

from datetime import date

from usm.services.errors import Invalid
from usm.services.platform import Database, Sheet, export
from usm.services.reports.licences import position as licences

TABLES = ("positions", "entitlements", "installations")
KIND_TEXTS = {licences.ENTITLED: "entitled", licences.UNLICENSED: "installed without any entitlement",
              licences.NO_LICENCE: "needs no licence"}


class BadExport(Invalid):
    """An export asked for in a format or table that does not exist; the message names the
    field."""


def _notes(notes: tuple[str, ...] | list[str]) -> str:
    return "; ".join(notes)


def audit_sheets(positions: list[licences.Position], day: date) -> list[Sheet]:
    """Positions, entitlements and installations as sheets, in that order."""
    on = day.isoformat()
    position_rows = [
        [on, p.product, p.vendor, p.metric, p.entitled, p.consumed, p.surplus, p.shortfall,
         p.unit_price, p.currency, p.shortfall_cost, _notes(p.counted_units), _notes(p.notes),
         KIND_TEXTS.get(p.kind, p.kind), p.licensing]
        for p in positions]
    entitlement_rows = [
        [on, p.product, p.metric, line.entitlement.key, line.entitlement.name,
         line.entitlement.status, line.entitlement.quantity, line.entitled,
         line.entitlement.unit_price, line.entitlement.currency, line.entitlement.term_start,
         line.entitlement.term_end, line.entitlement.contract, line.entitlement.supplier,
         line.note]
        for p in positions for line in p.entitlements]
    installation_rows = []
    for p in positions:
        for line in p.installations:
            inst = line.installation
            common = [on, p.product, p.metric, inst.key, inst.name, inst.product, inst.edition,
                      inst.product_version, inst.status, line.counted,
                      ", ".join(inst.licensed_by)]
            for device in inst.devices or (None,):
                installation_rows.append(common + (
                    [device.key, device.name, device.class_name, device.status,
                     device.hostname, device.serial_number, device.cores, device.owner,
                     device.location] if device else [None] * 9) + [_notes(line.notes)])
    return [
        Sheet("Licence positions", [
            "As of", "Product", "Vendor", "Metric", "Entitled", "Consumed", "Surplus",
            "Shortfall", "Unit price", "Currency", "Shortfall cost", "Counted", "Notes", "Kind",
            "Licensing"],
            position_rows),
        Sheet("Entitlements", [
            "As of", "Product", "Metric", "Entitlement", "Name", "Status", "Quantity",
            "Entitled on the day", "Unit price", "Currency", "Term start", "Term end",
            "Contract", "Supplier", "Note"], entitlement_rows),
        Sheet("Installations", [
            "As of", "Position product", "Metric", "Installation", "Name", "Product", "Edition",
            "Version", "Status", "Counted", "Licensed by", "Device", "Device name",
            "Device class", "Device status", "Host name", "Serial number", "Cores", "Owner",
            "Location", "Notes"], installation_rows),
    ]


def audit_export(db: Database, fmt: str, day: date | None = None, table: str = "positions",
                 product: str | None = None) -> tuple[bytes, str, str]:
    """The export file, its media type and a file name. XLSX holds every table; CSV the one named
    by ``table``. With ``product``, only that product's positions."""
    if fmt not in ("csv", "xlsx"):
        raise BadExport(f"format: must be csv or xlsx, not '{fmt[:20]}'")
    if table not in TABLES:
        raise BadExport(f"table: must be one of {', '.join(TABLES)}, not '{table[:20]}'")
    if product:
        detail = licences.product_position(db, product, day)
        positions, on = detail.positions, detail.report.day
    else:
        report = licences.licence_position(db, day)
        positions, on = report.positions, report.day
    sheets = audit_sheets(positions, on)
    if fmt == "csv":
        sheets = [sheets[TABLES.index(table)]]
    data, media = export(fmt, *sheets)
    subject = f"licence-{table}" if fmt == "csv" else "licence-audit"
    if product:
        slug = "-".join("".join(c if c.isascii() and c.isalnum() else " " for c in product).lower().split())
        subject += f"-{slug[:40] or 'product'}"
    return data, media, f"{subject}-{on.isoformat()}.{fmt}"
