"""Clients that talk to the app the way a signed-in browser does; shared by tests and fixtures.

Helpers live here rather than in ``conftest.py``: pytest loads conftest files itself, and a
test that imports one gets a second copy of the module under another name."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User


def api_client_for(user: User) -> APIClient:
    """An API client signed in as ``user`` that sends the CSRF token, as the studio's JS does."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.get("/studio/")  # sets the csrftoken cookie like a browser would
    client.credentials(HTTP_X_CSRFTOKEN=response.cookies["csrftoken"].value)
    return client


def page_client_for(user: User | None) -> Client:
    """A plain page client, signed in as ``user`` (anonymous for None)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
