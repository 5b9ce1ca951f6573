"""Who may open which screens: one table of role groups that every blueprint uses.

The engine still checks each transition's own roles; these groups decide who sees a screen at all.
"""

from __future__ import annotations

from collections.abc import Iterable

from usm.services.search import SearchScope

COORDINATOR = "change_coordinator"
SERVICE_OWNER = "service_owner"
DESIGNER = "process_designer"
ADMINISTRATOR = "administrator"

# Reading the register: whoever plans, owns or designs around it.
REGISTER_READERS = (COORDINATOR, SERVICE_OWNER, DESIGNER)
# Reading changes, commenting, approving and firing the transitions the model grants them.
CHANGE_PARTICIPANTS = (COORDINATOR, SERVICE_OWNER)
# Registering changes and editing their details and change sets.
CHANGE_EDITORS = (COORDINATOR,)
# Asset-management reports (finance, licences, lifecycle, spares): owners and coordinators.
REPORT_READERS = (SERVICE_OWNER, COORDINATOR)
DESIGNERS = (DESIGNER,)
ADMINISTRATORS = (ADMINISTRATOR,)


def search_scope(roles: Iterable[str]) -> SearchScope:
    """What the search in the header shows a user: only groups whose pages their roles open
    (items and their owners for register readers, changes for participants, users for
    administrators)."""
    held = set(roles)
    return SearchScope(items=bool(held.intersection(REGISTER_READERS)),
                       changes=bool(held.intersection(CHANGE_PARTICIPANTS)),
                       users=bool(held.intersection(ADMINISTRATORS)))
