from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class SignupForm(UserCreationForm[User]):
    email = forms.EmailField(label=_("Email (optional)"), required=False)

    class Meta:
        model = User
        fields = ("username", "email")
