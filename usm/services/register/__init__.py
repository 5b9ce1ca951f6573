"""The register (BIR) as its readers see it: search (now or as of a moment), an item with its
history and relations, the services and what supports each, downloads of all of these, and the
register's vocabulary. Everything here reads; the register changes only through changes (a bulk
action too: ``bulk`` registers one change for the whole selection)."""

from usm.services.register.bulk import (
    FILTER_PARAMETERS,
    FORM_MAX_ITEMS,
    MAX_KEYS,
    Bulk,
    BulkPlan,
    BulkResult,
    Selection,
    bulk_action,
    plan_bulk,
    run_bulk,
    select_keys,
    select_matching,
    selected_keys,
)
from usm.services.register.export import ITEM_COLUMNS, changes_sheet, history_sheet, items_sheet
from usm.services.register.search import (
    DEFAULT_PAGE_SIZE,
    SORTS,
    BadQuery,
    HistoryRow,
    ItemFilter,
    ItemRow,
    ItemView,
    NotFound,
    NotYetRegistered,
    SearchPage,
    SearchQuery,
    ServiceView,
    decode_cursor,
    encode_cursor,
    item_history,
    item_view,
    list_items,
    list_services,
    search_choices,
    search_items,
    search_query,
    service_view,
)
from usm.services.register.vocabulary import (
    ATTRIBUTE_TYPES,
    MONEY_FIELDS,
    RELATION_KIND_CODES,
    SERVICE_CLASS,
    STATUSES,
    ItemFields,
)

__all__ = [
    "FILTER_PARAMETERS", "FORM_MAX_ITEMS", "MAX_KEYS", "Bulk", "BulkPlan", "BulkResult",
    "Selection", "bulk_action", "plan_bulk", "run_bulk",
    "select_keys", "select_matching", "selected_keys",
    "ATTRIBUTE_TYPES", "DEFAULT_PAGE_SIZE", "MONEY_FIELDS", "ITEM_COLUMNS", "RELATION_KIND_CODES",
    "SERVICE_CLASS", "SORTS", "STATUSES", "BadQuery", "HistoryRow", "ItemFields", "ItemFilter",
    "ItemRow", "ItemView", "NotFound", "NotYetRegistered", "SearchPage", "SearchQuery",
    "ServiceView", "changes_sheet", "decode_cursor", "encode_cursor", "history_sheet",
    "item_history", "item_view", "items_sheet", "list_items", "list_services",
    "search_choices", "search_items", "search_query", "service_view",
]
