"""Websocket routes, kept apart from ``asgi.py`` so tests can build the stack without
starting the model manager."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from generation.consumers import GenerationConsumer

websocket_urlpatterns = [path("ws/generation/", GenerationConsumer.as_asgi())]


def websocket_application() -> AllowedHostsOriginValidator:
    return AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
