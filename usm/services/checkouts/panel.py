"""What an item's page shows of check-outs, read in one transaction (the page's statement count
stays fixed)."""

from __future__ import annotations

from datetime import date

from usm.services.checkouts.bookings import ReservationView, upcoming_in
from usm.services.checkouts.handouts import CheckoutView, active_in
from usm.services.platform import Database


def item_panel(db: Database, key: str, *, today: date, bookings: int = 20
               ) -> tuple[CheckoutView | None, list[ReservationView]]:
    """The item's pending, out or returning check-out, and its bookings from ``today``."""
    wanted = key.strip().upper()
    with db.reading() as session:
        return (active_in(session, [wanted], today).get(wanted),
                upcoming_in(session, item_key=wanted, today=today, limit=bookings))


__all__ = ["item_panel"]
