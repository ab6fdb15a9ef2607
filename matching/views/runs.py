"""Coordinator pages for matching a cohort: the pre-match check and the runs (cohort_matching),
starting a run, following its progress, reviewing its proposals (decide, lock, swap), accepting
them all, re-running with locked pairs, publishing, and comparing two runs.

Everything is fetched through a scoped selector (`cohort_list_visible_to`,
`match_run_list_visible_to`), so anyone but the program's coordinators gets a 404."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from statistics import median
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.services import ALREADY_SAVED, AlreadySubmittedError
from common.forms import SUBMISSION_TOKEN, service_error_text, submission_token_of
from common.http import AuthenticatedHttpRequest
from common.urls import url_for_each
from matching import selectors, services
from matching.forms.coordination import (
    RELAX_FIELDS,
    ProposalDecideForm,
    ProposalLockForm,
    ProposalSwapForm,
    RunCompareForm,
    RunStartForm,
    relaxation_from,
    relaxation_initial,
)
from matching.models import MatchRun, Proposal
from programs.models import Cohort, Program
from programs.selectors import cohort_list_visible_to

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PAGE_SIZE = 50

# The pre-match check: how a relaxable rule is named, and the query parameter that relaxes it.
RULE_NAMES = {
    "language": "the language rule",
    "time_zone": "the time-zone limit",
    "past_partner": "the past-partners rule",
    "level_direction": "the level rule",
}
RULE_PARAMS = {
    "language": "relax_language",
    "time_zone": "relax_time_zone",
    "past_partner": "relax_past_partners",
}
RELAXED_WORDS = {
    "language": "shared language",
    "time_zone": "time-zone limit",
    "past_partners": "past partners",
}
DECISION_DONE = {
    Proposal.Decision.ACCEPTED: "Pair accepted.",
    Proposal.Decision.REJECTED: "Pair rejected.",
    Proposal.Decision.PROPOSED: "Decision undone.",
}


# --- Fetching, scoped to the user -----------------------------------------------------------


def _cohort_for(request: AuthenticatedHttpRequest, pk: int) -> Cohort:
    return get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)


def _run_for(request: AuthenticatedHttpRequest, pk: int) -> MatchRun:
    return get_object_or_404(selectors.match_run_list_visible_to(user=request.user), pk=pk)


def _proposal_for(request: AuthenticatedHttpRequest, pk: int) -> Proposal:
    visible_runs = selectors.match_run_list_visible_to(user=request.user)
    return get_object_or_404(
        Proposal.objects.filter(run__in=visible_runs).select_related("run", "mentee__user"),
        pk=pk,
    )


def _page(
    objects: QuerySet | list,
    request: AuthenticatedHttpRequest,
    param: str = "page",
    *,
    count: int | None = None,
) -> Page:
    paginator = Paginator(objects, PAGE_SIZE)
    if count is not None:
        paginator.count = count  # known already: spares the paginator its COUNT query
    return paginator.get_page(request.GET.get(param))


def _run_url(run_id: int, page: int | None = None, anchor: str = "") -> str:
    url = reverse("matching:run_detail", args=[run_id])
    if page and page > 1:
        url += f"?page={page}"
    return url + (f"#{anchor}" if anchor else "")


# --- The cohort's matching home -------------------------------------------------------------


@dataclass(frozen=True)
class RelaxOption:
    count: int
    rule: str
    url: str | None  # the check again with this rule relaxed; None when a run cannot relax it


def _prematch_context(request: AuthenticatedHttpRequest, cohort: Cohort) -> dict[str, Any]:
    relax = relaxation_from(request.GET)
    report, enrolments = selectors.prematch_report(cohort=cohort, relax=relax)
    blocked = [
        {"enrolment": enrolments.get(item.person_id), "reason": item.reason}
        for item in report.blocked
    ]
    ticked = relaxation_initial(relax)
    options = []
    for rule, ids in report.relaxations.items():
        url = None
        if rule in RULE_PARAMS:
            query = request.GET.copy()
            query.pop("page", None)
            query[RULE_PARAMS[rule]] = "1"
            url = f"{request.path}?{query.urlencode()}#check-title"
        options.append(RelaxOption(count=len(ids), rule=RULE_NAMES.get(rule, rule), url=url))
    counts = [n for n in report.eligible_counts.values() if n > 0]
    fewest = min(counts) if counts else 0
    return {
        "report": report,
        "blocked": blocked,
        "relax_options": options,
        "relaxed_now": [
            RELAXED_WORDS[attribute]
            for name, (attribute, _) in RELAX_FIELDS.items()
            if ticked[name]
        ],
        "eligible": {
            "people": len(report.eligible_counts),
            "fewest": fewest,
            "fewest_people": sum(1 for n in counts if n == fewest),
            "median": median(counts) if counts else 0,
            "most": max(counts) if counts else 0,
        },
        "relax_initial": ticked,
    }


@login_required
@require_GET
def cohort_matching(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Where matching a cohort starts: who the rules leave with nobody, the form that starts a
    run, and the runs so far."""
    cohort = _cohort_for(request, pk)
    check = _prematch_context(request, cohort)
    # The selector's Count annotation drops Meta.ordering (GROUP BY), so order here.
    runs = _page(
        selectors.match_run_list_for_cohort(cohort=cohort).order_by("-created_at", "-pk"), request
    )
    succeeded = [run.pk for run in runs if run.status == MatchRun.Status.SUCCEEDED]
    form = RunStartForm(initial={"objective": MatchRun.Objective.SCORE, **check["relax_initial"]})
    return render(
        request,
        "matching/cohort_matching.html",
        {
            "cohort": cohort,
            "program": cohort.program,
            "is_open": cohort.status == Cohort.Status.MATCHING,
            "form": form,
            "page": runs,
            "published_run": cohort.match_runs.filter(published_at__isnull=False)
            .order_by("-published_at")
            .first(),
            "compare_first": succeeded[1] if len(succeeded) > 1 else None,
            "compare_second": succeeded[0] if len(succeeded) > 1 else None,
            **check,
        },
    )


@login_required
@require_POST
def run_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = _cohort_for(request, pk)
    form = RunStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what matters most for this run.")
        return redirect("matching:cohort_matching", pk=cohort.pk)
    try:
        run = services.match_run_create(
            cohort=cohort,
            created_by=request.user,
            objective=form.cleaned_data["objective"],
            relax=form.relaxation(),
            submission_token=form.cleaned_data[SUBMISSION_TOKEN],
        )
    except AlreadySubmittedError as first:
        messages.info(request, ALREADY_SAVED)
        return redirect("matching:run_detail", pk=first.created.pk)
    except ValidationError as error:
        messages.error(request, service_error_text(error))
        return redirect("matching:cohort_matching", pk=cohort.pk)
    messages.success(request, _started_message(run))
    return redirect("matching:run_detail", pk=run.pk)


def _started_message(run: MatchRun) -> str:
    # Without a broker the run has already finished by now (it runs in-process on commit).
    run.refresh_from_db(fields=["status"])
    return "Matching finished." if run.is_finished else "Matching started."


# --- One run --------------------------------------------------------------------------------


def _proposal_rows(page: Page) -> list[dict[str, Any]]:
    """The page's proposals as the run page's rows: their people, next-best mentors, which
    actions they offer and those actions' URLs, worked out here rather than in the template (a
    page has 50 rows, and each lookup and tag in a row's markup costs 50 times; rows are dicts,
    which the template reads fastest)."""
    proposals: list[Proposal] = list(page)
    people = selectors.proposal_people(proposals=proposals)
    decide = url_for_each("matching:proposal_decide")
    lock = url_for_each("matching:proposal_lock")
    swap = url_for_each("matching:proposal_swap")
    back_to = f"?page={page.number}"
    rows = []
    for proposal in proposals:
        alternatives = []
        for alt in proposal.alternatives:
            person = people.get(alt["mentor"])
            note = f"· {round(alt['score'] * 100)}%"
            if not alt["has_capacity"]:
                note += " · no place left"
            alternatives.append(
                (person.name if person is not None else "Someone who left the cohort", note)
            )
        mentor, mentee = people[proposal.mentor_id], people[proposal.mentee_id]
        swapped_note = ""
        if proposal.swapped_from_id:
            before = proposal.score_before_swap
            swapped_note = (
                f"Swapped from {people[proposal.swapped_from_id].name} (score before "
                f"{round(before * 100) if before is not None else ''}%)"
            )
        decision, locked = proposal.decision, proposal.locked
        rows.append(
            {
                "proposal": proposal,
                "dom_id": f"proposal-{proposal.pk}",
                "rejected": decision == Proposal.Decision.REJECTED,
                "mentor_name": mentor.name,
                "mentor_details": mentor.details,
                "swapped_note": swapped_note,
                "mentee_name": mentee.name,
                "mentee_details": mentee.details,
                "score_percent": round(proposal.score * 100),
                "explanation": proposal.explanation,
                "alternatives": alternatives,  # the next-best mentors: name, "· 85% · ..."
                "locked": locked,
                "can_accept": decision != Proposal.Decision.ACCEPTED,
                "can_reject": decision != Proposal.Decision.REJECTED and not locked,
                "can_undo": decision != Proposal.Decision.PROPOSED and not locked,
                "decide_url": decide(proposal.pk),
                "lock_url": lock(proposal.pk),
                "swap_url": swap(proposal.pk) + back_to,
            }
        )
    return rows


def _parameters(run: MatchRun) -> dict[str, Any]:
    parameters = run.parameters or {}
    rules = parameters.get("rules", {})
    weights = parameters.get("weights", {})
    return {
        "weights": [(name.replace("_", " "), value) for name, value in weights.items() if value],
        "require_shared_language": rules.get("require_shared_language"),
        "max_time_zone_gap_hours": rules.get("max_time_zone_gap_hours"),
        "allow_past_partners": rules.get("allow_past_partners"),
        "excluded_pairs": len(rules.get("excluded_pairs", [])),
        "locked_pairs": len(parameters.get("locked_pairs", [])),
        "relaxed": [RELAXED_WORDS.get(name, name) for name in parameters.get("relaxed", [])],
        "mode": parameters.get("mode", ""),
    }


@login_required
@require_GET
def run_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    # Annotated by hand: django-stubs' get_object_or_404 drops the annotation's fields.
    run: WithAnnotations[MatchRun, selectors.RunReviewCounts] = get_object_or_404(
        selectors.match_run_list_to_review(user=request.user), pk=pk
    )
    context: dict[str, Any] = {
        "run": run,
        "cohort": run.cohort,
        "program": run.cohort.program,
        "crumb": f"Run {run.pk}",
        "parameters": _parameters(run),
        "is_circle": run.parameters.get("mode") == "circle",
        "is_peer": run.cohort.program.kind == Program.Kind.PEER,
        "relaxed_fields": [
            name
            for name, (attribute, _) in RELAX_FIELDS.items()
            if attribute in run.parameters.get("relaxed", [])
        ],
        "editable": (
            run.status == MatchRun.Status.SUCCEEDED
            and run.published_at is None
            and run.publish_job_id is None
        ),
        "publish_job": run.publish_job if run.published_at is None else None,
    }
    if run.status == MatchRun.Status.SUCCEEDED:
        # Counted with the run (selectors.match_run_list_to_review).
        decisions = {"proposed": run.proposed, "accepted": run.accepted, "rejected": run.rejected}
        page = _page(
            selectors.proposal_list_to_review(run=run), request, count=sum(decisions.values())
        )
        unmatched = _page(
            selectors.unmatched_list_for_run(run=run),
            request,
            param="unmatched",
            count=run.unmatched_total,
        )
        unmatched.object_list = selectors.unmatched_lines(unmatched)
        rows = _proposal_rows(page)
        context.update(
            page=page,
            rows=rows,
            # Circles are listed circle by circle; pairs as one group.
            row_groups=(
                [
                    (number, list(group))
                    for number, group in groupby(
                        rows, key=lambda row: row["proposal"].circle_number
                    )
                ]
                if context["is_circle"]
                else [(None, rows)]
            ),
            # The hidden CSRF field, made once for the rows' hundred forms.
            csrf_input=csrf_input(request),
            page_number=str(page.number),
            # The rows' words for the two sides (the table's headings say the same).
            labels=(
                {"mentor": "Peer", "mentee": "Peer", "swap": "peer"}
                if context["is_peer"]
                else {"mentor": "Mentor", "mentee": "Mentee", "swap": "mentor"}
            ),
            decisions=decisions,
            unmatched_page=unmatched,
            average_percent=(
                round(run.average_score * 100) if run.average_score is not None else None
            ),
        )
    return render(request, "matching/run_detail.html", context)


@login_required
@require_GET
def run_progress(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone, for the run page to poll. Once the run has finished it tells
    htmx to reload the page, which then shows the results."""
    run = _run_for(request, pk)
    response = render(request, "matching/run_progress.html", {"run": run})
    if run.is_finished:
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def run_accept_all(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = _run_for(request, pk)
    try:
        count = services.proposals_accept_all(run=run)
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        messages.success(request, f"Accepted {count} pair{'s' if count != 1 else ''}.")
    return redirect("matching:run_detail", pk=run.pk)


@login_required
@require_POST
def run_rerun(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    run = _run_for(request, pk)
    try:
        new_run = services.match_run_rerun(
            run=run, created_by=request.user, submission_token=submission_token_of(request.POST)
        )
    except AlreadySubmittedError as first:
        messages.info(request, ALREADY_SAVED)
        return redirect("matching:run_detail", pk=first.created.pk)
    except ValidationError as error:
        messages.error(request, service_error_text(error))
        return redirect("matching:run_detail", pk=run.pk)
    messages.success(request, f"{_started_message(new_run)} Locked pairs were kept.")
    return redirect("matching:run_detail", pk=new_run.pk)


@login_required
@require_POST
def run_publish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Queue the publishing and send the coordinator to its progress; a second press lands on
    the same job."""
    run = _run_for(request, pk)
    try:
        job = services.match_run_publish(run=run, published_by=request.user)
    except ValidationError as error:
        messages.error(request, service_error_text(error))
        return redirect("matching:run_detail", pk=run.pk)
    return redirect("programs:job_detail", pk=job.pk)


# --- One proposal ---------------------------------------------------------------------------


@login_required
@require_POST
def proposal_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    proposal = _proposal_for(request, pk)
    form = ProposalDecideForm(request.POST)
    page: int | None = None
    if not form.is_valid():
        messages.error(request, "Choose accept or reject.")
    else:
        page = form.cleaned_data["page"]
        decision = form.cleaned_data["decision"]
        try:
            services.proposal_decide(proposal=proposal, decision=decision)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            messages.success(request, DECISION_DONE[decision])
    return redirect(_run_url(proposal.run_id, page, f"proposal-{proposal.pk}"))


@login_required
@require_POST
def proposal_lock(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    proposal = _proposal_for(request, pk)
    form = ProposalLockForm(request.POST)
    page: int | None = None
    if not form.is_valid():
        messages.error(request, "Choose lock or unlock.")
    else:
        page = form.cleaned_data["page"]
        locked = form.cleaned_data["locked"]
        try:
            services.proposal_lock(proposal=proposal, locked=locked)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            messages.success(
                request,
                "Pair locked and accepted: a re-run keeps it."
                if locked
                else "Pair unlocked: a re-run may change it.",
            )
    return redirect(_run_url(proposal.run_id, page, f"proposal-{proposal.pk}"))


@login_required
@require_http_methods(["GET", "POST"])
def proposal_swap(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Choose another mentor for a pair: the best the run leaves a place, each with the score
    the pair would have and the change from now; choosing one swaps."""
    proposal = _proposal_for(request, pk)
    if request.method == "GET":
        page_param = request.GET.get("page", "")
        return render(
            request,
            "matching/proposal_swap.html",
            {
                "proposal": proposal,
                "run": proposal.run,
                "cohort": proposal.run.cohort,
                "candidates": [
                    (candidate, candidate.percent - round(proposal.score * 100))
                    for candidate in selectors.swap_candidates(proposal=proposal)
                ],
                "page": page_param if page_param.isdigit() else "",
            },
        )
    form = ProposalSwapForm(request.POST, cohort_id=proposal.run.cohort_id)
    page: int | None = None
    if not form.is_valid():
        messages.error(request, services.SWAP_NOT_A_MENTOR)
    else:
        page = form.cleaned_data["page"]
        try:
            result = services.proposal_swap(proposal=proposal, mentor=form.cleaned_data["mentor"])
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            messages.success(
                request,
                f"Swapped: score {result.score_before:.2f} → {result.score_after:.2f} "
                f"({result.change:+.2f}).",
            )
    return redirect(_run_url(proposal.run_id, page, f"proposal-{proposal.pk}"))


# --- Comparing two runs ---------------------------------------------------------------------


@login_required
@require_GET
def run_compare(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Two runs of one cohort side by side: what changed and which pairs differ."""
    form = RunCompareForm(request.GET)
    if not form.is_valid():
        raise Http404("Choose two runs to compare.")
    visible = selectors.match_run_list_visible_to(user=request.user)
    first = get_object_or_404(visible, pk=form.cleaned_data["first"])
    second = get_object_or_404(visible, pk=form.cleaned_data["second"])
    if first.cohort_id != second.cohort_id:
        raise Http404("Runs of different cohorts cannot be compared.")
    comparison = selectors.match_run_compare(first=first, second=second)
    return render(
        request,
        "matching/run_compare.html",
        {
            "first": first,
            "second": second,
            "cohort": first.cohort,
            "program": first.cohort.program,
            "comparison": comparison,
            "pair_tables": [(first, comparison.only_first), (second, comparison.only_second)],
        },
    )
