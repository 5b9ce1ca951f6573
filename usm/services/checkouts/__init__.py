"""Check-outs and reservations (issue 23): hand items to a person, a location or another item
until an expected return, and take them back, each as one user action that is one change of the
shipped ``check-out`` model carried through its steps (``changes.carry_through``); the overdue
ones and "my check-outs due back"; and bookings of an item for a person's days, which change
nothing in the register and are stored directly."""

from usm.services.changes import Carried
from usm.services.checkouts.bookings import (
    MAX_NOTE,
    ReservationView,
    cancel,
    reservations,
    reserve,
    upcoming,
)
from usm.services.checkouts.handouts import (
    KINDS,
    MAX_AHEAD,
    MAX_ITEMS,
    MODEL,
    OUT,
    PENDING,
    RELATION,
    RETURNED,
    RETURNING,
    VOID,
    CheckoutView,
    ItemLine,
    check_in,
    check_out,
    count_due,
    current_checkout,
    describe,
    due,
    item_checkouts,
    list_checkouts,
    parse_keys,
)
from usm.services.checkouts.panel import item_panel
from usm.services.checkouts.refusals import (
    AlreadyBooked,
    AlreadyCheckedOut,
    NotCheckedOut,
    StatusNotAllowed,
)

__all__ = [
    "KINDS", "MAX_AHEAD", "MAX_ITEMS", "MAX_NOTE", "MODEL", "OUT", "PENDING", "RELATION",
    "RETURNED", "RETURNING", "VOID", "AlreadyBooked", "AlreadyCheckedOut", "Carried",
    "CheckoutView", "ItemLine", "NotCheckedOut", "ReservationView", "StatusNotAllowed", "cancel",
    "check_in", "check_out", "count_due", "current_checkout", "describe", "due", "item_panel",
    "item_checkouts", "list_checkouts",
    "parse_keys", "reservations", "reserve", "upcoming",
]
