"""The refusals of check-outs and reservations. Each keeps what it names (the item, the person,
the days, the change) as attributes, so the screens can say it in the reader's language with
dates in their style; the message is the English the API and the CLI give."""

from __future__ import annotations

from datetime import date, datetime

from usm.services.errors import FieldError, Invalid, Refused


class AlreadyBooked(Refused):
    """The days overlap a reservation of the item (for a booking, or for a check-out to anybody
    but the person it is booked for)."""

    def __init__(self, key: str, person: str, starts_on: date, ends_on: date):
        self.key, self.person, self.starts_on, self.ends_on = key, person, starts_on, ends_on
        super().__init__(f"{key} is already booked for {person} from {starts_on.isoformat()} to "
                         f"{ends_on.isoformat()}")


class AlreadyCheckedOut(Refused):
    """The item is out, or a check-out of it waits in a change that has not been implemented."""

    def __init__(self, key: str, assignee: str, since: datetime, change_key: str,
                 pending: bool):
        self.key, self.assignee, self.since = key, assignee, since
        self.change_key, self.pending = change_key, pending
        if pending:
            text = (f"{key} is already being checked out to {assignee} by {change_key}, which "
                    "is not implemented yet: finish or withdraw that change first")
        else:
            text = (f"{key} is already checked out to {assignee} since "
                    f"{since.date().isoformat()} ({change_key}): check it in first")
        super().__init__(text)


class NotCheckedOut(Refused):
    """Check-in of an item that is not out: never checked out, already back, its check-out still
    waiting (``waiting``), or its check-in already registered (``returning``)."""

    def __init__(self, key: str, *, waiting: str | None = None, returning: str | None = None):
        self.key, self.waiting, self.returning = key, waiting, returning
        if waiting:
            text = (f"{key} is not checked out yet: its check-out {waiting} is not implemented "
                    "yet")
        elif returning:
            text = f"{key} is already being checked in by {returning}"
        else:
            text = f"{key} is not checked out"
        super().__init__(text)


class StatusNotAllowed(Invalid):
    """The item's lifecycle status does not allow a check-out (planned, ordered, in maintenance,
    retired, disposed)."""

    field = "keys"

    def __init__(self, key: str, status: str):
        self.key, self.status = key, status
        super().__init__([FieldError("keys", f"{key} is {status}: only an item in stock or in "
                                             "use can be checked out or booked")])
