"""Placeholder until this area is built: every page answers 404."""

from django.http import Http404


def cohort_matching(request, **kwargs):
    raise Http404


def run_create(request, **kwargs):
    raise Http404


def run_compare(request, **kwargs):
    raise Http404


def run_detail(request, **kwargs):
    raise Http404


def run_progress(request, **kwargs):
    raise Http404


def run_accept_all(request, **kwargs):
    raise Http404


def run_rerun(request, **kwargs):
    raise Http404


def run_publish(request, **kwargs):
    raise Http404


def proposal_decide(request, **kwargs):
    raise Http404


def proposal_lock(request, **kwargs):
    raise Http404


def proposal_swap(request, **kwargs):
    raise Http404
