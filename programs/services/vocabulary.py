"""Writes for the shared vocabulary of competencies: resolving what people typed, approving and
merging terms."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower

from accounts.models import User
from programs.models import (
    Competency,
    CompetencySynonym,
    EnrolmentCompetency,
)
from programs.rules import (
    COMPETENCY_MERGE_INTO_ITSELF,
)


def _normal_term(term: str) -> str:
    return " ".join(term.split())[:100]


def _unique_terms(terms: Iterable[str]) -> list[str]:
    """Terms as typed, spaces tidied, each once (first spelling wins, case ignored)."""
    unique, seen = [], set()
    for term in terms:
        clean = _normal_term(term)
        if clean and clean.lower() not in seen:
            seen.add(clean.lower())
            unique.append(clean)
    return unique


def competency_terms_resolve(
    *, terms: Iterable[str], suggested_by: User | None
) -> list[Competency]:
    """Turn what people typed into vocabulary terms: an existing name or synonym (any case)
    wins; anything new becomes a suggestion for coordinators to approve or merge."""
    wanted = _unique_terms(terms)
    if not wanted:
        return []
    lowered = [t.lower() for t in wanted]
    by_name = {
        c.name.lower(): c
        for c in Competency.objects.annotate(lower_name=Lower("name")).filter(
            lower_name__in=lowered
        )
    }
    by_synonym = {
        s.name.lower(): s.competency
        for s in CompetencySynonym.objects.annotate(lower_name=Lower("name"))
        .filter(lower_name__in=lowered)
        .select_related("competency")
    }
    known = {**by_synonym, **by_name}
    new_terms = [term for term in wanted if term.lower() not in known]
    if new_terms:
        # ignore_conflicts: someone else may suggest the same term at the same moment (on
        # PostgreSQL the insert waits for them); in name order, so that two imports suggesting
        # the same new terms never each wait for the other.
        Competency.objects.bulk_create(
            [
                Competency(name=term, status=Competency.Status.SUGGESTED, suggested_by=suggested_by)
                for term in sorted(new_terms, key=str.lower)
            ],
            ignore_conflicts=True,
        )
        for competency in Competency.objects.annotate(lower_name=Lower("name")).filter(
            lower_name__in=[t.lower() for t in new_terms]
        ):
            known[competency.name.lower()] = competency
    return [known[term.lower()] for term in wanted]


@transaction.atomic
def competency_approve(*, competency: Competency) -> Competency:
    competency.status = Competency.Status.APPROVED
    competency.save(update_fields=["status"])
    return competency


@transaction.atomic
def competency_merge(*, source: Competency, target: Competency) -> Competency:
    """Fold a duplicate into `target`: every use of `source` now points at `target`, and its
    name (and synonyms) become synonyms of `target`, so people who type it still land right."""
    if source.pk == target.pk:
        raise ValidationError(COMPETENCY_MERGE_INTO_ITSELF)
    existing = set(
        EnrolmentCompetency.objects.filter(competency=target).values_list("enrolment_id", "kind")
    )
    for link in EnrolmentCompetency.objects.filter(competency=source):
        if (link.enrolment_id, link.kind) in existing:
            link.delete()
        else:
            link.competency = target
            link.save(update_fields=["competency"])
    CompetencySynonym.objects.filter(competency=source).update(competency=target)
    name = source.name
    source.delete()
    if not CompetencySynonym.objects.filter(name__iexact=name).exists():
        CompetencySynonym.objects.create(competency=target, name=name)
    if target.status != Competency.Status.APPROVED:
        competency_approve(competency=target)
    return target
