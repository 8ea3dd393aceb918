"""The front page: what a visitor sees first, before any account."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from gallery import selectors

SHOWCASE_SIZE = 8


@require_safe
def front(request: HttpRequest) -> HttpResponse:
    """Signed-in people came to draw: straight to the studio. Visitors see what the studio
    makes (the newest public pictures, or an invitation when there are none) and the way in."""
    if request.user.is_authenticated:
        return redirect("studio")
    showcase = list(selectors.creations_public().order_by("-created_at", "-id")[:SHOWCASE_SIZE])
    return render(request, "front.html", {"showcase": showcase})
