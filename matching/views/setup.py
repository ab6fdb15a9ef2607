"""Placeholder until this area is built: every page answers 404."""

from django.http import Http404


def config_edit(request, **kwargs):
    raise Http404


def exclusion_list(request, **kwargs):
    raise Http404


def exclusion_delete(request, **kwargs):
    raise Http404
