"""Who may open which screens: one table of role groups that every blueprint uses.

The engine still checks each transition's own roles; these groups decide who sees a screen at all.
"""

from __future__ import annotations

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
