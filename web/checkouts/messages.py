"""What the check-out screens say: the services' refusals in the reader's language with dates in
their style, and the outcome of a chore (done, or where its change waits and why) with a link to
the change."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from usm.services import checkouts
from usm.services.errors import UsmError
from web.support.formatting import status_label, when
from web.support.vocabulary import ui_reason


def refusal_text(exc: UsmError) -> str:
    """A refusal as the screens say it: the check-out family's own in the reader's language,
    any other as the service worded it."""
    if isinstance(exc, checkouts.AlreadyBooked):
        return _("%(key)s is already booked for %(person)s from %(start)s to %(end)s.",
                 key=exc.key, person=exc.person, start=when(exc.starts_on),
                 end=when(exc.ends_on))
    if isinstance(exc, checkouts.AlreadyCheckedOut):
        if exc.pending:
            return _("%(key)s is already being checked out to %(name)s by %(change)s, which is "
                     "not implemented yet: finish or withdraw that change first.",
                     key=exc.key, name=exc.assignee, change=exc.change_key)
        return _("%(key)s is already checked out to %(name)s since %(since)s (%(change)s): "
                 "check it in first.", key=exc.key, name=exc.assignee,
                 since=when(exc.since.date()), change=exc.change_key)
    if isinstance(exc, checkouts.NotCheckedOut):
        if exc.waiting:
            return _("%(key)s is not checked out yet: its check-out %(change)s is not "
                     "implemented yet.", key=exc.key, change=exc.waiting)
        if exc.returning:
            return _("%(key)s is already being checked in by %(change)s.", key=exc.key,
                     change=exc.returning)
        return _("%(key)s is not checked out.", key=exc.key)
    if isinstance(exc, checkouts.StatusNotAllowed):
        return _("%(key)s is %(status)s: only an item in stock or in use can be checked out or "
                 "booked.", key=exc.key, status=status_label(exc.status))
    text = str(exc)
    return text[:1].upper() + text[1:]


def _change_link(key: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url_for("changes.detail", key=key), key)


def outcome(carried: checkouts.Carried, done_text: str) -> Markup:
    """The flash after a chore: ``done_text`` and the change when it ran through; otherwise where
    the change waits and why, for the person who must act."""
    link = _change_link(carried.key)
    if carried.reached:
        return Markup(escape(done_text)) + Markup(" ") + Markup(_(
            "Change %(change)s ran through every step and is closed.", change=link))
    reasons = "; ".join(ui_reason(r) for r in carried.blocked)
    return Markup(_(
        "Change %(change)s is registered but waits at %(state)s: %(reasons)s. The register "
        "changes once a change coordinator takes it further.", change=link,
        state=escape(carried.state_label), reasons=escape(reasons)))
