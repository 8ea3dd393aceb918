"""The user's gallery of kept backgrounds."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from generation.selectors import backgrounds_kept

PAGE_SIZE = 12


@login_required
def index(request: HttpRequest) -> HttpResponse:
    page = Paginator(backgrounds_kept(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "gallery/index.html", {"page": page})
