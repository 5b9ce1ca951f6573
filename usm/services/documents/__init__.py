"""Versioned documents: what change models and item classes share as designers edit them (YAML
text, comparison of two versions, and the life of a version from draft to retired)."""

from usm.services.documents.compare import compare_named, plain
from usm.services.documents.lifecycle import (
    DRAFT,
    MAX_VERSION,
    PUBLISHED,
    RETIRED,
    Checked,
    DocumentDiff,
    Lifecycle,
    SavedVersion,
    VersionRow,
    version_row,
)
from usm.services.documents.yaml_text import dump_edited, dump_yaml, load_for_edit

__all__ = ["DRAFT", "MAX_VERSION", "PUBLISHED", "RETIRED", "Checked", "DocumentDiff", "Lifecycle",
           "SavedVersion", "VersionRow", "compare_named", "dump_edited", "dump_yaml",
           "load_for_edit", "plain", "version_row"]
