"""Self-service: a mentee chooses mentors from recommendations scored by the matching engine; a
mentor accepts, declines or asks a question first.

A participant reaches only their own mentee enrolment (`enrolment_list_visible_to_participant`),
a mentee only their own requests and a mentor only the requests sent to them: anyone else,
coordinators included, gets a 404. The services own every rule; these views only ask them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import User
from accounts.selectors import submission_created
from accounts.services import ALREADY_SAVED, AlreadySubmittedError
from common.forms import (
    SUBMISSION_TOKEN,
    form_add_service_error,
    service_error_text,
    submission_token_of,
)
from common.http import AuthenticatedHttpRequest
from matching import selectors, services
from matching.forms.requests import AnswerForm, MentorChoiceForm, RespondForm
from matching.models import MentorRequest
from programs.models import Enrolment
from programs.selectors import enrolment_list_visible_to_participant

COORDINATOR_MATCHES = "Your coordinator matches mentors in this program."
NOT_APPROVED_YET = "You can choose a mentor once the coordinator has approved your place."
NONE_WITH_A_PLACE = "None of the mentors you chose has a place left. Please choose again."
WITHDRAWN = "Your requests are withdrawn. Choose again whenever you are ready."
NOTHING_TO_WITHDRAW = "You had no requests waiting."


def _own_mentee_enrolments(user: User) -> QuerySet[Enrolment]:
    return enrolment_list_visible_to_participant(user=user).filter(role=Enrolment.Role.MENTEE)


# --- Views ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def recommendations(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    enrolment = get_object_or_404(_own_mentee_enrolments(request.user), pk=pk)
    cohort = enrolment.cohort
    context: dict[str, object] = {
        "enrolment": enrolment,
        "cohort": cohort,
        "program": cohort.program,
    }
    blocks = selectors.mentor_choice_blocks(enrolment=enrolment)
    if selectors.ChoiceBlock.PROGRAM_OFF in blocks:
        return render(
            request,
            "matching/recommendations_unavailable.html",
            {**context, "explanation": COORDINATOR_MATCHES},
        )
    summary = selectors.participation_summary(enrolment=enrolment)
    if summary.relationship:
        return render(
            request, "matching/recommendations_matched.html", {**context, "summary": summary}
        )
    if selectors.ChoiceBlock.NOT_APPROVED_MENTEE in blocks:
        return render(
            request,
            "matching/recommendations_unavailable.html",
            {**context, "explanation": NOT_APPROVED_YET},
        )
    if selectors.ChoiceBlock.COHORT_CLOSED in blocks:
        return render(
            request,
            "matching/recommendations_unavailable.html",
            {**context, "explanation": services.SELF_SERVICE_CLOSED},
        )

    requests = selectors.mentor_request_list_of(mentee=enrolment)
    open_requests = [r for r in requests if r.status in MentorRequest.OPEN_STATUSES]
    if open_requests and request.method == "POST":
        if submission_created(
            user=request.user, token=submission_token_of(request.POST), model=MentorRequest
        ):  # this very choice, sent again
            messages.info(request, ALREADY_SAVED)
        else:
            messages.error(request, services.REQUESTS_OPEN)
        return redirect("matching:recommendations", pk=enrolment.pk)
    recommended = [] if open_requests else selectors.mentor_recommendations(mentee=enrolment)
    form = MentorChoiceForm(
        request.POST or None, mentors=[(r.enrolment.pk, r.choice_label) for r in recommended]
    )
    if request.method == "POST" and form.is_valid():
        by_id = {r.enrolment.pk: r.enrolment for r in recommended}
        try:
            services.mentor_request_create(
                mentee=enrolment,
                mentors=[by_id[pk] for pk in form.chosen_ids()],
                note=form.cleaned_data["note"],
                submission_token=form.cleaned_data[SUBMISSION_TOKEN],
            )
        except AlreadySubmittedError:
            messages.info(request, ALREADY_SAVED)
            return redirect("matching:recommendations", pk=enrolment.pk)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            _say_where_the_request_went(request, enrolment)
            return redirect("matching:recommendations", pk=enrolment.pk)
    return render(
        request,
        "matching/recommendations.html",
        {
            **context,
            "recommended": recommended,
            "form": form,
            "open_requests": open_requests,
            "past_requests": [r for r in requests if r.status not in MentorRequest.OPEN_STATUSES],
            "answer_form": AnswerForm(),
        },
    )


def _say_where_the_request_went(request: AuthenticatedHttpRequest, enrolment: Enrolment) -> None:
    waiting = selectors.mentor_request_list_open_of(mentee=enrolment)
    sent = next((r for r in waiting if r.status == MentorRequest.Status.PENDING), None)
    if sent is None:
        messages.warning(request, NONE_WITH_A_PLACE)
        return
    by = date_format(timezone.localtime(sent.respond_by), "j F Y")
    then = (
        "it goes to your next choice"
        if any(r.status == MentorRequest.Status.QUEUED for r in waiting)
        else "you can choose again"
    )
    messages.success(
        request,
        f"Your request went to {sent.mentor.user.display_name}. "
        f"If they decline or do not answer by {by}, {then}.",
    )


@login_required
@require_POST
def request_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    enrolment = get_object_or_404(_own_mentee_enrolments(request.user), pk=pk)
    if services.mentor_request_withdraw(mentee=enrolment):
        messages.success(request, WITHDRAWN)
    else:
        messages.info(request, NOTHING_TO_WITHDRAW)
    return redirect("matching:recommendations", pk=enrolment.pk)


@login_required
@require_POST
def request_answer(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    mentor_request = get_object_or_404(
        selectors.mentor_request_list_made_by(user=request.user), pk=pk
    )
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors.get("answer") or []))
    else:
        try:
            services.mentor_request_answer(
                request=mentor_request, by_user=request.user, answer=form.cleaned_data["answer"]
            )
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            messages.success(
                request,
                f"Your answer went to {mentor_request.mentor.user.display_name}, "
                "who can now accept or decline.",
            )
    return redirect("matching:recommendations", pk=mentor_request.mentee_id)


@login_required
@require_safe
def request_inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(
        request,
        "matching/request_inbox.html",
        {"inbox": selectors.mentor_request_inbox_for(user=request.user)},
    )


@login_required
@require_POST
def request_respond(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    mentor_request = get_object_or_404(
        selectors.mentor_request_list_sent_to(user=request.user), pk=pk
    )
    form = RespondForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("matching:request_inbox")
    action = form.cleaned_data["action"]
    mentee = mentor_request.mentee.user
    try:
        if action == RespondForm.ACCEPT:
            services.mentor_request_accept(request=mentor_request, by_user=request.user)
            done = (
                f"You are now {mentee.display_name}'s mentor. We have told them; "
                f"say hello at {mentee.email}."
            )
        elif action == RespondForm.DECLINE:
            services.mentor_request_decline(
                request=mentor_request, by_user=request.user, reason=form.cleaned_data["reason"]
            )
            done = f"You declined {mentee.display_name}'s request. We have passed on your reason."
        else:
            services.mentor_request_ask(
                request=mentor_request, by_user=request.user, question=form.cleaned_data["question"]
            )
            done = f"Your question went to {mentee.display_name}. Their answer will appear here."
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        messages.success(request, done)
    return redirect("matching:request_inbox")
