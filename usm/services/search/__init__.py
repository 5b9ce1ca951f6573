"""Search everywhere at once: items, changes and people by one free-text rule (every word, in
any of the fields searched, ignoring case), cut at a few hits a group with the count of all, and
the exact key that names one item or change. Read only."""

from usm.services.search.results import (
    CHANGE,
    DEFAULT_LIMIT,
    ITEM,
    MAX_LIMIT,
    MAX_TEXT_LENGTH,
    OWNER,
    USER,
    BadSearch,
    ChangeHit,
    Group,
    ItemHit,
    PersonHit,
    SearchResults,
    SearchScope,
    Target,
    exact_target,
    search_everywhere,
    search_text,
)

__all__ = [
    "CHANGE", "DEFAULT_LIMIT", "ITEM", "MAX_LIMIT", "MAX_TEXT_LENGTH", "OWNER", "USER",
    "BadSearch", "ChangeHit", "Group", "ItemHit", "PersonHit", "SearchResults", "SearchScope",
    "Target", "exact_target", "search_everywhere", "search_text",
]
