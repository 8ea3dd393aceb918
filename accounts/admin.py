"""The user admin, with ban and unban for any account (not only owners of reported pictures);
and the API tokens, with a revoke action.

Banning goes through ``gallery.services.user_ban``: the login is refused, the pictures
disappear, unfinished jobs are cancelled, open websockets closed, and the audit log says so.
Deleting a user (the stock delete view) takes their creations and files along.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken, User
from accounts.tokens import token_revoke
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


class _TokenStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", gettext("Active")), ("expired", gettext("Expired")), ("revoked", gettext("Revoked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> QuerySet[ApiToken]:
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True)
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now, revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Tokens for moderators: whose, when last used, revoked or not; and a revoke action.

    The digest and the webhook secret are never shown (the form leaves both out): the digest
    is useless to a person, and the secret would let whoever reads it forge deliveries.
    Tokens are made by their owners only, so there is no "add".
    """

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at", "revoked_by")
    list_filter = (_TokenStateFilter, "created_at", "last_used_at")
    list_select_related = ("user", "revoked_by")
    search_fields = ("user__username", "name", "prefix")
    ordering = ("user__username", "-created_at")
    fields = (
        "name",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "webhook_url",
        "has_webhook_secret",
        "revoked_at",
        "revoked_by",
    )
    readonly_fields = fields
    actions = ["revoke_tokens"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(boolean=True, description=_("webhook secret set"))
    def has_webhook_secret(self, token: ApiToken) -> bool:
        return bool(token.webhook_secret)

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        from gallery.models import ModerationLog

        actor = signed_in(request.user)
        count = 0
        for token in queryset.filter(revoked_at__isnull=True).select_related("user").order_by("pk"):
            token_revoke(token=token, by=actor)
            ModerationLog.objects.create(
                actor=actor,
                action="revoke-token",
                target_user=token.user,
                note=f"API token {token.prefix}… ({token.name}) revoked from the admin.",
            )
            count += 1
        message = ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count) % {"count": count}
        self.message_user(request, message, messages.SUCCESS)
