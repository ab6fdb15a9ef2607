"""Publishing a run: its accepted pairs (or circles) become mentoring relationships and everyone
in them is emailed. A cohort of a thousand pairs is too much for a web request, so the request
only queues a job (`match_run_publish`) and a worker publishes in batches, each with a fixed
number of queries (`match_run_publish_execute`), while the coordinator follows a progress bar."""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from matching import selectors
from matching.models import MatchRun, MentorRequest, Proposal, Relationship, RelationshipMember
from notifications.models import Notification
from notifications.services import Message, notify_many
from programs.models import BulkJob
from programs.services.jobs import bulk_job_run, bulk_job_start

from .guards import run_editable_check
from .messages import NOTHING_ACCEPTED
from .places import capacity_of, enrolments_lock

# Accepted pairs per transaction: their relationships, members and emails commit together, and
# the progress bar moves once per batch. A circle is never split between two batches.
PUBLISH_BATCH_SIZE = 200


@transaction.atomic
def match_run_publish(*, run: MatchRun, published_by: User) -> BulkJob:
    """Queue the publishing of a run's accepted pairs; a worker publishes them once this
    transaction commits (see `match_run_publish_execute`). From now on the run's pairs cannot
    change.

    Pressed twice, the job already under way (or done) comes back instead of a second one; a job
    that failed is queued again and continues where it stopped."""
    run = MatchRun.objects.select_for_update().select_related("cohort").get(pk=run.pk)
    if run.publish_job_id is None:
        run_editable_check(run)
    elif run.publish_job and run.publish_job.status != BulkJob.Status.FAILED:
        return run.publish_job
    accepted = run.proposals.filter(decision=Proposal.Decision.ACCEPTED).count()
    if not accepted:
        raise ValidationError(NOTHING_ACCEPTED)
    job = bulk_job_start(
        cohort=run.cohort,
        kind=BulkJob.Kind.PUBLISH,
        key=f"run:{run.pk}:publish",
        title=f"Publishing run {run.pk} of {run.cohort.name}",
        task_name="matching.tasks.match_run_publish_task",
        total=accepted,
        created_by=published_by,
        payload={"run_id": run.pk},
        next_url=reverse("matching:run_detail", args=[run.pk]),
    )
    if run.publish_job_id != job.pk:
        run.publish_job = job
        run.save(update_fields=["publish_job"])
    return job


def match_run_publish_execute(*, job_id: int) -> BulkJob:
    """Publish a job's run, PUBLISH_BATCH_SIZE accepted pairs per transaction. Each proposal is
    marked started or skipped in the batch that handles it, so a run after a crash continues with
    the rest: nobody gets two relationships or two emails. The run counts as published once the
    last batch is done."""
    return bulk_job_run(job_id=job_id, batch=match_run_publish_batch, finish=_publish_finish)


def _pending(run: MatchRun) -> QuerySet[Proposal]:
    return run.proposals.filter(
        decision=Proposal.Decision.ACCEPTED, publication=Proposal.Publication.PENDING
    )


def match_run_publish_batch(job: BulkJob) -> int:
    """Publish the next batch of a run's accepted pairs; returns how many proposals it handled
    (0: none left). Runs in the caller's transaction, with the job locked."""
    run = MatchRun.objects.select_related("cohort__program").get(pk=job.payload["run_id"])
    pending = _pending(run).select_related("mentor__user", "mentee__user")
    batch = list(pending.order_by("circle_number", "pk")[:PUBLISH_BATCH_SIZE])
    if not batch:
        return 0
    last = batch[-1]
    if len(batch) == PUBLISH_BATCH_SIZE and last.circle_number:
        batch += pending.filter(circle_number=last.circle_number).exclude(
            pk__in=[p.pk for p in batch]
        )
    cohort = run.cohort
    # The batch's people are locked before their places are read, as self-service locks them
    # (places.py): a mentee accepted by a mentor at this moment cannot also be published.
    enrolments_lock({p.mentor_id for p in batch} | {p.mentee_id for p in batch})
    active = RelationshipMember.objects.filter(
        relationship__cohort=cohort, relationship__status=Relationship.Status.ACTIVE
    )
    # What earlier batches (and anyone matching by hand meanwhile) have done is in the database.
    partnered = set(
        active.filter(
            role__in=[RelationshipMember.Role.MENTEE, RelationshipMember.Role.PEER]
        ).values_list("enrolment_id", flat=True)
    )
    led = selectors.mentor_load(cohort=cohort, count_waiting_requests=False)
    peer_mode = run.parameters.get("mode") == "peer"
    groups: dict[tuple[str, int], list[Proposal]] = defaultdict(list)
    skipped: list[Proposal] = []
    for proposal in batch:
        # Since the run, people may have found a partner another way (self-service, by hand):
        # never give anyone a second partner, nor a mentor more mentees than places.
        taken = proposal.mentee_id in partnered or (peer_mode and proposal.mentor_id in partnered)
        full = (
            not peer_mode
            and not proposal.circle_number
            and (led[proposal.mentor_id] >= capacity_of(proposal.mentor, cohort))
        )
        if taken or full:
            skipped.append(proposal)
            continue
        if peer_mode:
            partnered.update({proposal.mentor_id, proposal.mentee_id})
        elif not proposal.circle_number:
            led[proposal.mentor_id] += 1
        key = (
            ("circle", proposal.circle_number) if proposal.circle_number else ("pair", proposal.pk)
        )
        groups[key].append(proposal)

    now = timezone.now()
    mentor_role = RelationshipMember.Role.PEER if peer_mode else RelationshipMember.Role.MENTOR
    mentee_role = RelationshipMember.Role.PEER if peer_mode else RelationshipMember.Role.MENTEE
    relationships = Relationship.objects.bulk_create(
        Relationship(
            cohort=cohort,
            kind=Relationship.Kind.CIRCLE if kind == "circle" else Relationship.Kind.PAIR,
            source_run=run,
            score=sum(p.score for p in proposals) / len(proposals),
            explanation=proposals[0].explanation if kind == "pair" else "",
            started_at=now,
        )
        for (kind, _), proposals in groups.items()
    )
    members_of: dict[int, list[RelationshipMember]] = {}
    for relationship, proposals in zip(relationships, groups.values(), strict=True):
        members: dict[int, RelationshipMember] = {}
        for proposal in proposals:
            for enrolment, role in ((proposal.mentor, mentor_role), (proposal.mentee, mentee_role)):
                members.setdefault(
                    enrolment.pk,
                    RelationshipMember(relationship=relationship, enrolment=enrolment, role=role),
                )
        members_of[relationship.pk] = list(members.values())
    RelationshipMember.objects.bulk_create(m for ms in members_of.values() for m in ms)
    started = [p.pk for proposals in groups.values() for p in proposals]
    MentorRequest.objects.filter(
        mentee_id__in=[p.mentee_id for proposals in groups.values() for p in proposals],
        status__in=MentorRequest.OPEN_STATUSES,
    ).update(status=MentorRequest.Status.WITHDRAWN)
    Proposal.objects.filter(pk__in=started).update(publication=Proposal.Publication.STARTED)
    if skipped:
        Proposal.objects.filter(pk__in=[p.pk for p in skipped]).update(
            publication=Proposal.Publication.SKIPPED
        )
    notify_many(messages=_start_messages(relationships, members_of))
    return len(batch)


def _start_messages(
    relationships: list[Relationship], members_of: dict[int, list[RelationshipMember]]
) -> list[Message]:
    """What `relationship_notify_start` tells each member, for a batch of relationships."""
    messages = []
    for relationship in relationships:
        members = members_of[relationship.pk]
        url = reverse("goals:relationship_home", args=[relationship.pk])
        for member in members:
            messages.append(
                Message(
                    kind=Notification.Kind.MATCH_PUBLISHED,
                    recipient=member.enrolment.user,
                    about=relationship,
                    context={
                        "relationship": relationship,
                        "member": member,
                        "partners": [m for m in members if m is not member],
                        "cohort": relationship.cohort,
                        "program": relationship.cohort.program,
                    },
                    url=url,
                )
            )
    return messages


def _publish_finish(job: BulkJob) -> tuple[str, list[str]]:
    run = MatchRun.objects.get(pk=job.payload["run_id"])
    MatchRun.objects.filter(pk=run.pk, published_at__isnull=True).update(
        published_at=timezone.now()
    )
    count = Relationship.objects.filter(source_run=run).count()
    kind = "circle" if run.parameters.get("mode") == "circle" else "pair"
    summary = (
        f"Published {count} {kind}{'s' if count != 1 else ''}. "
        f"Everyone in {'it' if count == 1 else 'them'} is emailed."
    )
    skipped = list(
        run.proposals.filter(publication=Proposal.Publication.SKIPPED)
        .select_related("mentee__user")
        .order_by("pk")
    )
    details = []
    if skipped:
        names = ", ".join(str(p.mentee.user) for p in skipped)
        details.append(
            f"Skipped {len(skipped)}: meanwhile they got a mentor another way ({names})."
        )
    return summary, details
