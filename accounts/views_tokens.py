"""The personal API token page (/accounts/tokens/): make, list and revoke tokens.

A new token is shown in the answer to the form that made it, and nowhere else: it is not
kept anywhere it could be shown again (no session, no redirect carrying it), and the page
is sent with ``Cache-Control: no-store`` so the browser keeps no copy either.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.forms import ApiTokenForm
from accounts.tokens import token_create, token_get_for_owner, token_list, token_revoke
from accounts.types import signed_in

# The service names the expiry ``expires_at``; the form asks for a day, ``expires_on``.
FORM_FIELD = {"expires_at": "expires_on"}


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    user = signed_in(request.user)
    form = ApiTokenForm(request.POST or None)
    context: dict[str, object] = {}
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = token_create(
                user=user,
                name=form.cleaned_data["name"],
                expires_at=form.expires_at(),
                webhook_url=form.cleaned_data["webhook_url"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            context = {"created": token, "raw_token": raw}
            form = ApiTokenForm()
    context |= {
        "form": form,
        "tokens": list(token_list(user=user)),
        "now": timezone.now(),
        "max_tokens": settings.WEE_WAA_MAX_TOKENS_PER_USER,
    }
    return render(request, "accounts/tokens.html", context, status=400 if form.errors else 200)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def token_revoke_view(request: HttpRequest, token_id: str) -> HttpResponse:
    """GET asks "are you sure?"; POST revokes. Somebody else's token is a 404, like a missing one."""
    user = signed_in(request.user)
    token = token_get_for_owner(user=user, token_id=token_id)
    if token is None:
        raise Http404(_("No such token."))
    if request.method == "POST":
        token_revoke(token=token, by=user)
        message = _("The token “%(name)s” was revoked. Programs using it are refused from now on.")
        messages.success(request, message % {"name": token.name})
        return redirect("api-tokens")
    return render(request, "accounts/token_revoke.html", {"token": token})


def _add_errors(form: ApiTokenForm, error: ValidationError) -> None:
    """The service's errors on the form's fields (the token limit above the form)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.message_dict.items():
        name = FORM_FIELD.get(field, field)
        form.add_error(name if name in form.fields else None, errors)
