"""Websocket routes, kept apart from ``asgi.py`` so tests can build the stack without
starting the model manager."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from django.urls import path

from generation.consumers import GenerationConsumer
from wee_waa.origin import SameOriginValidator

websocket_urlpatterns = [path("ws/generation/", GenerationConsumer.as_asgi())]


def websocket_application() -> SameOriginValidator:
    return SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
