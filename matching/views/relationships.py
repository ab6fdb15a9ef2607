"""Placeholder until this area is built: every page answers 404."""

from django.http import Http404


def relationship_list(request, **kwargs):
    raise Http404


def relationship_end(request, **kwargs):
    raise Http404


def relationship_replace(request, **kwargs):
    raise Http404
