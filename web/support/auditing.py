"""Who acts in this request, for the audit log, and the record of every file handed out.

A request is made by the signed-in user (web) or by an API token's holder, who may be an
administrator acting as another user through a token they made for them (where the deployment
allows it). Every attachment a screen or the API hands out (the register, histories, the change
queue, reports, the audit log itself) is recorded before it leaves: an export that cannot be
recorded is not sent.
"""

from __future__ import annotations

import logging
import re

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from flask_login import current_user

from usm.services import audit_log
from usm.services.accounts import TokenHolder
from usm.services.audit_log import API, WEB, Origin
from web.support.context import database

HOLDER = "api_holder"  # where the API's authentication keeps the token's holder (``flask.g``)
ACT_AS_SETTING = "USM_ALLOW_ACT_AS"
_FILENAME = re.compile(r'filename="([^"]*)"')

log = logging.getLogger(__name__)


def allow_act_as() -> bool:
    """Whether this deployment lets an administrator act as another user (``USM_ALLOW_ACT_AS``)."""
    return bool(current_app.config.get(ACT_AS_SETTING))


def origin() -> Origin:
    """Who acts in this request and from where."""
    address = request.remote_addr
    holder: TokenHolder | None = g.get(HOLDER)
    if holder is not None:
        return holder.origin(address)
    if current_user.is_authenticated:
        return Origin(current_user.username, address=address, via=WEB)
    return Origin(None, address=address, via=API if request.blueprint == "api" else WEB)


def record_download(response: Response) -> Response:
    """After each request: record a file handed out as an attachment; refuse to hand it out
    when it cannot be recorded."""
    disposition = response.headers.get("Content-Disposition", "")
    if response.status_code != 200 or not disposition.startswith("attachment"):
        return response
    name = _FILENAME.search(disposition)
    try:
        audit_log.record_export(database(), origin(), request.full_path.rstrip("?"),
                                {"file": name.group(1) if name else None,
                                 "bytes": response.calculate_content_length()})
    except Exception:  # a busy or failing database: whatever it is, the file stays here
        log.exception("export of %s not recorded, so not sent", request.path)
        return Response(_("The export could not be recorded in the audit log, so it was not "
                          "sent. Try again in a moment."), status=503, mimetype="text/plain",
                        headers={"Retry-After": "2"})
    return response
