"""People who use the product and the roles they hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bir.base import Base, JSONType, UTCDateTime, utcnow

# Where a user signs in: with a password kept here, at the LDAP directory, or at the OpenID
# Connect identity provider.
LOCAL, LDAP, OIDC = "local", "ldap", "oidc"


class User(Base):
    __tablename__ = "usm_user"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    # None for a directory or identity provider user: they have no password here.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(8), default=LOCAL, server_default=LOCAL)
    # Who the user is at their source: the directory entry's DN, or the identity provider's
    # issuer and subject ("issuer|sub"); None for local users. Their roles follow the source's
    # groups, set again at every sign-in.
    external_id: Mapped[str | None] = mapped_column(String(512))
    roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The user's chosen interface language ("en", "nl"); None follows the browser.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Flask-Login's protocol, kept here so the web layer needs no wrapper class.
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def as_dict(self) -> dict[str, Any]:
        return {"username": self.username, "display_name": self.display_name,
                "roles": list(self.roles)}


class ApiToken(Base):
    """A personal API token. Only a hash is stored; the token is shown once when it is made."""

    __tablename__ = "usm_api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("usm_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # First characters of the token, so a user can tell their tokens apart in a list.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who made the token: its owner, or an administrator acting as them where the deployment
    # allows it (USM_ALLOW_ACT_AS). None for a token made before this was recorded.
    created_by: Mapped[int | None] = mapped_column(ForeignKey("usm_user.id", ondelete="SET NULL"))
