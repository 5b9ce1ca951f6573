"""attachments (issue 23): screens. Each module of this package adds its routes to ``bp``.

Files on items (register data, each attached and removed by a change) and files kept with a
change; the item and change pages include the panels in ``templates/attachments/``."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

from usm.services import attachments
from web.attachments.blueprint import bp
from web.support import access

__all__ = ["bp"]

from web.attachments import pages  # noqa: E402,F401


@bp.app_context_processor
def _attachment_context() -> dict[str, object]:
    """What the panels need on the item and change pages: the allowed kinds' names, the size
    limit, and whether the user attaches files to items (coordinators: it registers a change)."""
    roles = set(current_user.roles) if current_user.is_authenticated else set()
    limit = current_app.config.get("ATTACHMENT_MAX_BYTES") or attachments.Storage().max_bytes
    return {"attachment_types": attachments.ALLOWED,
            "attachment_limit": attachments.size_text(limit),
            "may_attach": bool(roles & set(access.CHANGE_EDITORS))}


@bp.app_template_filter("file_size")
def _file_size(size: int) -> str:
    return attachments.size_text(size)
