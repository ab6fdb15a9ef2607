"""Writes inside a mentoring relationship: agreement, goals, check-ins, feedback, reflection,
calendar, and closing the relationship. The clock is frozen (time-machine) so dates are exact."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from goals import services
from goals.models import (
    AgreementSignature,
    CheckIn,
    CheckInGoalProgress,
    GoalChange,
    PrivateNote,
    SurveyAnswer,
    SurveyResponse,
)
from matching import services as matching_services
from matching.models import Relationship, RelationshipMember
from programs.models import Cohort, FeedbackQuestion
from tests.factories import RelationshipFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
STARTED = TODAY - dt.timedelta(days=30)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def active_cohort(cohort):
    cohort.status = Cohort.Status.ACTIVE
    cohort.starts_on = STARTED
    cohort.ends_on = STARTED + dt.timedelta(weeks=26)
    cohort.save()
    return cohort


@pytest.fixture
def relationship(active_cohort, mentor, mentee) -> Relationship:
    """Maya mentors Mo; they started 30 days ago."""
    return RelationshipFactory(cohort=active_cohort, mentor=mentor, mentee=mentee)


@pytest.fixture
def maya(relationship) -> RelationshipMember:
    return relationship.members.get(role="mentor")


@pytest.fixture
def mo(relationship) -> RelationshipMember:
    return relationship.members.get(role="mentee")


@pytest.fixture
def other_relationship(active_cohort) -> Relationship:
    """Another pair of the same cohort: nothing of Maya and Mo's belongs to it."""
    return RelationshipFactory(
        cohort=active_cohort,
        mentor=UserFactory(email="theo.mentor@example.org"),
        mentee=UserFactory(email="dana.mentee@example.org"),
    )


@pytest.fixture
def questions(program) -> dict[str, FeedbackQuestion]:
    def ask(text, kind, asked_of, visible_to, position):
        return FeedbackQuestion.objects.create(
            program=program,
            text=text,
            answer_kind=kind,
            asked_of=asked_of,
            visible_to=visible_to,
            position=position,
        )

    scale, text = FeedbackQuestion.AnswerKind.SCALE, FeedbackQuestion.AnswerKind.TEXT
    return {
        "useful": ask("How useful?", scale, "everyone", "partner", 0),
        "about_mentor": ask("Does your mentor listen?", scale, "mentee", "coordinator", 1),
        "about_mentee": ask("Is your mentee prepared?", scale, "mentor", "coordinator", 2),
        "better": ask("One thing to improve?", text, "everyone", "coordinator", 3),
    }


def log(relationship, member, **fields):
    values = {
        "met_on": TODAY - dt.timedelta(days=2),
        "duration_minutes": 45,
        "mode": CheckIn.Mode.VIDEO,
        "summary": "Talked about presenting to the board.",
    }
    return services.check_in_log(relationship=relationship, member=member, **{**values, **fields})


def message_of(error: ValidationError) -> list[str]:
    return error.messages


# --- Agreement ------------------------------------------------------------------------------


def agreement_edit(agreement, member, *, base_version, text="We meet every two weeks."):
    return services.agreement_update(
        agreement=agreement,
        member=member,
        base_version=base_version,
        text=text,
        meeting_cadence_days=14,
        meeting_mode="video",
        duration_weeks=26,
    )


def test_it_drafts_the_agreement_from_the_program_template_once(relationship, program):
    program.agreement_template = "We keep what we say here between us."
    program.meeting_cadence_days = 21
    program.length_weeks = 12
    program.save()

    first = services.agreement_draft(relationship=relationship)
    again = services.agreement_draft(relationship=relationship)

    assert again.pk == first.pk
    assert (first.text, first.meeting_cadence_days, first.duration_weeks, first.version) == (
        "We keep what we say here between us.",
        21,
        12,
        1,
    )


def test_it_saves_an_edit_as_a_new_version(relationship, maya, mentor):
    agreement = services.agreement_draft(relationship=relationship)

    edited = agreement_edit(agreement, maya, base_version=1, text="  Fortnightly, on video.  ")

    assert edited.version == 2
    assert edited.text == "Fortnightly, on video."
    assert edited.updated_by == mentor


def test_it_refuses_an_edit_made_on_a_stale_version(relationship, maya, mo):
    agreement = services.agreement_draft(relationship=relationship)
    agreement_edit(agreement, maya, base_version=1, text="Maya's version.")

    with pytest.raises(ValidationError) as error:
        agreement_edit(agreement, mo, base_version=1, text="Mo's version.")

    assert message_of(error.value) == [services.AGREEMENT_CHANGED.format(version=2)]
    agreement.refresh_from_db()
    assert (agreement.text, agreement.version) == ("Maya's version.", 2)


def test_it_counts_the_editor_as_signing_and_asks_the_others_on_every_edit(
    relationship, maya, mo, mentor, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    agreement = services.agreement_draft(relationship=relationship)
    with django_capture_on_commit_callbacks(execute=True):
        agreement = agreement_edit(agreement, maya, base_version=1)

    # Nobody had signed version 1: the partner is told all the same, and Maya has signed v2.
    assert [m.to for m in mailoutbox] == [[mentee.email]]
    assert (
        mailoutbox[0].subject == "Your mentoring agreement changed: please read and sign version 2"
    )
    assert set(agreement.signatures.filter(version=2).values_list("member", flat=True)) == {maya.pk}

    services.agreement_sign(agreement=agreement, member=mo, version=2)
    with django_capture_on_commit_callbacks(execute=True):
        agreement = agreement_edit(agreement, mo, base_version=2, text="Monthly, in person.")

    assert [m.to for m in mailoutbox] == [[mentee.email], [mentor.email]]
    assert set(agreement.signatures.filter(version=3).values_list("member", flat=True)) == {mo.pk}


def test_it_refuses_an_agreement_edit_from_someone_outside_the_relationship(
    relationship, other_relationship
):
    agreement = services.agreement_draft(relationship=relationship)
    stranger = other_relationship.members.get(role="mentee")

    with pytest.raises(ValidationError) as error:
        agreement_edit(agreement, stranger, base_version=1, text="Not mine to change.")

    assert message_of(error.value) == [services.NOT_A_MEMBER]
    agreement.refresh_from_db()
    assert agreement.version == 1
    assert not AgreementSignature.objects.exists()


def test_it_refuses_a_signature_on_a_stale_version_and_a_second_signature(relationship, maya, mo):
    agreement = services.agreement_draft(relationship=relationship)
    agreement = agreement_edit(agreement, maya, base_version=1)

    with pytest.raises(ValidationError) as stale:
        services.agreement_sign(agreement=agreement, member=mo, version=1)
    services.agreement_sign(agreement=agreement, member=mo, version=2)
    with pytest.raises(ValidationError) as twice:
        services.agreement_sign(agreement=agreement, member=mo, version=2)

    assert message_of(stale.value) == [services.AGREEMENT_SIGN_STALE.format(version=2)]
    assert message_of(twice.value) == [services.AGREEMENT_ALREADY_SIGNED]
    # Maya signed version 2 by saving it, Mo once by hand.
    assert AgreementSignature.objects.filter(agreement=agreement).count() == 2


def test_it_no_longer_counts_an_earlier_signature_after_an_edit(relationship, maya, mo):
    agreement = services.agreement_draft(relationship=relationship)
    services.agreement_sign(agreement=agreement, member=maya, version=1)
    services.agreement_sign(agreement=agreement, member=mo, version=1)

    agreement = agreement_edit(agreement, maya, base_version=1)

    # Mo's signature of version 1 does not carry over; Maya signed version 2 by saving it.
    signed = agreement.signatures.filter(version=agreement.version)
    assert list(signed.values_list("member", flat=True)) == [maya.pk]
    services.agreement_sign(agreement=agreement, member=mo, version=2)
    assert set(signed.values_list("member", flat=True)) == {maya.pk, mo.pk}


# --- Goals ----------------------------------------------------------------------------------


def goal_create(relationship, owner, user, **fields):
    values = {
        "title": "Present to the board",
        "measure": "One board presentation given",
        "target_date": TODAY + dt.timedelta(days=60),
    }
    return services.goal_create(
        relationship=relationship, owner=owner, created_by=user, **{**values, **fields}
    )


def test_it_creates_a_goal_with_its_milestones(relationship, mo, mentee):
    goal = goal_create(relationship, mo, mentee, milestones=("Draft the deck", "  ", "Rehearse"))

    assert goal.status == "not_started"
    assert [m.title for m in goal.milestones.order_by("pk")] == ["Draft the deck", "Rehearse"]


def test_it_refuses_a_goal_target_before_the_relationship_started(relationship, mo, mentee):
    with pytest.raises(ValidationError) as error:
        goal_create(relationship, mo, mentee, target_date=STARTED - dt.timedelta(days=1))

    assert error.value.message_dict == {
        "target_date": [services.TARGET_BEFORE_START.format(date=STARTED)]
    }
    assert not relationship.goals.exists()


def test_it_records_one_change_per_changed_field(relationship, mo, mentee, mentor):
    goal = goal_create(relationship, mo, mentee)

    services.goal_update(
        goal=goal,
        changed_by=mentor,
        title="Present to the leadership team",
        measure=goal.measure,  # unchanged: no history
        progress=30,
    )

    changes = {c.field: c for c in GoalChange.objects.filter(goal=goal)}
    # Progress on a goal not yet started also moves it on track, in the history too.
    assert set(changes) == {"title", "progress", "status"}
    assert (changes["title"].old_value, changes["title"].new_value) == (
        "Present to the board",
        "Present to the leadership team",
    )
    assert (changes["progress"].old_value, changes["progress"].new_value) == ("0", "30")
    assert {c.changed_by for c in changes.values()} == {mentor}


def test_it_marks_a_goal_done_at_full_progress(relationship, mo, mentee):
    goal = goal_create(relationship, mo, mentee)

    goal = services.goal_update(goal=goal, changed_by=mentee, progress=100)

    assert goal.status == "done"
    status_change = GoalChange.objects.get(goal=goal, field="status")
    assert (status_change.old_value, status_change.new_value) == ("not_started", "done")


def test_it_puts_a_not_started_goal_on_track_once_it_has_progress(relationship, mo, mentee):
    goal = goal_create(relationship, mo, mentee)

    goal = services.goal_update(goal=goal, changed_by=mentee, progress=30)

    assert goal.status == "on_track"
    status_change = GoalChange.objects.get(goal=goal, field="status")
    assert (status_change.old_value, status_change.new_value) == ("not_started", "on_track")


def test_it_toggles_a_milestone(relationship, mo, mentee):
    milestone = goal_create(relationship, mo, mentee, milestones=("Draft",)).milestones.get()

    services.milestone_toggle(milestone=milestone, done=True, member=mo)
    milestone.refresh_from_db()
    assert milestone.done_at == NOW

    services.milestone_toggle(milestone=milestone, done=False, member=mo)
    milestone.refresh_from_db()
    assert milestone.done_at is None


def history_of(goal) -> list[tuple[str, str, str]]:
    return [(c.field, c.old_value, c.new_value) for c in goal.changes.order_by("pk")]


def test_it_moves_a_goals_progress_and_status_with_its_milestones(relationship, mo, mentee):
    goal = goal_create(relationship, mo, mentee, milestones=("Draft", "Rehearse", "Present"))
    draft, rehearse, present = goal.milestones.order_by("pk")

    services.milestone_toggle(milestone=draft, done=True, member=mo)
    goal.refresh_from_db()
    assert (goal.status, goal.progress) == ("on_track", 33)

    services.milestone_toggle(milestone=rehearse, done=True, member=mo)
    services.milestone_toggle(milestone=present, done=True, member=mo)
    goal.refresh_from_db()
    assert (goal.status, goal.progress) == ("done", 100)

    services.milestone_toggle(milestone=present, done=False, member=mo)
    goal.refresh_from_db()
    assert (goal.status, goal.progress) == ("on_track", 66)
    # Every tick, and every move of progress and status, is in the history, by its author.
    assert history_of(goal) == [
        ("milestone", "Draft: not done", "Draft: done"),
        ("progress", "0", "33"),
        ("status", "not_started", "on_track"),
        ("milestone", "Rehearse: not done", "Rehearse: done"),
        ("progress", "33", "66"),
        ("milestone", "Present: not done", "Present: done"),
        ("progress", "66", "100"),
        ("status", "on_track", "done"),
        ("milestone", "Present: done", "Present: not done"),
        ("status", "done", "on_track"),
        ("progress", "100", "66"),
    ]
    assert set(goal.changes.values_list("changed_by", flat=True)) == {mentee.pk}


def test_it_records_nothing_when_a_milestone_is_ticked_twice(relationship, mo, mentee):
    milestone = goal_create(relationship, mo, mentee, milestones=("Draft",)).milestones.get()

    services.milestone_toggle(milestone=milestone, done=True, member=mo)
    services.milestone_toggle(milestone=milestone, done=True, member=mo)

    assert GoalChange.objects.filter(field="milestone").count() == 1


def test_it_adds_edits_and_removes_milestones_after_the_goal_is_set(relationship, mo, mentee):
    goal = goal_create(relationship, mo, mentee, milestones=("Draft",))
    services.milestone_toggle(milestone=goal.milestones.get(), done=True, member=mo)
    goal.refresh_from_db()
    assert goal.status == "done"

    # A new step reopens a done goal.
    added = services.milestone_add(
        goal=goal, member=mo, title="  Rehearse  ", due_on=TODAY + dt.timedelta(days=7)
    )
    goal.refresh_from_db()
    assert (goal.status, goal.progress) == ("on_track", 50)
    assert added.title == "Rehearse"

    services.milestone_update(milestone=added, member=mo, title="Rehearse twice", due_on=None)
    added.refresh_from_db()
    assert (added.title, added.due_on) == ("Rehearse twice", None)

    # Removing the one step not done leaves every remaining step done: the goal is done.
    services.milestone_remove(milestone=added, member=mo)
    goal.refresh_from_db()
    assert (goal.status, goal.progress) == ("done", 100)
    due = (TODAY + dt.timedelta(days=7)).isoformat()
    assert [c for c in history_of(goal) if c[0] == "milestone"] == [
        ("milestone", "Draft: not done", "Draft: done"),
        ("milestone", "", f"Rehearse (due {due})"),
        ("milestone", f"Rehearse (due {due})", "Rehearse twice"),
        ("milestone", "Rehearse twice", ""),
    ]


def test_it_keeps_the_progress_when_the_last_milestone_is_removed(relationship, mo, mentee):
    goal = goal_create(relationship, mo, mentee, milestones=("Draft", "Rehearse"))
    draft, rehearse = goal.milestones.order_by("pk")
    services.milestone_toggle(milestone=draft, done=True, member=mo)
    services.milestone_remove(milestone=rehearse, member=mo)
    goal.refresh_from_db()
    assert (goal.status, goal.progress) == ("done", 100)

    services.milestone_remove(milestone=draft, member=mo)

    goal.refresh_from_db()
    assert (goal.status, goal.progress) == ("done", 100)
    assert not goal.milestones.exists()


def test_it_refuses_milestone_changes_from_outside_the_relationship(
    relationship, other_relationship, mo, mentee
):
    goal = goal_create(relationship, mo, mentee, milestones=("Draft",))
    milestone = goal.milestones.get()
    stranger = other_relationship.members.get(role="mentor")

    for attempt in (
        lambda: services.milestone_toggle(milestone=milestone, done=True, member=stranger),
        lambda: services.milestone_add(goal=goal, title="Mine now", member=stranger),
        lambda: services.milestone_update(milestone=milestone, title="X", member=stranger),
        lambda: services.milestone_remove(milestone=milestone, member=stranger),
    ):
        with pytest.raises(ValidationError) as error:
            attempt()
        assert message_of(error.value) == [services.NOT_A_MEMBER]

    assert [(m.title, m.done_at) for m in goal.milestones.all()] == [("Draft", None)]
    assert not GoalChange.objects.exists()


def test_it_refuses_an_empty_milestone(relationship, mo, mentee):
    goal = goal_create(relationship, mo, mentee)

    with pytest.raises(ValidationError) as error:
        services.milestone_add(goal=goal, title="   ", member=mo)

    assert error.value.message_dict == {"title": [services.MILESTONE_TITLE_EMPTY]}
    assert not goal.milestones.exists()


def test_it_hands_a_goal_to_another_member_with_history(relationship, maya, mo, mentee):
    goal = goal_create(relationship, mo, mentee)

    goal = services.goal_update(goal=goal, changed_by=mentee, owner=maya)

    assert goal.owner == maya
    assert history_of(goal) == [("owner", "Mo Mentee", "Maya Mentor")]


def test_it_refuses_to_hand_a_goal_to_someone_outside_the_relationship(
    relationship, other_relationship, mo, mentee
):
    goal = goal_create(relationship, mo, mentee)

    with pytest.raises(ValidationError) as error:
        services.goal_update(
            goal=goal, changed_by=mentee, owner=other_relationship.members.get(role="mentee")
        )

    assert error.value.message_dict == {"owner": [services.OWNER_NOT_A_MEMBER]}
    goal.refresh_from_db()
    assert goal.owner == mo


# --- Private notes --------------------------------------------------------------------------


def test_it_lets_the_author_rewrite_and_delete_a_private_note(relationship, mentee):
    note = services.private_note_add(author=mentee, relationship=relationship, text="First.")

    services.private_note_update(note=note, author=mentee, text="  Second thoughts.  ")
    note.refresh_from_db()
    assert note.text == "Second thoughts."

    services.private_note_delete(note=note, author=mentee)
    assert not PrivateNote.objects.exists()


def test_it_refuses_an_empty_rewrite_of_a_private_note(relationship, mentee):
    note = services.private_note_add(author=mentee, relationship=relationship, text="Keep me.")

    with pytest.raises(ValidationError):
        services.private_note_update(note=note, author=mentee, text="   ")

    note.refresh_from_db()
    assert note.text == "Keep me."


@pytest.mark.parametrize("who", ["mentor", "coordinator", "admin_user"])
def test_it_lets_nobody_but_the_author_change_a_private_note(
    request, relationship, mentee, who, mailoutbox, django_capture_on_commit_callbacks
):
    note = services.private_note_add(author=mentee, relationship=relationship, text="Mine.")
    someone = request.getfixturevalue(who)

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(PermissionDenied):
            services.private_note_update(note=note, author=someone, text="Overwritten.")
        with pytest.raises(PermissionDenied):
            services.private_note_delete(note=note, author=someone)

    note.refresh_from_db()
    assert note.text == "Mine."
    assert mailoutbox == []


# --- Check-ins ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"met_on": TODAY + dt.timedelta(days=1)}, "met_on", services.MET_IN_FUTURE),
        (
            {"met_on": STARTED - dt.timedelta(days=1)},
            "met_on",
            services.MET_BEFORE_START.format(date=STARTED),
        ),
        ({"summary": "   "}, "summary", services.SUMMARY_EMPTY),
        ({"next_meeting_at": NOW}, "next_meeting_at", services.NEXT_MEETING_IN_PAST),
    ],
    ids=["future", "before-start", "empty-summary", "next-meeting-now"],
)
def test_it_refuses_a_check_in_people_can_fix(relationship, mo, fields, field, message):
    with pytest.raises(ValidationError) as error:
        log(relationship, mo, **fields)

    assert error.value.message_dict == {field: [message]}
    assert not CheckIn.objects.exists()


def test_it_accepts_a_meeting_today_and_on_the_first_day(relationship, mo):
    log(relationship, mo, met_on=TODAY)
    log(relationship, mo, met_on=STARTED)

    assert CheckIn.objects.count() == 2


def test_it_refuses_a_check_in_on_an_ended_relationship(relationship, mo):
    Relationship.objects.filter(pk=relationship.pk).update(status=Relationship.Status.ENDED)
    relationship.refresh_from_db()

    with pytest.raises(ValidationError) as error:
        log(relationship, mo)

    assert message_of(error.value) == [services.RELATIONSHIP_ENDED]


def test_it_refuses_progress_on_a_goal_of_another_relationship(
    relationship, other_relationship, mo
):
    theirs = goal_create(
        other_relationship,
        other_relationship.members.get(role="mentee"),
        other_relationship.members.get(role="mentee").enrolment.user,
    )

    with pytest.raises(ValidationError) as error:
        log(relationship, mo, goal_progress={theirs.pk: 50})

    assert message_of(error.value) == [services.GOAL_NOT_IN_RELATIONSHIP]
    theirs.refresh_from_db()
    assert theirs.progress == 0
    assert not CheckIn.objects.exists()


def test_it_logs_goal_progress_and_updates_the_goals_with_history(relationship, mo, mentee):
    goal = goal_create(relationship, mo, mentee)

    check_in = log(relationship, mo, goal_progress={goal.pk: 40})

    progress = CheckInGoalProgress.objects.get(check_in=check_in)
    assert (progress.goal, progress.progress) == (goal, 40)
    goal.refresh_from_db()
    assert goal.progress == 40
    change = GoalChange.objects.get(goal=goal, field="progress")
    assert (change.field, change.old_value, change.new_value, change.changed_by) == (
        "progress",
        "0",
        "40",
        mentee,
    )


def test_it_keeps_a_private_note_for_the_logger_only(relationship, mo, mentee):
    check_in = log(relationship, mo, private_note="  I felt unprepared.  ")

    note = PrivateNote.objects.get()
    assert (note.author, note.relationship, note.check_in, note.text) == (
        mentee,
        relationship,
        check_in,
        "I felt unprepared.",
    )


def test_it_emails_the_partner_without_the_private_note(
    relationship, mo, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        log(
            relationship,
            mo,
            summary="We rehearsed the opening.",
            private_note="I am nervous about Maya's tone.",
        )

    (email,) = mailoutbox
    assert email.to == [mentor.email]
    assert "We rehearsed the opening." in email.body
    bodies = [email.subject, email.body] + [content for content, _ in email.alternatives]
    assert not any("nervous" in body for body in bodies)


def test_it_lets_only_the_other_side_confirm_a_check_in_once(relationship, maya, mo):
    check_in = log(relationship, mo)

    with pytest.raises(ValidationError) as own:
        services.check_in_confirm(check_in=check_in, member=mo)
    services.check_in_confirm(check_in=check_in, member=maya)
    with pytest.raises(ValidationError) as again:
        services.check_in_confirm(check_in=check_in, member=maya)

    assert message_of(own.value) == [services.CONFIRM_OWN_CHECK_IN]
    assert message_of(again.value) == [services.ALREADY_CONFIRMED]
    check_in.refresh_from_db()
    assert (check_in.confirmed_by, check_in.confirmed_at) == (maya, NOW)


def test_it_refuses_a_confirmation_from_someone_outside_the_relationship(
    relationship, other_relationship, mo
):
    check_in = log(relationship, mo)
    stranger = other_relationship.members.get(role="mentor")

    with pytest.raises(ValidationError):
        services.check_in_confirm(check_in=check_in, member=stranger)


def test_it_adds_a_comment_to_a_check_in(relationship, maya, mo):
    check_in = log(relationship, mo)

    comment = services.check_in_comment(check_in=check_in, member=maya, text="  Good session!  ")
    with pytest.raises(ValidationError):
        services.check_in_comment(check_in=check_in, member=maya, text="  ")

    assert list(check_in.comments.values_list("author", "text")) == [(maya.pk, "Good session!")]
    assert comment.author == maya


def test_it_takes_one_pulse_per_member_per_check_in(relationship, maya, mo):
    check_in = log(relationship, mo)

    services.pulse_give(check_in=check_in, member=mo, usefulness=4, line="Useful.")
    services.pulse_give(check_in=check_in, member=maya, usefulness=5)
    with pytest.raises(ValidationError) as error:
        services.pulse_give(check_in=check_in, member=mo, usefulness=2)

    assert message_of(error.value) == [services.PULSE_GIVEN]
    assert sorted(check_in.pulses.values_list("usefulness", flat=True)) == [4, 5]


# --- Surveys --------------------------------------------------------------------------------


def test_it_opens_the_midpoint_survey_half_way_through_the_cohort(relationship, active_cohort):
    active_cohort.starts_on = dt.date(2026, 1, 1)
    active_cohort.ends_on = dt.date(2026, 7, 1)  # 181 days: half way is 1 April
    active_cohort.save()

    with time_machine.travel(dt.datetime(2026, 3, 31, 12, 0, tzinfo=dt.UTC), tick=False):
        before = services.survey_stage_open(relationship=relationship, stage="midpoint")
    with time_machine.travel(dt.datetime(2026, 4, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        on_the_day = services.survey_stage_open(relationship=relationship, stage="midpoint")

    assert (before, on_the_day) == (False, True)


def test_it_opens_the_final_survey_when_the_cohort_closes_or_the_relationship_ends(
    relationship, active_cohort
):
    assert not services.survey_stage_open(relationship=relationship, stage="final")

    active_cohort.status = Cohort.Status.CLOSING
    active_cohort.save()
    assert services.survey_stage_open(relationship=relationship, stage="final")

    active_cohort.status = Cohort.Status.ACTIVE
    active_cohort.save()
    relationship.status = Relationship.Status.ENDED
    relationship.save()
    assert services.survey_stage_open(relationship=relationship, stage="final")


@pytest.fixture
def midpoint_open(active_cohort):
    active_cohort.starts_on = TODAY - dt.timedelta(days=150)
    active_cohort.ends_on = TODAY + dt.timedelta(days=30)
    active_cohort.save()
    return active_cohort


def test_it_asks_each_role_its_own_questions_and_everyone_the_shared_ones(
    relationship, maya, mo, questions
):
    mentee_asked = [q.text for q in services.survey_questions_for(member=mo)]
    mentor_asked = [q.text for q in services.survey_questions_for(member=maya)]

    assert mentee_asked == ["How useful?", "Does your mentor listen?", "One thing to improve?"]
    assert mentor_asked == ["How useful?", "Is your mentee prepared?", "One thing to improve?"]


def test_it_stores_a_survey_with_the_visibility_each_question_had(
    relationship, mo, questions, midpoint_open
):
    services.survey_submit(
        relationship=relationship,
        member=mo,
        stage="midpoint",
        answers={
            questions["useful"].pk: "4",
            questions["about_mentor"].pk: 5,
            questions["better"].pk: "  More practice.  ",
        },
    )
    # Changing a question later does not change who may read what was already answered.
    FeedbackQuestion.objects.filter(pk=questions["useful"].pk).update(visible_to="coordinator")

    answers = {
        a.question_id: (a.scale_value, a.text_value, a.visible_to)
        for a in SurveyAnswer.objects.all()
    }
    assert answers == {
        questions["useful"].pk: (4, "", "partner"),
        questions["about_mentor"].pk: (5, "", "coordinator"),
        questions["better"].pk: (None, "More practice.", "coordinator"),
    }


def test_it_needs_every_scale_answer(relationship, mo, questions, midpoint_open):
    with pytest.raises(ValidationError) as error:
        services.survey_submit(
            relationship=relationship,
            member=mo,
            stage="midpoint",
            answers={questions["useful"].pk: 4},
        )

    assert error.value.message_dict == {
        f"q{questions['about_mentor'].pk}": [services.ANSWER_NEEDED]
    }
    assert not SurveyResponse.objects.exists()


def test_it_refuses_a_survey_twice_and_before_it_opens(relationship, maya, questions):
    answers = {questions["useful"].pk: 3, questions["about_mentee"].pk: 4}
    with pytest.raises(ValidationError) as closed:
        services.survey_submit(
            relationship=relationship, member=maya, stage="midpoint", answers=answers
        )
    relationship.cohort.starts_on = TODAY - dt.timedelta(days=150)
    relationship.cohort.ends_on = TODAY + dt.timedelta(days=30)
    relationship.cohort.save()
    services.survey_submit(
        relationship=relationship, member=maya, stage="midpoint", answers=answers
    )
    with pytest.raises(ValidationError) as twice:
        services.survey_submit(
            relationship=relationship, member=maya, stage="midpoint", answers=answers
        )

    assert message_of(closed.value) == [services.SURVEY_NOT_OPEN]
    assert message_of(twice.value) == [services.SURVEY_DONE]
    assert SurveyResponse.objects.count() == 1


# --- Reflection and calendar ----------------------------------------------------------------


def test_it_keeps_a_reflection_private_until_shared(relationship, mentee):
    reflection = services.reflection_write(
        author=mentee, relationship=relationship, stage="start", prompt="Why?", text=" Growth. "
    )
    assert (reflection.text, reflection.shared) == ("Growth.", False)

    services.reflection_share(reflection=reflection, shared=True)
    reflection.refresh_from_db()
    assert reflection.shared is True

    with pytest.raises(ValidationError):
        services.reflection_write(
            author=mentee, relationship=relationship, stage="start", prompt="Why?", text=" "
        )


def test_it_gives_one_calendar_feed_per_person_and_rotates_its_token(mentee):
    feed = services.calendar_feed_get(user=mentee)
    assert services.calendar_feed_get(user=mentee).token == feed.token

    rotated = services.calendar_feed_rotate(user=mentee)

    assert rotated.pk == feed.pk
    assert rotated.token != feed.token
    assert services.calendar_feed_get(user=mentee).token == rotated.token


# --- Closing a relationship (matching.services) ---------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "subject"),
    [
        ("achieved", "Your mentoring relationship in Leadership Mentoring is complete"),
        ("partly", "Your mentoring relationship in Leadership Mentoring is complete"),
        ("ended_early", "Your mentoring relationship in Leadership Mentoring has ended"),
    ],
)
def test_it_closes_a_relationship_and_emails_every_member_once(
    relationship,
    coordinator,
    mentor,
    mentee,
    outcome,
    subject,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        matching_services.relationship_close(
            relationship=relationship,
            outcome=outcome,
            closed_by=coordinator,
            reason="Mo changed teams." if outcome == "ended_early" else "",
        )

    relationship.refresh_from_db()
    assert (relationship.status, relationship.outcome, relationship.ended_at) == (
        "ended",
        outcome,
        NOW,
    )
    assert sorted(m.to[0] for m in mailoutbox) == sorted([mentor.email, mentee.email])
    assert {m.subject for m in mailoutbox} == {subject}


def test_it_needs_a_reason_to_end_a_relationship_early(relationship, coordinator, mailoutbox):
    with pytest.raises(ValidationError) as error:
        matching_services.relationship_close(
            relationship=relationship, outcome="ended_early", closed_by=coordinator, reason=" "
        )

    assert error.value.message_dict == {"reason": [matching_services.END_NEEDS_REASON]}
    relationship.refresh_from_db()
    assert relationship.status == "active"


@pytest.mark.parametrize("outcome", ["achieved", "ended_early"])
def test_it_refuses_to_close_a_relationship_twice(relationship, coordinator, outcome):
    matching_services.relationship_close(
        relationship=relationship, outcome="achieved", closed_by=coordinator
    )

    with pytest.raises(ValidationError) as error:
        matching_services.relationship_close(
            relationship=relationship, outcome=outcome, closed_by=coordinator, reason="Again."
        )

    assert message_of(error.value) == [matching_services.RELATIONSHIP_ALREADY_ENDED]
    relationship.refresh_from_db()
    assert relationship.outcome == "achieved"
