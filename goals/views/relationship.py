"""The member pages of a relationship: my mentoring, the relationship home, the agreement,
goals, check-ins, private notes, and closing.

Who may do what: a relationship is fetched through `relationship_list_visible_to` (its members
and its program's coordinators; anyone else gets a 404). Reading is for all of them; every
write except closing is for members only (`membership_of`), so a coordinator looking in gets a
404 on a write, exactly like an outsider."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.services import ALREADY_SAVED, AlreadySubmittedError
from common.forms import SUBMISSION_TOKEN, form_add_service_error, service_error_text
from common.http import AuthenticatedHttpRequest
from goals import selectors, services
from goals.forms.relationship import (
    AgreementForm,
    CheckInForm,
    CloseForm,
    CommentForm,
    GoalCreateForm,
    GoalEditForm,
    MilestoneForm,
    PrivateNoteEditForm,
    PrivateNoteForm,
)
from goals.models import CheckIn, Goal, Milestone, PrivateNote
from matching import services as matching_services
from matching.models import Relationship, RelationshipMember
from matching.selectors import relationship_list_visible_to

GOAL_EDIT_FIELDS = ("title", "measure", "target_date", "owner", "status", "progress")


# --- Access ---------------------------------------------------------------------------------


def _visible(request: AuthenticatedHttpRequest, pk: int) -> Relationship:
    return get_object_or_404(relationship_list_visible_to(user=request.user), pk=pk)


def _member(request: AuthenticatedHttpRequest, relationship: Relationship) -> RelationshipMember:
    """The viewer's membership; a coordinator (or anyone else) gets a 404 on member writes."""
    member = selectors.membership_of(user=request.user, relationship=relationship)
    if member is None:
        raise Http404
    return member


class _Pk(TypedDict):
    pk: int


def _visible_relationships(request: AuthenticatedHttpRequest) -> QuerySet[Relationship, _Pk]:
    return relationship_list_visible_to(user=request.user).values("pk")


def _goal(request: AuthenticatedHttpRequest, pk: int) -> Goal:
    return get_object_or_404(
        Goal.objects.select_related("relationship__cohort__program", "owner__enrolment__user"),
        pk=pk,
        relationship__in=_visible_relationships(request),
    )


def _check_in(request: AuthenticatedHttpRequest, pk: int) -> CheckIn:
    return get_object_or_404(
        CheckIn.objects.select_related("relationship__cohort__program"),
        pk=pk,
        relationship__in=_visible_relationships(request),
    )


def _home_url(relationship: Relationship, anchor: str = "") -> str:
    url = reverse("goals:relationship_home", args=[relationship.pk])
    return f"{url}#{anchor}" if anchor else url


def _context(relationship: Relationship, **extra: object) -> dict[str, object]:
    return {
        "relationship": relationship,
        "cohort": relationship.cohort,
        "program": relationship.cohort.program,
        **extra,
    }


# --- My mentoring ---------------------------------------------------------------------------


@dataclass
class MentoringCard:
    relationship: Relationship
    partners: list[RelationshipMember]
    my_role: str
    health: object
    next_meeting_at: dt.datetime | None


@login_required
@require_GET
def my_mentoring(request: AuthenticatedHttpRequest) -> HttpResponse:
    relationships = list(selectors.relationship_list_for_member(user=request.user))
    health = selectors.health_for(relationships=relationships)
    next_meetings = selectors.next_meetings_for(relationships=relationships)
    cards = []
    for relationship in relationships:
        members = list(relationship.members.all())
        mine = next((m for m in members if m.enrolment.user_id == request.user.pk), None)
        cards.append(
            MentoringCard(
                relationship=relationship,
                partners=[m for m in members if m is not mine],
                my_role=mine.get_role_display() if mine else "",
                health=health[relationship.pk],
                next_meeting_at=next_meetings.get(relationship.pk),
            )
        )
    return render(request, "goals/my_mentoring.html", {"cards": cards})


# --- The relationship home ------------------------------------------------------------------


@dataclass
class TimelineEntry:
    check_in: CheckIn
    mine: bool
    can_confirm: bool
    can_pulse: bool


def _page(request: AuthenticatedHttpRequest) -> int:
    try:
        return max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        return 1


@login_required
@require_GET
def relationship_home(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    # Its agreement comes with it (drafted on the first visit).
    relationship = get_object_or_404(
        relationship_list_visible_to(user=request.user).select_related("agreement"), pk=pk
    )
    agreement = services.agreement_draft(relationship=relationship)
    page = _page(request)
    home = selectors.relationship_home(
        relationship=relationship, user=request.user, page=page, agreement=agreement
    )
    pages = max(math.ceil(home.check_in_total / selectors.TIMELINE_PAGE), 1)
    if page > pages:
        raise Http404
    me = home.me
    active = relationship.status == Relationship.Status.ACTIVE
    can_write = me is not None and active
    timeline = [
        TimelineEntry(
            check_in=c,
            mine=me is not None and c.logged_by_id == me.pk,
            can_confirm=me is not None
            and can_write
            and c.logged_by_id != me.pk
            and c.confirmed_at is None,
            can_pulse=me is not None and c.logged_by_id != me.pk and c.pk not in home.my_pulses,
        )
        for c in home.check_ins
    ]
    signed_by_me = me is not None and any(
        s.signed_current for s in home.signatures if s.member.pk == me.pk
    )
    return render(
        request,
        "goals/relationship_home.html",
        _context(
            relationship,
            home=home,
            me=me,
            is_member=me is not None,
            can_write=can_write,
            can_close=active,
            signed_by_me=signed_by_me,
            next_steps=selectors.next_steps_for(home=home) if page == 1 else [],
            timeline=timeline,
            page=page,
            pages=pages,
            note_form=PrivateNoteForm(),
            stars=range(1, 6),
        ),
    )


# --- Agreement ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def agreement_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    relationship = _visible(request, pk)
    member = _member(request, relationship)
    agreement = services.agreement_draft(relationship=relationship)
    conflict = False
    if request.method == "POST":
        form = AgreementForm(request.POST)
        if form.is_valid():
            try:
                saved = services.agreement_update(
                    agreement=agreement, member=member, **form.cleaned_data
                )
            except ValidationError as error:
                agreement.refresh_from_db()
                conflict = agreement.version != form.cleaned_data["base_version"]
                if conflict:
                    # Keep the person's own text in the textarea, and move them on to the
                    # current version so saving again is a deliberate choice.
                    data = request.POST.copy()
                    data["base_version"] = str(agreement.version)
                    form = AgreementForm(data)
                    form.is_valid()
                form_add_service_error(form, error)
            else:
                messages.success(
                    request,
                    f"Agreement saved and signed by you as version {saved.version}. "
                    "The others are asked to read and sign it.",
                )
                return redirect(_home_url(relationship, "agreement"))
    else:
        form = AgreementForm(
            initial={
                "text": agreement.text,
                "meeting_cadence_days": agreement.meeting_cadence_days,
                "meeting_mode": agreement.meeting_mode,
                "duration_weeks": agreement.duration_weeks,
                "base_version": agreement.version,
            }
        )
    return render(
        request,
        "goals/agreement_edit.html",
        _context(relationship, agreement=agreement, form=form, conflict=conflict),
    )


@login_required
@require_POST
def agreement_sign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    relationship = _visible(request, pk)
    member = _member(request, relationship)
    agreement = services.agreement_draft(relationship=relationship)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, "Read the agreement, then sign it.")
        return redirect(_home_url(relationship, "agreement"))
    try:
        services.agreement_sign(agreement=agreement, member=member, version=version)
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        messages.success(request, f"You signed version {version} of the agreement.")
    return redirect(_home_url(relationship, "agreement"))


# --- Goals ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def goal_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    relationship = _visible(request, pk)
    member = _member(request, relationship)
    form = GoalCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.goal_create(
                relationship=relationship,
                owner=member,
                title=form.cleaned_data["title"],
                measure=form.cleaned_data["measure"],
                target_date=form.cleaned_data["target_date"],
                created_by=request.user,
                milestones=form.milestone_titles(),
                submission_token=form.cleaned_data[SUBMISSION_TOKEN],
            )
        except AlreadySubmittedError:
            messages.info(request, ALREADY_SAVED)
            return redirect(_home_url(relationship, "goals"))
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, "Goal added.")
            return redirect(_home_url(relationship, "goals"))
    return render(request, "goals/goal_form.html", _context(relationship, form=form, goal=None))


@login_required
@require_http_methods(["GET", "POST"])
def goal_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    goal = _goal(request, pk)
    relationship = goal.relationship
    _member(request, relationship)
    milestones = list(goal.milestones.all())
    if request.method == "POST":
        form = GoalEditForm(request.POST, goal=goal, milestone_count=len(milestones))
        if form.is_valid():
            changed = {
                name: form.cleaned_data[name]
                for name in GOAL_EDIT_FIELDS
                if name in form.cleaned_data and form.cleaned_data[name] != getattr(goal, name)
            }
            try:
                if changed:
                    services.goal_update(goal=goal, changed_by=request.user, **changed)
            except ValidationError as error:
                form_add_service_error(form, error)
            else:
                messages.success(request, "Goal saved." if changed else "Nothing changed.")
                return redirect(_home_url(relationship, f"goal-{goal.pk}"))
    else:
        form = GoalEditForm(
            initial={name: getattr(goal, name) for name in GOAL_EDIT_FIELDS},
            goal=goal,
            milestone_count=len(milestones),
        )
    return render(
        request,
        "goals/goal_form.html",
        _context(
            relationship,
            form=form,
            goal=goal,
            milestones=[
                (
                    m,
                    MilestoneForm(
                        initial={"title": m.title, "due_on": m.due_on}, prefix=f"m{m.pk}"
                    ),
                )
                for m in milestones
            ],
            milestone_form=MilestoneForm(prefix="new"),
            milestones_done=sum(1 for m in milestones if m.done_at),
        ),
    )


@login_required
@require_GET
def goal_history(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    goal = _goal(request, pk)
    changes = selectors.goal_change_list(goal=goal)
    return render(
        request,
        "goals/goal_history.html",
        _context(goal.relationship, goal=goal, changes=changes),
    )


def _milestone(request: AuthenticatedHttpRequest, pk: int) -> tuple[Milestone, RelationshipMember]:
    """A milestone of a relationship the viewer is a member of (404 for anyone else)."""
    milestone = get_object_or_404(
        Milestone.objects.select_related("goal__relationship"),
        pk=pk,
        goal__relationship__in=_visible_relationships(request),
    )
    return milestone, _member(request, milestone.goal.relationship)


def _goal_edit_url(goal_id: int) -> str:
    return reverse("goals:goal_edit", args=[goal_id]) + "#milestones"


@login_required
@require_POST
def milestone_toggle(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    milestone, member = _milestone(request, pk)
    done = request.POST.get("done") == "1"
    try:
        services.milestone_toggle(milestone=milestone, done=done, member=member)
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        goal = Goal.objects.get(pk=milestone.goal_id)
        state = "done" if done else "not done"
        messages.success(
            request,
            f"“{milestone.title}” marked {state}. “{goal.title}” is "
            f"{goal.get_status_display().lower()}, {goal.progress}%.",
        )
    return redirect(_home_url(milestone.goal.relationship, f"goal-{milestone.goal_id}"))


MILESTONE_FORM_ERROR = "Say what the step is (and a valid date, if any)."


def _milestone_form_apply(
    request: AuthenticatedHttpRequest,
    form: MilestoneForm,
    save: Callable[[str, dt.date | None], object],
    done: str,
) -> None:
    """Validate a milestone's form, save it through `save(title, due_on)` and say how it went."""
    if not form.is_valid():
        messages.error(request, MILESTONE_FORM_ERROR)
        return
    try:
        save(form.cleaned_data["title"], form.cleaned_data["due_on"])
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        messages.success(request, done)


@login_required
@require_POST
def milestone_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    goal = _goal(request, pk)
    member = _member(request, goal.relationship)
    _milestone_form_apply(
        request,
        MilestoneForm(request.POST, prefix="new"),
        lambda title, due_on: services.milestone_add(
            goal=goal, member=member, title=title, due_on=due_on
        ),
        "Step added. The goal's progress counts it.",
    )
    return redirect(_goal_edit_url(goal.pk))


@login_required
@require_POST
def milestone_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    milestone, member = _milestone(request, pk)
    _milestone_form_apply(
        request,
        MilestoneForm(request.POST, prefix=f"m{milestone.pk}"),
        lambda title, due_on: services.milestone_update(
            milestone=milestone, member=member, title=title, due_on=due_on
        ),
        "Step saved.",
    )
    return redirect(_goal_edit_url(milestone.goal_id))


@login_required
@require_POST
def milestone_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    milestone, member = _milestone(request, pk)
    try:
        services.milestone_remove(milestone=milestone, member=member)
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        messages.success(request, f"Step “{milestone.title}” removed.")
    return redirect(_goal_edit_url(milestone.goal_id))


# --- Check-ins ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def check_in_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    relationship = _visible(request, pk)
    member = _member(request, relationship)
    open_goals = selectors.goal_list_open_in(relationship=relationship)
    form = CheckInForm(request.POST or None, goals=open_goals)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            check_in = services.check_in_log(
                relationship=relationship,
                member=member,
                met_on=data["met_on"],
                duration_minutes=data["duration_minutes"],
                mode=data["mode"],
                summary=data["summary"],
                next_steps=data["next_steps"],
                next_meeting_at=data["next_meeting_at"],
                goal_progress=form.goal_progress(),
                private_note=data["private_note"],
                submission_token=data[SUBMISSION_TOKEN],
            )
        except AlreadySubmittedError as first:
            messages.info(request, ALREADY_SAVED)
            return redirect(_home_url(relationship, f"check-in-{first.created.pk}"))
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, "Check-in logged. Your partner is asked to confirm it.")
            return redirect(_home_url(relationship, f"check-in-{check_in.pk}"))
    return render(request, "goals/check_in_form.html", _context(relationship, form=form))


@login_required
@require_POST
def check_in_confirm(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    check_in = _check_in(request, pk)
    member = _member(request, check_in.relationship)
    try:
        services.check_in_confirm(check_in=check_in, member=member)
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        messages.success(request, "Check-in confirmed.")
    return redirect(_home_url(check_in.relationship, f"check-in-{check_in.pk}"))


@login_required
@require_POST
def check_in_comment(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    check_in = _check_in(request, pk)
    member = _member(request, check_in.relationship)
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write a comment first.")
    else:
        try:
            services.check_in_comment(
                check_in=check_in,
                member=member,
                text=form.cleaned_data["text"],
                submission_token=form.cleaned_data[SUBMISSION_TOKEN],
            )
        except AlreadySubmittedError:
            messages.info(request, ALREADY_SAVED)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            messages.success(request, "Comment added.")
    return redirect(_home_url(check_in.relationship, f"check-in-{check_in.pk}"))


@login_required
@require_POST
def private_note_add(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    relationship = _visible(request, pk)
    _member(request, relationship)
    form = PrivateNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write something first.")
    else:
        try:
            services.private_note_add(
                author=request.user,
                relationship=relationship,
                text=form.cleaned_data["text"],
                submission_token=form.cleaned_data[SUBMISSION_TOKEN],
            )
        except AlreadySubmittedError:
            messages.info(request, ALREADY_SAVED)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            messages.success(request, "Private note saved. Only you can read it.")
    return redirect(_home_url(relationship, "private-notes"))


def _own_note(request: AuthenticatedHttpRequest, pk: int) -> PrivateNote:
    """One of the viewer's own private notes, in a relationship they are a member of; anyone
    else's note is a 404, whoever asks (partner, coordinator, admin)."""
    note = get_object_or_404(
        PrivateNote.objects.select_related("relationship__cohort__program", "check_in"),
        pk=pk,
        author=request.user,
        relationship__in=_visible_relationships(request),
    )
    _member(request, note.relationship)
    return note


@login_required
@require_http_methods(["GET", "POST"])
def private_note_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    note = _own_note(request, pk)
    form = PrivateNoteEditForm(request.POST or None, initial={"text": note.text})
    if request.method == "POST" and form.is_valid():
        try:
            services.private_note_update(
                note=note, author=request.user, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, "Private note saved. Only you can read it.")
            return redirect(_home_url(note.relationship, "private-notes"))
    return render(
        request,
        "goals/private_note_edit.html",
        _context(note.relationship, note=note, form=form),
    )


@login_required
@require_POST
def private_note_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    note = _own_note(request, pk)
    services.private_note_delete(note=note, author=request.user)
    messages.success(request, "Private note deleted.")
    return redirect(_home_url(note.relationship, "private-notes"))


# --- Closing --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def relationship_close(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Members and the program's coordinators (everyone who can see it) may close it."""
    relationship = _visible(request, pk)
    form = CloseForm(request.POST or None)
    if (
        request.method == "POST"
        and relationship.status == Relationship.Status.ACTIVE
        and form.is_valid()
    ):
        try:
            matching_services.relationship_close(
                relationship=relationship,
                outcome=form.cleaned_data["outcome"],
                closed_by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, "Closed. We asked everyone for their final feedback.")
            return redirect(_home_url(relationship))
    members = selectors.member_list_of(relationship=relationship)
    return render(
        request,
        "goals/relationship_close.html",
        _context(relationship, form=form, members=members),
    )
