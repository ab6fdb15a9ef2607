"""Every write inside a mentoring relationship. Keyword-only, one transaction each; people can
fix what raises ValidationError (the messages below); members are notified through
notifications.notify (in the app at once, by email on commit).

Every service that creates from a form takes the form's `submission_token` and claims it first
(accounts.services.submission_claim): the same form sent twice raises AlreadySubmittedError with
what the first submit made, so nothing is created, and nobody notified, twice."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import submission_claim, submission_record
from common.unset import UNSET, Unset, passed_values
from matching.models import Relationship, RelationshipMember
from notifications.models import Notification
from notifications.services import notify
from programs.models import Cohort, FeedbackQuestion

from .models import (
    Agreement,
    AgreementSignature,
    CalendarFeed,
    CheckIn,
    CheckInComment,
    CheckInGoalProgress,
    Goal,
    GoalChange,
    Milestone,
    PrivateNote,
    Pulse,
    ReadinessRating,
    Reflection,
    SurveyAnswer,
    SurveyResponse,
    new_calendar_token,
)

# --- Messages people see (tests assert on these).
RELATIONSHIP_ENDED = "This relationship has ended; nothing new can be added to it."
AGREEMENT_CHANGED = (
    "The agreement changed while you were editing it (now version {version}). Your text is "
    "below the current one: copy what you need and save again."
)
AGREEMENT_SIGN_STALE = (
    "The agreement changed since you read it: read version {version} and sign that."
)
AGREEMENT_ALREADY_SIGNED = "You have already signed this version."
MET_IN_FUTURE = "A meeting you are logging cannot be in the future."
MET_BEFORE_START = "The relationship started on {date}: a meeting cannot be before that."
SUMMARY_EMPTY = "Write a short summary of what you talked about."
NEXT_MEETING_IN_PAST = "The next meeting must be in the future."
TARGET_BEFORE_START = "The target date cannot be before the relationship started ({date})."
GOAL_NOT_IN_RELATIONSHIP = "That goal belongs to another relationship."
OWNER_NOT_A_MEMBER = "A goal can only be handed to someone in this relationship."
MILESTONE_TITLE_EMPTY = "Say what the step is."
NOT_YOUR_NOTE = "Only the person who wrote a private note can change it."
NOT_A_MEMBER = "Only the people in this relationship can do that."
CONFIRM_OWN_CHECK_IN = "The other side confirms a check-in, not the person who logged it."
ALREADY_CONFIRMED = "This check-in is already confirmed."
PULSE_GIVEN = "You already gave feedback on this check-in."
SURVEY_NOT_OPEN = "This survey is not open yet."
SURVEY_DONE = "You have already answered this survey."
ANSWER_NEEDED = "Answer every question marked required."
READINESS_NEEDED = "Choose how ready your mentee is, or “I cannot say”."

GOAL_TRACKED_FIELDS = ("title", "measure", "target_date", "status", "progress")


def _active(relationship: Relationship) -> None:
    if relationship.status != Relationship.Status.ACTIVE:
        raise ValidationError(RELATIONSHIP_ENDED)


def _started_on(relationship: Relationship) -> dt.date:
    return timezone.localdate(relationship.started_at)


def _notify_members(
    kind: Notification.Kind,
    *,
    members: list[RelationshipMember],
    relationship_id: int,
    about: Agreement | CheckIn,
    context: dict[str, object],
    period: str = "",
) -> None:
    """Tell each of `members` (on their relationship's page they act on it)."""
    url = reverse("goals:relationship_home", args=[relationship_id])
    for member in members:
        notify(
            kind=kind,
            recipient=member.enrolment.user,
            about=about,
            context=context,
            url=url,
            period=period,
        )


def _member_of(member: RelationshipMember, relationship_id: int) -> None:
    """Members act only in their own relationship."""
    if member.relationship_id != relationship_id:
        raise ValidationError(NOT_A_MEMBER)


def _others(relationship: Relationship, member: RelationshipMember) -> list[RelationshipMember]:
    return list(relationship.members.exclude(pk=member.pk).select_related("enrolment__user"))


# --- Agreement ------------------------------------------------------------------------------


def agreement_draft(*, relationship: Relationship) -> Agreement:
    """The relationship's agreement, drafted from the program's template the first time. Read
    first, outside a transaction (or taken from `relationship` when it was read with it): the
    relationship page asks on every visit, and only the first visit finds none."""
    with contextlib.suppress(Agreement.DoesNotExist):
        return relationship.agreement
    program = relationship.cohort.program
    with transaction.atomic():
        agreement, _ = Agreement.objects.get_or_create(
            relationship=relationship,
            defaults={
                "text": program.agreement_template,
                "meeting_cadence_days": program.meeting_cadence_days,
                "duration_weeks": program.length_weeks,
            },
        )
    return agreement


@transaction.atomic
def agreement_update(
    *,
    agreement: Agreement,
    member: RelationshipMember,
    base_version: int,
    text: str,
    meeting_cadence_days: int,
    meeting_mode: str,
    duration_weeks: int,
) -> Agreement:
    """Save an edit made on `base_version`. If someone saved in between, nothing is saved and
    the caller is told (never a silent overwrite). The editor signs the new version by saving
    it; every other member is asked to sign it (notified, in the app and by email)."""
    agreement = (
        Agreement.objects.select_for_update().select_related("relationship").get(pk=agreement.pk)
    )
    _active(agreement.relationship)
    _member_of(member, agreement.relationship_id)
    if agreement.version != base_version:
        raise ValidationError(AGREEMENT_CHANGED.format(version=agreement.version))
    if not text.strip():
        raise ValidationError({"text": "The agreement cannot be empty."})
    agreement.text = text.strip()
    agreement.meeting_cadence_days = meeting_cadence_days
    agreement.meeting_mode = meeting_mode
    agreement.duration_weeks = duration_weeks
    agreement.version = F("version") + 1
    agreement.updated_by = member.enrolment.user
    agreement.full_clean(exclude=["version"])
    agreement.save()
    agreement.refresh_from_db()
    # Saving is signing: the editor wrote this version (the button says "Save and sign").
    AgreementSignature.objects.create(agreement=agreement, member=member, version=agreement.version)
    # The agreement row stays the same across edits: its version makes each change (and each
    # request to sign) a notification of its own.
    _notify_members(
        Notification.Kind.AGREEMENT_CHANGED,
        members=_others(agreement.relationship, member),
        relationship_id=agreement.relationship_id,
        about=agreement,
        context={"agreement": agreement, "changed_by": member.enrolment.user},
        period=f"v{agreement.version}",
    )
    return agreement


@transaction.atomic
def agreement_sign(
    *, agreement: Agreement, member: RelationshipMember, version: int
) -> AgreementSignature:
    """Sign the version the member read; a stale version is refused."""
    agreement = (
        Agreement.objects.select_for_update().select_related("relationship").get(pk=agreement.pk)
    )
    _active(agreement.relationship)
    _member_of(member, agreement.relationship_id)
    if version != agreement.version:
        raise ValidationError(AGREEMENT_SIGN_STALE.format(version=agreement.version))
    signature, created = AgreementSignature.objects.get_or_create(
        agreement=agreement, member=member, version=version
    )
    if not created:
        raise ValidationError(AGREEMENT_ALREADY_SIGNED)
    return signature


# --- Goals ----------------------------------------------------------------------------------


@transaction.atomic
def goal_create(
    *,
    relationship: Relationship,
    owner: RelationshipMember,
    title: str,
    measure: str,
    target_date: dt.date,
    created_by: User,
    milestones: tuple[str, ...] = (),
    submission_token: uuid.UUID | None = None,
) -> Goal:
    submission_claim(user=created_by, token=submission_token, model=Goal)
    _active(relationship)
    started = _started_on(relationship)
    if target_date < started:
        raise ValidationError({"target_date": TARGET_BEFORE_START.format(date=started)})
    goal = Goal(
        relationship=relationship,
        owner=owner,
        title=title.strip(),
        measure=measure.strip(),
        target_date=target_date,
        created_by=created_by,
    )
    goal.full_clean()
    goal.save()
    Milestone.objects.bulk_create(
        Milestone(goal=goal, title=t.strip()) for t in milestones if t.strip()
    )
    submission_record(user=created_by, token=submission_token, created=goal)
    return goal


@transaction.atomic
def goal_update(
    *,
    goal: Goal,
    changed_by: User,
    title: str | Unset = UNSET,
    measure: str | Unset = UNSET,
    target_date: dt.date | Unset = UNSET,
    status: str | Unset = UNSET,
    progress: int | Unset = UNSET,
    owner: RelationshipMember | Unset = UNSET,
) -> Goal:
    """Change a goal (the fields passed; the rest stay); every changed field is kept in its
    history (who, when, from, to). `owner` hands the goal to another member of the
    relationship."""
    goal = (
        Goal.objects.select_for_update()
        .select_related("relationship", "owner__enrolment__user")
        .get(pk=goal.pk)
    )
    _active(goal.relationship)
    fields = passed_values(locals(), GOAL_TRACKED_FIELDS)
    if target_date is not UNSET and target_date < _started_on(goal.relationship):
        raise ValidationError(
            {"target_date": TARGET_BEFORE_START.format(date=_started_on(goal.relationship))}
        )
    changes = []
    if owner is not UNSET and owner.pk != goal.owner_id:
        if owner.relationship_id != goal.relationship_id:
            raise ValidationError({"owner": OWNER_NOT_A_MEMBER})
        changes.append(
            GoalChange(
                goal=goal,
                changed_by=changed_by,
                field="owner",
                old_value=_member_name(goal.owner),
                new_value=_member_name(owner),
            )
        )
        goal.owner = owner
    for name in GOAL_TRACKED_FIELDS:
        if name not in fields:
            continue
        old, new = getattr(goal, name), fields[name]
        if old != new:
            changes.append(
                GoalChange(
                    goal=goal,
                    changed_by=changed_by,
                    field=name,
                    old_value=str(old),
                    new_value=str(new),
                )
            )
            setattr(goal, name, new)
    if goal.status == Goal.Status.NOT_STARTED and 0 < goal.progress < 100:
        # Progress means it has started: say so, in the history too.
        changes.append(
            GoalChange(
                goal=goal,
                changed_by=changed_by,
                field="status",
                old_value=goal.status,
                new_value=Goal.Status.ON_TRACK,
            )
        )
        goal.status = Goal.Status.ON_TRACK
    if goal.progress == 100 and goal.status not in (Goal.Status.DONE, Goal.Status.DROPPED):
        changes.append(
            GoalChange(
                goal=goal,
                changed_by=changed_by,
                field="status",
                old_value=goal.status,
                new_value=Goal.Status.DONE,
            )
        )
        goal.status = Goal.Status.DONE
    goal.full_clean()
    goal.save()
    GoalChange.objects.bulk_create(changes)
    return goal


def _member_name(member: RelationshipMember) -> str:
    user = member.enrolment.user
    return user.display_name or user.email


def _milestone_label(title: str, due_on: dt.date | None) -> str:
    return f"{title} (due {due_on.isoformat()})" if due_on else title


def _goal_locked(goal_id: int, *, member: RelationshipMember) -> Goal:
    """The goal, locked: milestone changes on one goal (two members ticking at once) are taken
    one after the other, so its progress counts every milestone."""
    goal = Goal.objects.select_for_update().select_related("relationship").get(pk=goal_id)
    _active(goal.relationship)
    _member_of(member, goal.relationship_id)
    return goal


def _goal_follow_milestones(goal: Goal, *, changed_by: User, change: GoalChange) -> Goal:
    """Record `change` and move the goal's progress (and status) to its milestones: done
    milestones out of all, rounded down so 100% means every one is done. A goal whose
    milestones are all removed keeps its progress; a dropped goal keeps its status."""
    change.save()
    milestones = list(goal.milestones.values_list("done_at", flat=True))
    if not milestones:
        return goal
    done = sum(1 for done_at in milestones if done_at is not None)
    progress = done * 100 // len(milestones)
    if goal.status == Goal.Status.DONE and progress < 100:
        # A milestone was unticked or added: the goal is not done any more.
        return goal_update(
            goal=goal, changed_by=changed_by, progress=progress, status=Goal.Status.ON_TRACK
        )
    # goal_update moves "not started" to "on track" and 100% to "done", in the history.
    return goal_update(goal=goal, changed_by=changed_by, progress=progress)


@transaction.atomic
def milestone_toggle(
    *,
    milestone: Milestone,
    done: bool,
    member: RelationshipMember,
) -> Milestone:
    """Tick (or untick) a milestone; the goal's progress and status follow (see
    _goal_follow_milestones), and the tick is kept in the goal's history."""
    goal = _goal_locked(milestone.goal_id, member=member)
    changed_by = member.enrolment.user
    milestone = Milestone.objects.get(pk=milestone.pk)
    if (milestone.done_at is not None) == done:
        return milestone  # a second click of the same state: nothing to record
    milestone.done_at = timezone.now() if done else None
    milestone.save(update_fields=["done_at"])
    _goal_follow_milestones(
        goal,
        changed_by=changed_by,
        change=GoalChange(
            goal=goal,
            changed_by=changed_by,
            field="milestone",
            old_value=f"{milestone.title}: {'not done' if done else 'done'}",
            new_value=f"{milestone.title}: {'done' if done else 'not done'}",
        ),
    )
    return milestone


@transaction.atomic
def milestone_add(
    *,
    goal: Goal,
    title: str,
    member: RelationshipMember,
    due_on: dt.date | None = None,
) -> Milestone:
    """Add a step to a goal after it was set; its progress follows (a done goal reopens)."""
    goal = _goal_locked(goal.pk, member=member)
    changed_by = member.enrolment.user
    if not title.strip():
        raise ValidationError({"title": MILESTONE_TITLE_EMPTY})
    milestone = Milestone(goal=goal, title=title.strip(), due_on=due_on)
    milestone.full_clean()
    milestone.save()
    _goal_follow_milestones(
        goal,
        changed_by=changed_by,
        change=GoalChange(
            goal=goal,
            changed_by=changed_by,
            field="milestone",
            old_value="",
            new_value=_milestone_label(milestone.title, due_on),
        ),
    )
    return milestone


@transaction.atomic
def milestone_update(
    *,
    milestone: Milestone,
    title: str,
    member: RelationshipMember,
    due_on: dt.date | None = None,
) -> Milestone:
    """Rename a milestone or change its date, kept in the goal's history."""
    _goal_locked(milestone.goal_id, member=member)
    changed_by = member.enrolment.user
    milestone = Milestone.objects.get(pk=milestone.pk)
    if not title.strip():
        raise ValidationError({"title": MILESTONE_TITLE_EMPTY})
    old = _milestone_label(milestone.title, milestone.due_on)
    milestone.title, milestone.due_on = title.strip(), due_on
    new = _milestone_label(milestone.title, milestone.due_on)
    if old == new:
        return milestone
    milestone.full_clean()
    milestone.save(update_fields=["title", "due_on"])
    GoalChange.objects.create(
        goal_id=milestone.goal_id,
        changed_by=changed_by,
        field="milestone",
        old_value=old,
        new_value=new,
    )
    return milestone


@transaction.atomic
def milestone_remove(*, milestone: Milestone, member: RelationshipMember) -> Goal:
    """Remove a milestone; the goal's progress follows the ones left (kept as it was when none
    is left), and the removal is kept in its history."""
    goal = _goal_locked(milestone.goal_id, member=member)
    changed_by = member.enrolment.user
    milestone = Milestone.objects.get(pk=milestone.pk)
    label = _milestone_label(milestone.title, milestone.due_on)
    milestone.delete()
    return _goal_follow_milestones(
        goal,
        changed_by=changed_by,
        change=GoalChange(
            goal=goal, changed_by=changed_by, field="milestone", old_value=label, new_value=""
        ),
    )


# --- Check-ins ------------------------------------------------------------------------------


@transaction.atomic
def check_in_log(
    *,
    relationship: Relationship,
    member: RelationshipMember,
    met_on: dt.date,
    duration_minutes: int,
    mode: str,
    summary: str,
    next_steps: str = "",
    next_meeting_at: dt.datetime | None = None,
    goal_progress: Mapping[int, int] | None = None,
    private_note: str = "",
    submission_token: uuid.UUID | None = None,
) -> CheckIn:
    """Log a meeting. The partner is asked to confirm it; goal progress given here updates the
    goals (with history); a private note is kept for the logger only."""
    logged_by = member.enrolment.user
    submission_claim(user=logged_by, token=submission_token, model=CheckIn)
    _active(relationship)
    errors: dict[str, str] = {}
    started = _started_on(relationship)
    if met_on > timezone.localdate():
        errors["met_on"] = MET_IN_FUTURE
    elif met_on < started:
        errors["met_on"] = MET_BEFORE_START.format(date=started)
    if not summary.strip():
        errors["summary"] = SUMMARY_EMPTY
    if next_meeting_at is not None and next_meeting_at <= timezone.now():
        errors["next_meeting_at"] = NEXT_MEETING_IN_PAST
    if errors:
        raise ValidationError(errors)
    check_in = CheckIn(
        relationship=relationship,
        logged_by=member,
        met_on=met_on,
        duration_minutes=duration_minutes,
        mode=mode,
        summary=summary.strip(),
        next_steps=next_steps.strip(),
        next_meeting_at=next_meeting_at,
    )
    check_in.full_clean()
    check_in.save()
    goals = {g.pk: g for g in relationship.goals.all()}
    for goal_id, progress in (goal_progress or {}).items():
        if goal_id not in goals:
            raise ValidationError(GOAL_NOT_IN_RELATIONSHIP)
        CheckInGoalProgress.objects.create(check_in=check_in, goal_id=goal_id, progress=progress)
        goal_update(goal=goals[goal_id], changed_by=logged_by, progress=progress)
    if private_note.strip():
        PrivateNote.objects.create(
            author=logged_by,
            relationship=relationship,
            check_in=check_in,
            text=private_note.strip(),
        )
    _notify_members(
        Notification.Kind.CHECK_IN_LOGGED,
        members=_others(relationship, member),
        relationship_id=relationship.pk,
        about=check_in,
        context={"check_in": check_in, "logged_by": logged_by},
    )
    submission_record(user=logged_by, token=submission_token, created=check_in)
    return check_in


@transaction.atomic
def check_in_confirm(*, check_in: CheckIn, member: RelationshipMember) -> CheckIn:
    check_in = (
        CheckIn.objects.select_for_update().select_related("relationship").get(pk=check_in.pk)
    )
    _active(check_in.relationship)
    _member_of(member, check_in.relationship_id)
    if check_in.logged_by_id == member.pk:
        raise ValidationError(CONFIRM_OWN_CHECK_IN)
    if check_in.confirmed_at is not None:
        raise ValidationError(ALREADY_CONFIRMED)
    check_in.confirmed_by = member
    check_in.confirmed_at = timezone.now()
    check_in.save(update_fields=["confirmed_by", "confirmed_at"])
    return check_in


@transaction.atomic
def check_in_comment(
    *,
    check_in: CheckIn,
    member: RelationshipMember,
    text: str,
    submission_token: uuid.UUID | None = None,
) -> CheckInComment:
    author = member.enrolment.user
    submission_claim(user=author, token=submission_token, model=CheckInComment)
    _active(check_in.relationship)
    _member_of(member, check_in.relationship_id)
    if not text.strip():
        raise ValidationError({"text": "Write a comment first."})
    comment = CheckInComment.objects.create(check_in=check_in, author=member, text=text.strip())
    submission_record(user=author, token=submission_token, created=comment)
    return comment


@transaction.atomic
def private_note_add(
    *,
    author: User,
    relationship: Relationship,
    text: str,
    check_in: CheckIn | None = None,
    submission_token: uuid.UUID | None = None,
) -> PrivateNote:
    submission_claim(user=author, token=submission_token, model=PrivateNote)
    _active(relationship)
    if not text.strip():
        raise ValidationError({"text": "Write something first."})
    note = PrivateNote.objects.create(
        author=author, relationship=relationship, check_in=check_in, text=text.strip()
    )
    submission_record(user=author, token=submission_token, created=note)
    return note


def _own_note(note: PrivateNote, author: User) -> PrivateNote:
    """The note, locked, if `author` wrote it: nobody else may change or remove it (views fetch
    notes among the viewer's own, so anyone else gets a 404 before this)."""
    note = PrivateNote.objects.select_for_update().get(pk=note.pk)
    if note.author_id != author.pk:
        raise PermissionDenied(NOT_YOUR_NOTE)
    return note


@transaction.atomic
def private_note_update(*, note: PrivateNote, author: User, text: str) -> PrivateNote:
    """Rewrite one's own private note. Like the note, the change is private: no history, no
    notification; only its `updated_at` moves."""
    note = _own_note(note, author)
    if not text.strip():
        raise ValidationError({"text": "Write something first, or delete the note."})
    note.text = text.strip()
    note.full_clean()
    note.save(update_fields=["text", "updated_at"])
    return note


@transaction.atomic
def private_note_delete(*, note: PrivateNote, author: User) -> None:
    """Delete one's own private note for good (also after the relationship ended: it is the
    author's own text)."""
    _own_note(note, author).delete()


# --- Feedback -------------------------------------------------------------------------------


@transaction.atomic
def pulse_give(
    *,
    check_in: CheckIn,
    member: RelationshipMember,
    usefulness: int,
    line: str = "",
    submission_token: uuid.UUID | None = None,
) -> Pulse:
    submission_claim(user=member.enrolment.user, token=submission_token, model=Pulse)
    _member_of(member, check_in.relationship_id)
    if Pulse.objects.filter(check_in=check_in, author=member).exists():
        raise ValidationError(PULSE_GIVEN)
    pulse = Pulse(check_in=check_in, author=member, usefulness=usefulness, line=line.strip())
    pulse.full_clean()
    pulse.save()
    submission_record(user=member.enrolment.user, token=submission_token, created=pulse)
    return pulse


def survey_stage_open(
    *, relationship: Relationship, stage: str, today: dt.date | None = None
) -> bool:
    """Midpoint: from half-way through the cohort. Final: once the cohort is closing or the
    relationship has ended."""
    today = today or timezone.localdate()
    cohort = relationship.cohort
    if stage == SurveyResponse.Stage.MIDPOINT:
        midpoint = cohort.starts_on + (cohort.ends_on - cohort.starts_on) / 2
        return today >= midpoint
    return (
        cohort.status in (Cohort.Status.CLOSING, Cohort.Status.CLOSED)
        or relationship.status == Relationship.Status.ENDED
    )


def survey_questions_for(*, member: RelationshipMember) -> list[FeedbackQuestion]:
    """The program's questions this member is asked: theirs by role, and everyone's."""
    asked_of = {"mentee": "mentee", "mentor": "mentor"}.get(member.role, "everyone")
    return list(
        member.relationship.cohort.program.questions.filter(
            asked_of__in=[asked_of, FeedbackQuestion.AskedOf.EVERYONE]
        ).order_by("position", "pk")
    )


def survey_readiness_mentees(*, member: RelationshipMember, stage: str) -> list[RelationshipMember]:
    """The mentees a member rates for readiness in this survey: a mentor's, in the final
    survey only (see ReadinessRating); nobody otherwise."""
    if member.role != RelationshipMember.Role.MENTOR or stage != SurveyResponse.Stage.FINAL:
        return []
    return list(
        RelationshipMember.objects.filter(
            relationship_id=member.relationship_id, role=RelationshipMember.Role.MENTEE
        )
        .select_related("enrolment__user")
        .order_by("pk")
    )


@transaction.atomic
def survey_submit(
    *,
    relationship: Relationship,
    member: RelationshipMember,
    stage: str,
    answers: Mapping[int, int | str | None],
    readiness: Mapping[int, str] | None = None,
    submission_token: uuid.UUID | None = None,
) -> SurveyResponse:
    """Store a member's survey. Each answer keeps its question's visibility as it was when
    answered (the partner and the coordinator, or the coordinator only). A mentor's final
    survey also rates each mentee's readiness for a next role (`readiness`, by the mentee's
    member id), which the close-out report reads by name."""
    submission_claim(user=member.enrolment.user, token=submission_token, model=SurveyResponse)
    if not survey_stage_open(relationship=relationship, stage=stage):
        raise ValidationError(SURVEY_NOT_OPEN)
    if SurveyResponse.objects.filter(
        relationship=relationship, author=member, stage=stage
    ).exists():
        raise ValidationError(SURVEY_DONE)
    questions = survey_questions_for(member=member)
    response = SurveyResponse.objects.create(relationship=relationship, author=member, stage=stage)
    rows = []
    for question in questions:
        value = answers.get(question.pk)
        if question.answer_kind == FeedbackQuestion.AnswerKind.SCALE:
            if value is None or value == "":
                raise ValidationError({f"q{question.pk}": ANSWER_NEEDED})
            scale = int(value)
            if not 1 <= scale <= 5:
                raise ValidationError({f"q{question.pk}": "Choose 1 to 5."})
            rows.append(
                SurveyAnswer(
                    response=response,
                    question=question,
                    scale_value=scale,
                    visible_to=question.visible_to,
                )
            )
        elif value:
            rows.append(
                SurveyAnswer(
                    response=response,
                    question=question,
                    text_value=str(value).strip(),
                    visible_to=question.visible_to,
                )
            )
    SurveyAnswer.objects.bulk_create(rows)
    ratings = []
    for mentee in survey_readiness_mentees(member=member, stage=stage):
        value = (readiness or {}).get(mentee.pk)
        if value not in ReadinessRating.Readiness.values:
            raise ValidationError({f"readiness{mentee.pk}": READINESS_NEEDED})
        ratings.append(ReadinessRating(response=response, mentee=mentee, readiness=value))
    ReadinessRating.objects.bulk_create(ratings)
    submission_record(user=member.enrolment.user, token=submission_token, created=response)
    return response


# --- Reflection -----------------------------------------------------------------------------


@transaction.atomic
def reflection_write(
    *,
    author: User,
    relationship: Relationship,
    stage: str,
    prompt: str,
    text: str,
    shared: bool = False,
    submission_token: uuid.UUID | None = None,
) -> Reflection:
    submission_claim(user=author, token=submission_token, model=Reflection)
    if not text.strip():
        raise ValidationError({"text": "Write your reflection first."})
    reflection = Reflection(
        author=author,
        relationship=relationship,
        stage=stage,
        prompt=prompt[:300],
        text=text.strip(),
        shared=shared,
    )
    reflection.full_clean()
    reflection.save()
    submission_record(user=author, token=submission_token, created=reflection)
    return reflection


@transaction.atomic
def reflection_share(*, reflection: Reflection, shared: bool) -> Reflection:
    reflection.shared = shared
    reflection.save(update_fields=["shared", "updated_at"])
    return reflection


# --- Calendar -------------------------------------------------------------------------------


@transaction.atomic
def calendar_feed_get(*, user: User) -> CalendarFeed:
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    return feed


@transaction.atomic
def calendar_feed_rotate(*, user: User) -> CalendarFeed:
    """Replace the private link: the old one stops working at once."""
    feed, _ = CalendarFeed.objects.get_or_create(user=user)
    feed.token = new_calendar_token()
    feed.save(update_fields=["token"])
    return feed
