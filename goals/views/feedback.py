"""Placeholder until this area is built: every page answers 404."""

from django.http import Http404


def pulse_give(request, **kwargs):
    raise Http404


def survey(request, **kwargs):
    raise Http404


def reflections(request, **kwargs):
    raise Http404


def reflection_share(request, **kwargs):
    raise Http404
