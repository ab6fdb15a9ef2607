"""/healthz on a short path: answered before sessions, CSRF, authentication, allauth and the rest
of MIDDLEWARE, so a probe costs its own few queries and no more, and needs no allowed host (a
load balancer probes by address)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .views import healthz

HEALTHZ_PATH = "/healthz"  # core/urls.py serves the same view there, for reverse() and tests


class HealthzMiddleware:
    """Placed near the top of MIDDLEWARE (after the request id, so its log lines carry one)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTHZ_PATH:
            return healthz(request)
        return self.get_response(request)
