"""The user admin, with ban and unban for any account (not only owners of reported pictures).

Banning goes through ``gallery.services.user_ban``: the login is refused, the pictures
disappear, unfinished jobs are cancelled, open websockets closed, and the audit log says so.
Deleting a user (the stock delete view) takes their creations and files along.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.types import signed_in


@admin.register(User)
class WeeWaaUserAdmin(UserAdmin[User]):
    list_display = ("username", "email", "is_active", "is_staff", "date_joined", "last_login")
    actions = ["ban_users", "unban_users"]

    def _targets(self, request: HttpRequest, queryset: QuerySet[User], *, banned: bool) -> list[User]:
        """Nobody bans themself; only a superuser bans staff (a moderator cannot lock out
        the other moderators)."""
        targets: list[User] = []
        for user in queryset.order_by("pk"):
            if user.pk == request.user.pk:
                self.message_user(request, _("You cannot ban or unban yourself."), messages.WARNING)
            elif banned and user.is_staff and not getattr(request.user, "is_superuser", False):
                self.message_user(
                    request,
                    _("Only a superuser can ban a staff account (%(name)s).") % {"name": user},
                    messages.WARNING,
                )
            elif user.is_active == banned:  # not already in the wanted state
                targets.append(user)
        return targets

    def _set_banned(self, request: HttpRequest, queryset: QuerySet[User], *, banned: bool) -> int:
        from gallery.services import user_ban

        targets = self._targets(request, queryset, banned=banned)
        for user in targets:
            user_ban(actor=signed_in(request.user), user=user, banned=banned, note="From the user admin.")
        return len(targets)

    @admin.action(description=_("Ban the selected users (cancels their jobs, closes their connections)"))
    def ban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = self._set_banned(request, queryset, banned=True)
        message = ngettext("%(count)d user banned.", "%(count)d users banned.", count) % {"count": count}
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description=_("Unban the selected users"))
    def unban_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = self._set_banned(request, queryset, banned=False)
        message = ngettext("%(count)d user unbanned.", "%(count)d users unbanned.", count) % {"count": count}
        self.message_user(request, message, messages.SUCCESS)
