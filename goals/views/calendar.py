"""Placeholder until this area is built: every page answers 404."""

from django.http import Http404


def calendar_settings(request, **kwargs):
    raise Http404


def calendar_feed(request, **kwargs):
    raise Http404
