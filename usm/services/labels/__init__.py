"""Asset labels: a QR code that opens the item's page, the key in text and the name and serial
number, for one item, a list of keys or everything a register search finds, laid out as a PDF on
common label sheets (``SHEETS``), from any position of a partly used sheet."""

from usm.services.labels.items import labels_for_keys, labels_for_search, parse_keys
from usm.services.labels.layout import MAX_LABELS, TooManyLabels, label_pages, label_sheet
from usm.services.labels.pdf import ItemLabel, address_root, labels_pdf
from usm.services.labels.sheets import DEFAULT_SHEET, SHEETS, LabelSheet

__all__ = [
    "DEFAULT_SHEET", "MAX_LABELS", "SHEETS", "ItemLabel", "LabelSheet", "TooManyLabels", "address_root",
    "label_pages", "label_sheet", "labels_for_keys", "labels_for_search", "labels_pdf",
    "parse_keys",
]
