"""Placeholder until this area is built: every page answers 404."""

from django.http import Http404


def cohort_feedback(request, **kwargs):
    raise Http404
