from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.forms import SignupForm
from accounts.login_limits import client_address
from accounts.redirects import safe_next_url
from wee_waa.throttling import rate_limited


def signup(request: HttpRequest) -> HttpResponse:
    """Sign up, then go where ``next`` says (the picture someone wanted to like), else the studio."""
    next_url = safe_next_url(request)
    if request.user.is_authenticated:
        return _onward(next_url)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Counted only for accounts about to be made: a typo in the form costs nothing.
        retry_after = rate_limited(
            f"signup:{client_address(request) or 'unknown'}", limit=settings.WEE_WAA_SIGNUPS_PER_HOUR, window=3600
        )
        if retry_after is not None:
            return _too_many_signups(request, form, retry_after)
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:  # a lookalike name signed up in the same instant
            form.add_error("username", _("This username looks too much like an existing one. Please choose another."))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return _onward(next_url)
    context = {"form": form, "next": next_url}
    return render(request, "accounts/signup.html", context, status=400 if form.errors else 200)


def _onward(next_url: str) -> HttpResponse:
    # A plain redirect to the checked path: ``redirect()`` would try a bare word as a URL name.
    return HttpResponseRedirect(next_url) if next_url else redirect("studio")


def _too_many_signups(request: HttpRequest, form: SignupForm, retry_after: int) -> HttpResponse:
    minutes = max(1, -(-retry_after // 60))
    message = _(
        "Too many accounts were created from your network recently. Please try again in %(minutes)d minutes."
    ) % {"minutes": minutes}
    context = {"form": form, "limit_message": message, "next": safe_next_url(request)}
    response = render(request, "accounts/signup.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response
