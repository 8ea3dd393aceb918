"""Names for the two kinds of user a function can be handed."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from accounts.models import User

# Whoever is asking: ``request.user``, possibly nobody signed in (``None`` where there is no
# request). Reads that depend on who looks (visibility, "my jobs") take a Viewer; writes take
# the signed-in ``User``.
Viewer = User | AnonymousUser | None


def viewer_id(user: Viewer) -> int | None:
    """The signed-in user's id, or None for nobody: filtering a non-null owner by it finds nothing."""
    return user.pk if user is not None and user.is_authenticated else None


def signed_in(user: Viewer) -> User:
    """The user of a view behind a login check. Says so to the type checker, and refuses
    (403) rather than writing a row for nobody if a check was ever left off."""
    if not isinstance(user, User):
        raise PermissionDenied
    return user


__all__ = ["User", "Viewer", "signed_in", "viewer_id"]
