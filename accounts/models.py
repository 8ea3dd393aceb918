from __future__ import annotations

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """Our own user model from the first migration, so profile fields can grow later
    without the painful mid-project swap away from ``auth.User``."""

    class Meta:
        db_table = "accounts_user"
