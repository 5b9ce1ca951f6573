"""Item classes, as process designers keep them and the register uses them: the published
classes with every attribute their items carry, the life of a class version (draft, publish,
retire, import), the structured form, the checks against the items registered now, and the
comparison with the published version. Saving a class writes no item, so it needs no change."""

from usm.services.item_classes.catalogue import (
    ClassAttribute,
    ItemClassRow,
    item_class,
    list_item_classes,
)
from usm.services.item_classes.checks import ClassDefinitionError, load_class_list
from usm.services.item_classes.form import (
    ATTRIBUTE_TYPES,
    AttributeRow,
    class_record,
    form_of,
    rows_of,
)
from usm.services.item_classes.versions import (
    ITEM_CLASSES,
    MAX_VERSION,
    ClassNotFound,
    ClassVersionRefused,
    ClassVersionView,
    SavedVersion,
    class_version,
    diff_against_published,
    draft_from,
    draft_problems,
    import_classes,
    install_class,
    list_classes,
    publish,
    published_version,
    retire,
    save_new_draft,
    update_draft,
    version_yaml,
)

__all__ = [
    "ITEM_CLASSES",
    "ClassAttribute",
    "ItemClassRow",
    "item_class",
    "list_item_classes",
    "ATTRIBUTE_TYPES",
    "AttributeRow",
    "ClassDefinitionError",
    "ClassNotFound",
    "ClassVersionRefused",
    "ClassVersionView",
    "MAX_VERSION",
    "SavedVersion",
    "class_record",
    "class_version",
    "diff_against_published",
    "draft_from",
    "draft_problems",
    "form_of",
    "import_classes",
    "install_class",
    "list_classes",
    "load_class_list",
    "publish",
    "published_version",
    "retire",
    "rows_of",
    "save_new_draft",
    "update_draft",
    "version_yaml",
]
