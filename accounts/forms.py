from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class SignupForm(UserCreationForm[User]):
    email = forms.EmailField(label=_("Email (optional)"), required=False)

    class Meta:
        model = User
        fields = ("username", "email")


class ApiTokenForm(forms.Form):
    """The fields of a new token; their rules live in ``accounts.tokens.token_create``."""

    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("What will use it, e.g. “render script on my laptop”."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 80}),
    )
    expires_on = forms.DateField(
        label=_("Expires on (optional)"),
        required=False,
        help_text=_("The token stops working at the start of this day. Leave empty for no expiry."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    webhook_url = forms.CharField(
        label=_("Webhook URL (optional)"),
        required=False,
        max_length=500,
        help_text=_("Where we send signed notifications about the jobs this token starts. http:// or https:// only."),
        widget=forms.URLInput(attrs={"inputmode": "url", "placeholder": "https://", "autocomplete": "off"}),
    )

    def expires_at(self) -> dt.datetime | None:
        """The chosen day's first moment, in the site's time zone."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
