"""Versioned documents: what change models and item classes share as designers edit them (YAML
text, comparison of two versions, and the life of a version from draft to retired)."""

from usm.services.documents.compare import compare_named, plain
from usm.services.documents.yaml_text import dump_yaml

__all__ = ["compare_named", "dump_yaml", "plain"]
