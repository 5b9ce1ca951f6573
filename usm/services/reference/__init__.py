"""Reference data (issue 23): the people, locations and cost centres an item's owner, location
and cost centre name, kept by administrators as rows with a stable code and a display name.

The register stores the code; a rename changes the name only, so reports that group by the code
never split. Once a kind has any value, a change set may set that field only to one of its active
codes (``bir.reference``); a kind without values is open. ``merge_values`` moves every item from
one value to another through one change and retires the first.
"""

from usm.services.reference.merge import Merged, merge_values
from usm.services.reference.values import (
    KINDS,
    LOOKUP_LIMIT,
    PAGE_SIZE,
    STATES,
    LookupMatch,
    ReferenceNotFound,
    ReferencePage,
    ReferenceRow,
    add_value,
    get_value,
    lookup,
    reference_kind,
    reference_page,
    update_value,
)

__all__ = [
    "KINDS", "LOOKUP_LIMIT", "PAGE_SIZE", "STATES", "LookupMatch", "Merged", "ReferenceNotFound",
    "ReferencePage", "ReferenceRow", "add_value", "get_value", "lookup", "merge_values",
    "reference_kind", "reference_page", "update_value",
]
