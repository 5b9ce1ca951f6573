"""Access control by role, and the response headers every page carries."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, current_app, request
from flask_login import current_user

View = TypeVar("View", bound=Callable[..., Any])

# No inline scripts or styles anywhere, so the policy can stay this strict.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def roles_required(*roles: str) -> Callable[[View], View]:
    """Let a view run only for a signed-in user who holds at least one of ``roles``.

    Anonymous users are sent to the sign-in page (as with ``login_required``); signed-in users
    without any of the roles get 403.
    """
    if not roles:
        raise ValueError("roles_required needs at least one role")
    needed = frozenset(roles)

    def decorator(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not needed & set(current_user.roles):
                abort(403, description="This page is for the role(s): " + ", ".join(sorted(needed)))
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorator


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html" or "attachment" in response.headers.get(
            "Content-Disposition", ""):
        # Register pages and exports are not for shared caches, nor for the back button (or a
        # browser's cache) after sign-out.
        response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure or current_app.config.get("SESSION_COOKIE_SECURE"):
        # Served over HTTPS: browsers keep to it for a year, so a downgrade cannot steal a session.
        response.headers.setdefault("Strict-Transport-Security",
                                    "max-age=31536000; includeSubDomains")
    return response
