"""The member pages of a relationship: who may open and change what (members write; the
program's coordinator reads and may close; everyone else gets a 404), the agreement's versions
and signatures, goals and their history, check-ins, private notes, and a fixed query count."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Any, cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from goals import selectors, services
from goals.models import (
    Agreement,
    AgreementSignature,
    CheckIn,
    CheckInComment,
    CheckInGoalProgress,
    Goal,
    GoalChange,
    Milestone,
    PrivateNote,
)
from matching.models import Relationship, RelationshipMember
from notifications.models import Notification
from tests.factories import RelationshipFactory

pytestmark = pytest.mark.django_db


def member_of(relationship: Relationship, user) -> RelationshipMember:
    return relationship.members.get(enrolment__user=user)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def flashed(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@dataclass
class World:
    pair: Relationship
    agreement: Agreement
    goal: Goal
    milestone: Milestone
    check_in: CheckIn  # logged by the mentor


@pytest.fixture
def world(pair, mentor) -> World:
    agreement = services.agreement_draft(relationship=pair)
    goal = services.goal_create(
        relationship=pair,
        owner=pair.members.get(role="mentee"),
        title="Speak at the all-hands",
        measure="A five-minute talk, given",
        target_date=timezone.localdate() + dt.timedelta(days=60),
        created_by=mentor,
        milestones=("Draft the talk",),
    )
    check_in = services.check_in_log(
        relationship=pair,
        member=member_of(pair, mentor),
        met_on=timezone.localdate() - dt.timedelta(days=2),
        duration_minutes=45,
        mode=CheckIn.Mode.VIDEO,
        summary="We planned the talk.",
    )
    return World(pair, agreement, goal, goal.milestones.get(), check_in)


# --- Permission matrix ----------------------------------------------------------------------

MEMBERS = ("mentor", "mentee")
PERSONAS = (*MEMBERS, "coordinator", "other_coordinator", "other_member", "outsider", "anonymous")
NOBODY = ("other_member", "other_coordinator", "outsider")


@pytest.fixture
def people(mentor, mentee, coordinator, other_coordinator, other_program, outsider, other_pair):
    return {
        "mentor": mentor,
        "mentee": mentee,
        "coordinator": coordinator,
        "other_coordinator": other_coordinator,
        "outsider": outsider,
        "other_member": other_pair.members.get(role="mentee").enrolment.user,
        "anonymous": None,
    }


def _effect(name: str, w: World) -> bool:
    """Whether the write `name` of the matrix happened."""
    w.pair.refresh_from_db()
    return {
        "agreement_edit": lambda: Agreement.objects.get(pk=w.agreement.pk).version == 2,
        "agreement_sign": lambda: AgreementSignature.objects.exists(),
        "goal_create": lambda: Goal.objects.filter(title="Matrix goal").exists(),
        "goal_edit": lambda: Goal.objects.get(pk=w.goal.pk).title == "Edited",
        "milestone_toggle": lambda: Milestone.objects.get(pk=w.milestone.pk).done_at is not None,
        "milestone_add": lambda: Milestone.objects.filter(title="Matrix step").exists(),
        "milestone_edit": lambda: Milestone.objects.get(pk=w.milestone.pk).title == "Renamed",
        "milestone_remove": lambda: not Milestone.objects.filter(pk=w.milestone.pk).exists(),
        "check_in_create": lambda: CheckIn.objects.filter(summary="Matrix meeting").exists(),
        "check_in_confirm": lambda: CheckIn.objects.get(pk=w.check_in.pk).confirmed_at is not None,
        "check_in_comment": lambda: CheckInComment.objects.exists(),
        "private_note_add": lambda: PrivateNote.objects.filter(text="Matrix note").exists(),
        "relationship_close": lambda: w.pair.status == Relationship.Status.ENDED,
    }[name]()


def _request(name: str, w: World) -> tuple[str, str, Any]:
    today = timezone.localdate()
    r = w.pair.pk
    return {
        "relationship_home": ("get", reverse("goals:relationship_home", args=[r]), {}),
        "goal_history": ("get", reverse("goals:goal_history", args=[w.goal.pk]), {}),
        "agreement_edit_form": ("get", reverse("goals:agreement_edit", args=[r]), {}),
        "goal_create_form": ("get", reverse("goals:goal_create", args=[r]), {}),
        "goal_edit_form": ("get", reverse("goals:goal_edit", args=[w.goal.pk]), {}),
        "check_in_create_form": ("get", reverse("goals:check_in_create", args=[r]), {}),
        "relationship_close_form": ("get", reverse("goals:relationship_close", args=[r]), {}),
        "agreement_edit": (
            "post",
            reverse("goals:agreement_edit", args=[r]),
            {
                "text": "We meet.",
                "meeting_cadence_days": 7,
                "meeting_mode": "video",
                "duration_weeks": 12,
                "base_version": 1,
            },
        ),
        "agreement_sign": ("post", reverse("goals:agreement_sign", args=[r]), {"version": 1}),
        "goal_create": (
            "post",
            reverse("goals:goal_create", args=[r]),
            {"title": "Matrix goal", "measure": "Done", "target_date": today.isoformat()},
        ),
        "goal_edit": (
            "post",
            reverse("goals:goal_edit", args=[w.goal.pk]),
            {
                "title": "Edited",
                "measure": w.goal.measure,
                "target_date": w.goal.target_date.isoformat(),
                "owner": w.goal.owner_id,
                "status": w.goal.status,
            },
        ),
        "milestone_toggle": (
            "post",
            reverse("goals:milestone_toggle", args=[w.milestone.pk]),
            {"done": "1"},
        ),
        "milestone_add": (
            "post",
            reverse("goals:milestone_add", args=[w.goal.pk]),
            {"new-title": "Matrix step"},
        ),
        "milestone_edit": (
            "post",
            reverse("goals:milestone_edit", args=[w.milestone.pk]),
            {f"m{w.milestone.pk}-title": "Renamed"},
        ),
        "milestone_remove": (
            "post",
            reverse("goals:milestone_remove", args=[w.milestone.pk]),
            {},
        ),
        "check_in_create": (
            "post",
            reverse("goals:check_in_create", args=[r]),
            {
                "met_on": today.isoformat(),
                "duration_minutes": 30,
                "mode": "phone",
                "summary": "Matrix meeting",
            },
        ),
        "check_in_confirm": (
            "post",
            reverse("goals:check_in_confirm", args=[w.check_in.pk]),
            {},
        ),
        "check_in_comment": (
            "post",
            reverse("goals:check_in_comment", args=[w.check_in.pk]),
            {"text": "Thanks!"},
        ),
        "private_note_add": (
            "post",
            reverse("goals:private_note_add", args=[r]),
            {"text": "Matrix note"},
        ),
        "relationship_close": (
            "post",
            reverse("goals:relationship_close", args=[r]),
            {"outcome": "achieved"},
        ),
    }[name]


READ_PAGES = ("relationship_home", "goal_history", "relationship_close_form")
MEMBER_FORMS = (
    "agreement_edit_form",
    "goal_create_form",
    "goal_edit_form",
    "check_in_create_form",
)
MEMBER_WRITES = (
    "agreement_edit",
    "agreement_sign",
    "goal_create",
    "goal_edit",
    "milestone_toggle",
    "milestone_add",
    "milestone_edit",
    "milestone_remove",
    "check_in_create",
    "check_in_confirm",
    "check_in_comment",
    "private_note_add",
)


def _expected(name: str, persona: str) -> int:
    if persona == "anonymous":
        return 302
    if persona in NOBODY:
        return 404
    is_post = name in MEMBER_WRITES or name == "relationship_close"
    if persona == "coordinator" and (name in MEMBER_FORMS or name in MEMBER_WRITES):
        return 404
    return 302 if is_post else 200


@pytest.mark.parametrize(
    "persona",
    PERSONAS,
)
@pytest.mark.parametrize(
    "name", READ_PAGES + MEMBER_FORMS + MEMBER_WRITES + ("relationship_close",)
)
def test_it_lets_only_the_right_people_in(client, name, persona, people, world):
    user = people[persona]
    if user is not None:
        client.force_login(user)
    method, url, data = _request(name, world)

    response = getattr(client, method)(url, data)

    expected = _expected(name, persona)
    assert response.status_code == expected, response.content[:500]
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))
    if method == "post":
        # The mentor logged the check-in: only the other side can confirm it.
        happened = expected == 302 and persona != "anonymous"
        if name == "check_in_confirm" and persona == "mentor":
            happened = False
        assert _effect(name, world) is happened


@pytest.mark.parametrize("persona", ["mentor", "mentee", "coordinator", "outsider"])
def test_it_lists_only_my_own_relationships(client, persona, people, world, other_pair):
    client.force_login(people[persona])

    response = client.get(reverse("goals:my_mentoring"))

    assert response.status_code == 200
    home = reverse("goals:relationship_home", args=[world.pair.pk])
    other = reverse("goals:relationship_home", args=[other_pair.pk])
    assert other not in text_of(response)
    if persona in MEMBERS:
        assert home in text_of(response)
        assert "Spring" in text_of(response)
        partner = "Mo Mentee" if persona == "mentor" else "Maya Mentor"
        assert partner in text_of(response)
    else:
        assert home not in text_of(response)
        assert "your relationship appears here" in text_of(response)


def test_it_sends_anonymous_people_from_my_mentoring_to_log_in(client):
    response = client.get(reverse("goals:my_mentoring"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_refuses_get_on_post_only_actions(client, mentee, world):
    client.force_login(mentee)

    for name in ("agreement_sign", "milestone_toggle", "check_in_confirm", "private_note_add"):
        _, url, _ = _request(name, world)
        assert client.get(url).status_code == 405


# --- Agreement ------------------------------------------------------------------------------


def _agreement_data(text: str, base_version: int) -> dict:
    return {
        "text": text,
        "meeting_cadence_days": 14,
        "meeting_mode": "video",
        "duration_weeks": 26,
        "base_version": base_version,
    }


def test_it_is_signed_by_everyone_once_both_sign_the_edited_agreement(client, mentor, mentee, pair):
    client.force_login(mentor)
    edit = client.get(reverse("goals:agreement_edit", args=[pair.pk]))
    assert edit.context["form"].initial["base_version"] == 1

    assert "Save and sign version 2" in text_of(edit)

    saved = client.post(
        reverse("goals:agreement_edit", args=[pair.pk]), _agreement_data("We meet.", 1), follow=True
    )
    assert (
        "Agreement saved and signed by you as version 2. The others are asked to read and sign it."
        in flashed(saved)
    )
    assert "Sign version 2" not in text_of(saved)  # the editor has signed by saving
    client.force_login(mentee)
    response = client.post(
        reverse("goals:agreement_sign", args=[pair.pk]), {"version": 2}, follow=True
    )

    assert "You signed version 2 of the agreement." in flashed(response)
    home = selectors.relationship_home(relationship=pair, user=mentee)
    assert home.agreement.text == "We meet."
    assert home.everyone_signed
    assert "Signed by everyone" in text_of(response)


def test_it_asks_to_sign_again_after_an_edit_and_tells_the_other_member(
    client, mentor, mentee, pair, mailoutbox, django_capture_on_commit_callbacks
):
    agreement = services.agreement_draft(relationship=pair)
    for user in (mentor, mentee):
        services.agreement_sign(agreement=agreement, member=member_of(pair, user), version=1)
    client.force_login(mentor)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("goals:agreement_edit", args=[pair.pk]), _agreement_data("Changed.", 1))

    assert [m.to for m in mailoutbox] == [[mentee.email]]
    home = selectors.relationship_home(relationship=pair, user=mentee)
    assert not home.everyone_signed
    client.force_login(mentee)
    page = text_of(client.get(reverse("goals:relationship_home", args=[pair.pk])))
    assert "Sign version 2" in page
    assert "Read and sign the agreement (version 2)." in page


def test_it_asks_the_partner_to_sign_an_agreement_edited_before_anyone_signed(
    client, mentor, mentee, pair, mailoutbox, django_capture_on_commit_callbacks
):
    services.agreement_draft(relationship=pair)
    client.force_login(mentor)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("goals:agreement_edit", args=[pair.pk]), _agreement_data("Weekly.", 1))

    assert [m.to for m in mailoutbox] == [[mentee.email]]
    assert Notification.objects.filter(
        recipient=mentee, kind=Notification.Kind.AGREEMENT_CHANGED
    ).exists()
    assert not Notification.objects.filter(recipient=mentor).exists()
    client.force_login(mentee)
    page = text_of(client.get(reverse("goals:relationship_home", args=[pair.pk])))
    assert "Sign version 2" in page
    assert "Not signed by everyone" in page


def test_it_keeps_my_text_when_someone_saved_the_agreement_first(client, mentor, mentee, pair):
    services.agreement_draft(relationship=pair)
    url = reverse("goals:agreement_edit", args=[pair.pk])
    client.force_login(mentee)
    client.post(url, _agreement_data("Mo's version: weekly calls.", 1))
    client.force_login(mentor)

    response = client.post(url, _agreement_data("Maya's version: monthly lunches.", 1))

    assert response.status_code == 200
    page = text_of(response)
    assert services.AGREEMENT_CHANGED.format(version=2) in page
    assert "Mo's version: weekly calls." in page  # the current text, read-only
    assert response.context["form"]["text"].value() == "Maya's version: monthly lunches."
    assert response.context["form"]["base_version"].value() == "2"
    assert Agreement.objects.get(relationship=pair).text == "Mo's version: weekly calls."


# --- Goals ----------------------------------------------------------------------------------


def test_it_refuses_a_goal_due_before_the_relationship_started(client, mentee, pair):
    client.force_login(mentee)
    started = timezone.localdate(pair.started_at)

    response = client.post(
        reverse("goals:goal_create", args=[pair.pk]),
        {
            "title": "Too late",
            "measure": "Never",
            "target_date": (started - dt.timedelta(days=1)).isoformat(),
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["target_date"] == [
        services.TARGET_BEFORE_START.format(date=started)
    ]
    assert not Goal.objects.exists()


def test_it_creates_a_goal_with_milestones(client, mentee, pair):
    client.force_login(mentee)

    response = client.post(
        reverse("goals:goal_create", args=[pair.pk]),
        {
            "title": "Run a meeting",
            "measure": "Chair one team meeting",
            "target_date": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
            "milestones": "Watch Maya chair\n\n  Write an agenda  \n",
        },
    )

    goal = Goal.objects.get()
    assert response["Location"].endswith("#goals")
    assert goal.owner == member_of(pair, mentee)
    assert [m.title for m in goal.milestones.all()] == ["Watch Maya chair", "Write an agenda"]


def test_it_records_each_goal_edit_in_its_history(client, mentor, world):
    client.force_login(mentor)
    goal = world.goal

    client.post(
        reverse("goals:goal_edit", args=[goal.pk]),
        {
            "title": "Speak at the town hall",
            "target_date": goal.target_date.isoformat(),
            "owner": goal.owner_id,
            "status": "on_track",
            "measure": "A ten-minute talk, given",
        },
    )

    changes = {c.field: (c.old_value, c.new_value) for c in GoalChange.objects.all()}
    assert changes == {
        "title": ("Speak at the all-hands", "Speak at the town hall"),
        "measure": ("A five-minute talk, given", "A ten-minute talk, given"),
        "status": ("not_started", "on_track"),
    }
    assert set(GoalChange.objects.values_list("changed_by", flat=True)) == {mentor.pk}
    page = text_of(client.get(reverse("goals:goal_history", args=[goal.pk])))
    assert "Speak at the all-hands" in page
    assert "Maya Mentor" in page
    home = text_of(client.get(reverse("goals:relationship_home", args=[world.pair.pk])))
    assert "History (3)" in home


def test_it_toggles_a_milestone_both_ways(client, mentee, world):
    client.force_login(mentee)
    url = reverse("goals:milestone_toggle", args=[world.milestone.pk])

    client.post(url, {"done": "1"})
    assert Milestone.objects.get().done_at is not None
    client.post(url, {"done": "0"})
    assert Milestone.objects.get().done_at is None


def test_it_shows_a_goal_done_once_its_last_milestone_is_ticked(client, mentee, world):
    client.force_login(mentee)
    home_url = reverse("goals:relationship_home", args=[world.pair.pk])
    assert "Not started" in text_of(client.get(home_url))

    response = client.post(
        reverse("goals:milestone_toggle", args=[world.milestone.pk]), {"done": "1"}, follow=True
    )

    assert "“Draft the talk” marked done. “Speak at the all-hands” is done, 100%." in flashed(
        response
    )
    goal = response.context["home"].goals[0]
    assert (goal.status, goal.progress) == ("done", 100)
    assert 'aria-valuenow="100"' in text_of(response)
    history = text_of(client.get(reverse("goals:goal_history", args=[world.goal.pk])))
    assert "Draft the talk: done" in history


def test_it_adds_renames_and_removes_milestones_from_the_goal_page(client, mentee, world):
    client.force_login(mentee)
    edit_url = reverse("goals:goal_edit", args=[world.goal.pk])
    page = client.get(edit_url)
    # Progress follows the milestones: it is not typed in.
    assert "progress" not in page.context["form"].fields
    assert "Progress follows the milestones: 0 of 1 done." in text_of(page)

    client.post(
        reverse("goals:milestone_add", args=[world.goal.pk]),
        {"new-title": "Rehearse with Maya", "new-due_on": ""},
    )
    added = Milestone.objects.get(title="Rehearse with Maya")
    client.post(
        reverse("goals:milestone_edit", args=[added.pk]),
        {f"m{added.pk}-title": "Rehearse twice"},
    )
    response = client.post(
        reverse("goals:milestone_remove", args=[world.milestone.pk]), follow=True
    )

    assert "Step “Draft the talk” removed." in flashed(response)
    assert [m.title for m in world.goal.milestones.all()] == ["Rehearse twice"]
    page = text_of(response)
    assert "Progress follows the milestones: 0 of 1 done." in page
    assert "Draft the talk" not in page.split("Milestones", 1)[1]


def test_it_says_what_is_wrong_with_an_empty_milestone(client, mentee, world):
    client.force_login(mentee)

    response = client.post(
        reverse("goals:milestone_add", args=[world.goal.pk]), {"new-title": ""}, follow=True
    )

    assert "Say what the step is (and a valid date, if any)." in flashed(response)
    assert world.goal.milestones.count() == 1


def test_it_hands_a_goal_to_the_other_member(client, mentor, mentee, world):
    client.force_login(mentee)
    goal = world.goal
    mentor_member = member_of(world.pair, mentor)

    client.post(
        reverse("goals:goal_edit", args=[goal.pk]),
        {
            "title": goal.title,
            "measure": goal.measure,
            "target_date": goal.target_date.isoformat(),
            "owner": mentor_member.pk,
            "status": goal.status,
        },
    )

    assert Goal.objects.get(pk=goal.pk).owner == mentor_member
    home = text_of(client.get(reverse("goals:relationship_home", args=[world.pair.pk])))
    assert "Maya Mentor's goal" in home
    history = text_of(client.get(reverse("goals:goal_history", args=[goal.pk])))
    assert '<td role="cell" data-label="What">Owner</td>' in history
    assert '<td role="cell" data-label="To">Maya Mentor</td>' in history


def test_it_offers_only_the_relationships_members_as_owners(client, mentee, world, other_pair):
    client.force_login(mentee)
    stranger = other_pair.members.get(role="mentee")
    goal = world.goal

    response = client.post(
        reverse("goals:goal_edit", args=[goal.pk]),
        {
            "title": goal.title,
            "measure": goal.measure,
            "target_date": goal.target_date.isoformat(),
            "owner": stranger.pk,
            "status": goal.status,
        },
    )

    assert response.status_code == 200
    assert "owner" in response.context["form"].errors
    assert "Dana Mentee" not in text_of(response)
    assert Goal.objects.get(pk=goal.pk).owner == member_of(world.pair, response.wsgi_request.user)


# --- Check-ins ------------------------------------------------------------------------------


def test_it_says_clearly_what_is_wrong_with_a_check_in(client, mentee, pair):
    client.force_login(mentee)

    response = client.post(
        reverse("goals:check_in_create", args=[pair.pk]),
        {
            "met_on": (timezone.localdate() + dt.timedelta(days=1)).isoformat(),
            "duration_minutes": 30,
            "mode": "video",
            "summary": "   ",
        },
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["met_on"] == [services.MET_IN_FUTURE]
    assert errors["summary"] == [services.SUMMARY_EMPTY]
    assert services.MET_IN_FUTURE in text_of(response)
    assert not CheckIn.objects.exists()


def test_it_updates_goal_progress_from_a_check_in(client, mentee, world):
    client.force_login(mentee)
    plain = services.goal_create(
        relationship=world.pair,
        owner=member_of(world.pair, mentee),
        title="Read two books on leading",
        measure="Two books read",
        target_date=timezone.localdate() + dt.timedelta(days=90),
        created_by=mentee,
    )
    form = client.get(reverse("goals:check_in_create", args=[world.pair.pk])).context["form"]
    # The world's goal has a milestone: its progress follows it, not a number typed here.
    assert [goal for goal, _ in form.goal_fields] == [plain]

    response = client.post(
        reverse("goals:check_in_create", args=[world.pair.pk]),
        {
            "met_on": timezone.localdate().isoformat(),
            "duration_minutes": 60,
            "mode": "in_person",
            "summary": "Rehearsed the talk.",
            f"goal_{plain.pk}": 40,
            "private_note": "I was nervous.",
        },
    )

    check_in = CheckIn.objects.get(summary="Rehearsed the talk.")
    assert response["Location"].endswith(f"#check-in-{check_in.pk}")
    assert Goal.objects.get(pk=plain.pk).progress == 40
    assert CheckInGoalProgress.objects.get().progress == 40
    assert PrivateNote.objects.get().check_in == check_in


def test_it_reads_the_next_meeting_in_my_own_time_zone(client, mentee, pair):
    mentee.time_zone = "Asia/Tokyo"
    mentee.save()
    client.force_login(mentee)
    day = timezone.localdate() + dt.timedelta(days=3)

    client.post(
        reverse("goals:check_in_create", args=[pair.pk]),
        {
            "met_on": timezone.localdate().isoformat(),
            "duration_minutes": 60,
            "mode": "video",
            "summary": "Planned.",
            "next_meeting_at": f"{day.isoformat()}T10:00",
        },
    )

    stored = CheckIn.objects.get().next_meeting_at
    assert stored == dt.datetime(day.year, day.month, day.day, 1, 0, tzinfo=dt.UTC)


def test_it_lets_only_the_other_side_confirm_a_check_in(client, mentor, mentee, world):
    url = reverse("goals:check_in_confirm", args=[world.check_in.pk])
    client.force_login(mentor)

    own = client.post(url, follow=True)

    assert services.CONFIRM_OWN_CHECK_IN in flashed(own)
    assert CheckIn.objects.get(pk=world.check_in.pk).confirmed_at is None
    assert "Confirm this check-in" not in text_of(own)

    client.force_login(mentee)
    page = text_of(client.get(reverse("goals:relationship_home", args=[world.pair.pk])))
    assert "Confirm this check-in" in page
    client.post(url)
    assert CheckIn.objects.get(pk=world.check_in.pk).confirmed_by == member_of(world.pair, mentee)


def test_it_offers_a_pulse_only_to_the_member_who_did_not_log(client, mentor, mentee, world):
    client.force_login(mentor)
    assert "How useful was it?" not in text_of(
        client.get(reverse("goals:relationship_home", args=[world.pair.pk]))
    )
    client.force_login(mentee)
    page = text_of(client.get(reverse("goals:relationship_home", args=[world.pair.pk])))
    assert "How useful was it?" in page
    assert reverse("goals:pulse_give", args=[world.check_in.pk]) in page


# --- Private notes --------------------------------------------------------------------------


def test_it_never_shows_a_private_note_to_anyone_but_its_author(
    client, mentor, mentee, coordinator, world
):
    client.force_login(mentor)
    client.post(reverse("goals:private_note_add", args=[world.pair.pk]), {"text": "SECRET-NOTE-7"})
    services.check_in_log(
        relationship=world.pair,
        member=member_of(world.pair, mentor),
        met_on=timezone.localdate(),
        duration_minutes=30,
        mode=CheckIn.Mode.PHONE,
        summary="Shared summary.",
        private_note="SECRET-CHECK-IN-NOTE-9",
    )
    url = reverse("goals:relationship_home", args=[world.pair.pk])

    own = text_of(client.get(url))
    assert "SECRET-NOTE-7" in own
    assert "SECRET-CHECK-IN-NOTE-9" in own
    assert "Only you can read these." in own
    for viewer in (mentee, coordinator):
        client.force_login(viewer)
        page = text_of(client.get(url))
        assert "Shared summary." in page
        assert "SECRET-NOTE-7" not in page
        assert "SECRET-CHECK-IN-NOTE-9" not in page


def test_it_lets_the_author_edit_and_delete_a_private_note(client, mentor, mentee, world):
    note = services.private_note_add(author=mentor, relationship=world.pair, text="First draft.")
    client.force_login(mentor)
    home_url = reverse("goals:relationship_home", args=[world.pair.pk])
    assert reverse("goals:private_note_edit", args=[note.pk]) in text_of(client.get(home_url))

    saved = client.post(
        reverse("goals:private_note_edit", args=[note.pk]),
        {"text": "REWRITTEN-NOTE-3"},
        follow=True,
    )

    assert "Private note saved. Only you can read it." in flashed(saved)
    assert "REWRITTEN-NOTE-3" in text_of(saved)
    assert "First draft." not in text_of(saved)
    client.force_login(mentee)
    assert "REWRITTEN-NOTE-3" not in text_of(client.get(home_url))

    client.force_login(mentor)
    deleted = client.post(reverse("goals:private_note_delete", args=[note.pk]), follow=True)
    assert "Private note deleted." in flashed(deleted)
    assert "REWRITTEN-NOTE-3" not in text_of(deleted)
    assert not PrivateNote.objects.exists()


@pytest.mark.parametrize(
    "persona", ["mentee", "coordinator", "other_member", "outsider", "admin_user"]
)
def test_it_answers_404_to_anyone_but_the_author_of_a_private_note(
    request, client, persona, people, mentor, world
):
    note = services.private_note_add(author=mentor, relationship=world.pair, text="MINE-ONLY-5")
    client.force_login(people.get(persona) or request.getfixturevalue(persona))
    edit = reverse("goals:private_note_edit", args=[note.pk])
    delete = reverse("goals:private_note_delete", args=[note.pk])
    notifications = Notification.objects.count()

    assert client.get(edit).status_code == 404
    assert client.post(edit, {"text": "Overwritten."}).status_code == 404
    assert client.post(delete).status_code == 404

    assert PrivateNote.objects.get(pk=note.pk).text == "MINE-ONLY-5"
    assert Notification.objects.count() == notifications


def test_it_refuses_to_save_an_empty_private_note(client, mentor, world):
    note = services.private_note_add(author=mentor, relationship=world.pair, text="Keep me.")
    client.force_login(mentor)

    response = client.post(reverse("goals:private_note_edit", args=[note.pk]), {"text": "  "})

    assert response.status_code == 200
    assert response.context["form"].errors["text"]
    assert PrivateNote.objects.get(pk=note.pk).text == "Keep me."


def test_it_shows_the_coordinator_no_write_forms(client, coordinator, world):
    client.force_login(coordinator)

    page = text_of(client.get(reverse("goals:relationship_home", args=[world.pair.pk])))

    assert "We planned the talk." in page
    assert "Only you can read these." not in page
    assert reverse("goals:agreement_sign", args=[world.pair.pk]) not in page
    assert reverse("goals:check_in_create", args=[world.pair.pk]) not in page
    assert reverse("goals:relationship_close", args=[world.pair.pk]) in page


# --- Closing --------------------------------------------------------------------------------


def test_it_closes_a_relationship_and_asks_for_final_feedback(client, coordinator, world):
    client.force_login(coordinator)

    response = client.post(
        reverse("goals:relationship_close", args=[world.pair.pk]),
        {"outcome": "partly"},
        follow=True,
    )

    assert "Closed. We asked everyone for their final feedback." in flashed(response)
    world.pair.refresh_from_db()
    assert world.pair.status == Relationship.Status.ENDED
    assert world.pair.outcome == Relationship.Outcome.PARTLY


def test_it_needs_a_reason_to_close_early(client, mentee, pair):
    client.force_login(mentee)

    response = client.post(
        reverse("goals:relationship_close", args=[pair.pk]), {"outcome": "ended_early"}
    )

    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    pair.refresh_from_db()
    assert pair.status == Relationship.Status.ACTIVE


def test_it_adds_nothing_to_an_ended_relationship(client, ended_pair):
    user = ended_pair.members.get(role="mentee").enrolment.user
    client.force_login(user)

    home = text_of(client.get(reverse("goals:relationship_home", args=[ended_pair.pk])))
    response = client.post(
        reverse("goals:goal_create", args=[ended_pair.pk]),
        {"title": "Late", "measure": "No", "target_date": timezone.localdate().isoformat()},
    )

    assert "Nothing new can be added to it." in home
    assert "Close this relationship" not in home
    assert services.RELATIONSHIP_ENDED in text_of(response)
    assert not Goal.objects.exists()


# --- Queries --------------------------------------------------------------------------------


def _check_ins(pair: Relationship, logged_by: RelationshipMember, count: int) -> None:
    today = timezone.localdate()
    CheckIn.objects.bulk_create(
        CheckIn(
            relationship=pair,
            logged_by=logged_by,
            met_on=today - dt.timedelta(days=i % 25),
            duration_minutes=30,
            mode=CheckIn.Mode.VIDEO,
            summary=f"Meeting {i}",
        )
        for i in range(count)
    )


def test_it_reads_the_home_in_the_same_number_of_queries_however_long_the_history(
    client, mentor, mentee, world, django_assert_num_queries
):
    client.force_login(mentor)
    url = reverse("goals:relationship_home", args=[world.pair.pk])
    _check_ins(world.pair, member_of(world.pair, mentee), 4)  # 5 with the world's own
    client.get(url)  # warm the session and the agreement draft

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    # 32 until issue 14: the menu in one query, the agreement with the relationship and the
    # home's own reads merged (tests/goals/test_selectors.py).
    assert len(small) == 16

    _check_ins(world.pair, member_of(world.pair, mentee), 95)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["home"].check_in_total == 100
    assert len(response.context["timeline"]) == selectors.TIMELINE_PAGE
    assert client.get(url, {"page": 5}).status_code == 200
    assert client.get(url, {"page": 6}).status_code == 404


def test_it_works_the_same_for_a_circle_of_several_members(client, cohort, mentor, mentee):
    """A circle: every member reaches the page and sees the others; a check-in logged by one
    can be confirmed by any other member."""
    from goals import services as goal_services
    from tests.factories import EnrolmentFactory, UserFactory

    circle = Relationship.objects.create(
        cohort=cohort, kind=Relationship.Kind.CIRCLE, started_at=timezone.now()
    )
    third = UserFactory(display_name="Cai Circle")
    EnrolmentFactory(cohort=cohort, user=third, role="mentee")
    for user, role in ((mentor, "mentor"), (mentee, "mentee"), (third, "mentee")):
        RelationshipMember.objects.create(
            relationship=circle, enrolment=cohort.enrolments.get(user=user), role=role
        )
    logged = goal_services.check_in_log(
        relationship=circle,
        member=circle.members.get(enrolment__user=mentee),
        met_on=timezone.localdate(),
        duration_minutes=60,
        mode="video",
        summary="First circle meeting.",
    )

    for user in (mentor, mentee, third):
        client.force_login(user)
        page = client.get(reverse("goals:relationship_home", args=[circle.pk])).content.decode()
        assert "Cai Circle" in page
        assert "Maya Mentor" in page
        assert "Mo Mentee" in page
    client.force_login(third)
    client.post(reverse("goals:check_in_confirm", args=[logged.pk]))

    logged.refresh_from_db()
    assert cast(RelationshipMember, logged.confirmed_by).enrolment.user == third


def test_it_shows_the_coordinator_each_relationships_health_with_its_reason(
    client, coordinator, cohort, mentor, mentee
):
    lapsed = RelationshipFactory(
        cohort=cohort,
        mentor=mentor,
        mentee=mentee,
        started_at=timezone.now() - dt.timedelta(days=60),
    )
    client.force_login(coordinator)

    page = client.get(reverse("goals:relationship_list", args=[cohort.pk])).content.decode()

    assert "At risk" in page
    assert "60 days since the start, with no check-in yet" in page
    assert reverse("goals:relationship_home", args=[lapsed.pk]) in page


def test_it_shows_the_partner_how_useful_the_other_found_a_meeting(client, pair, mentor, mentee):
    from goals import services as goal_services

    logged = goal_services.check_in_log(
        relationship=pair,
        member=pair.members.get(enrolment__user=mentee),
        met_on=timezone.localdate(),
        duration_minutes=30,
        mode="video",
        summary="Talked about the roadmap.",
    )
    goal_services.pulse_give(
        check_in=logged,
        member=pair.members.get(enrolment__user=mentor),
        usefulness=4,
        line="Good questions today",
    )
    client.force_login(mentee)

    page = client.get(reverse("goals:relationship_home", args=[pair.pk])).content.decode()

    assert "found it 4 out of 5 useful: “Good questions today”" in page
