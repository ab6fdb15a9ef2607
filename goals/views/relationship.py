"""Placeholder until this area is built: every page answers 404."""

from django.http import Http404


def my_mentoring(request, **kwargs):
    raise Http404


def relationship_home(request, **kwargs):
    raise Http404


def agreement_edit(request, **kwargs):
    raise Http404


def agreement_sign(request, **kwargs):
    raise Http404


def goal_create(request, **kwargs):
    raise Http404


def goal_edit(request, **kwargs):
    raise Http404


def goal_history(request, **kwargs):
    raise Http404


def milestone_toggle(request, **kwargs):
    raise Http404


def check_in_create(request, **kwargs):
    raise Http404


def check_in_confirm(request, **kwargs):
    raise Http404


def check_in_comment(request, **kwargs):
    raise Http404


def private_note_add(request, **kwargs):
    raise Http404


def relationship_close(request, **kwargs):
    raise Http404
