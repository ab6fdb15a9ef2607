"""Placeholder until this area is built: every page answers 404."""

from django.http import Http404


def recommendations(request, **kwargs):
    raise Http404


def request_withdraw(request, **kwargs):
    raise Http404


def request_inbox(request, **kwargs):
    raise Http404


def request_respond(request, **kwargs):
    raise Http404


def request_answer(request, **kwargs):
    raise Http404
