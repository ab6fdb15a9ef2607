"""{% status_badge %}, {% breadcrumbs %} and {% concat %}: the badge a user sees for a status
(its label and its tone), and the breadcrumb trail at the top of a page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.template import Context, Template, TemplateSyntaxError

from goals import health
from goals.models import Goal
from matching.models import MatchRun, MentorRequest, Proposal, Relationship
from programs.models import Cohort, Competency, Enrolment, ParticipantImport
from tests.factories import MatchRunFactory, RelationshipFactory


def render(source: str, **context: Any) -> str:
    """`source` rendered after `{% load components %}`, surrounding whitespace stripped."""
    return Template("{% load components %}" + source).render(Context(context)).strip()


def badge(tone: str, text: str) -> str:
    return f'<span class="badge badge--{tone}">{text}</span>'


# --- status_badge -------------------------------------------------------------------------------

# One value per tone of each model's map, built unsaved: the tag only reads the field.
TONE_CASES = [
    pytest.param(Cohort(status=Cohort.Status.ENROLLING), "status", "Enrolling", "info"),
    pytest.param(Cohort(status=Cohort.Status.ACTIVE), "status", "Active", "success"),
    pytest.param(Cohort(status=Cohort.Status.CLOSING), "status", "Closing", "warning"),
    pytest.param(Enrolment(status=Enrolment.Status.APPLIED), "status", "Applied", "info"),
    pytest.param(Enrolment(status=Enrolment.Status.APPROVED), "status", "Approved", "success"),
    pytest.param(Enrolment(status=Enrolment.Status.WAITLISTED), "status", "Waitlisted", "warning"),
    pytest.param(Enrolment(status=Enrolment.Status.DECLINED), "status", "Declined", "danger"),
    pytest.param(Competency(status=Competency.Status.APPROVED), "status", "Approved", "success"),
    pytest.param(
        Competency(status=Competency.Status.SUGGESTED),
        "status",
        "Suggested (awaiting a coordinator)",
        "warning",
    ),
    pytest.param(
        ParticipantImport(status=ParticipantImport.Status.PENDING),
        "status",
        "Waiting for review",
        "info",
    ),
    pytest.param(
        ParticipantImport(status=ParticipantImport.Status.IMPORTED), "status", "Imported", "success"
    ),
    pytest.param(MatchRun(status=MatchRun.Status.SUCCEEDED), "status", "Finished", "success"),
    pytest.param(MatchRun(status=MatchRun.Status.FAILED), "status", "Failed", "danger"),
    pytest.param(Proposal(decision=Proposal.Decision.ACCEPTED), "decision", "Accepted", "success"),
    pytest.param(Proposal(decision=Proposal.Decision.REJECTED), "decision", "Rejected", "danger"),
    pytest.param(Relationship(status=Relationship.Status.ACTIVE), "status", "Active", "success"),
    pytest.param(
        MentorRequest(status=MentorRequest.Status.PENDING),
        "status",
        "Waiting for the mentor",
        "info",
    ),
    pytest.param(
        MentorRequest(status=MentorRequest.Status.QUESTION),
        "status",
        "The mentor asked a question",
        "warning",
    ),
    pytest.param(
        MentorRequest(status=MentorRequest.Status.ACCEPTED), "status", "Accepted", "success"
    ),
    pytest.param(
        MentorRequest(status=MentorRequest.Status.DECLINED), "status", "Declined", "danger"
    ),
    pytest.param(Goal(status=Goal.Status.ON_TRACK), "status", "On track", "info"),
    pytest.param(Goal(status=Goal.Status.AT_RISK), "status", "At risk", "warning"),
    pytest.param(Goal(status=Goal.Status.DONE), "status", "Done", "success"),
    pytest.param(health.Health(status=health.ON_TRACK, points=0), "status", "On track", "success"),
    pytest.param(
        health.Health(status=health.NEEDS_ATTENTION, points=1),
        "status",
        "Needs attention",
        "warning",
    ),
    pytest.param(health.Health(status=health.AT_RISK, points=3), "status", "At risk", "danger"),
]


@pytest.mark.parametrize(("obj", "field", "label", "tone"), TONE_CASES)
def test_status_badge_shows_the_label_in_its_tone(
    obj: Any, field: str, label: str, tone: str
) -> None:
    assert render("{% status_badge obj field %}", obj=obj, field=field) == badge(tone, label)


def test_status_badge_reads_the_status_field_by_default() -> None:
    assert render("{% status_badge cohort %}", cohort=Cohort(status=Cohort.Status.ACTIVE)) == (
        badge("success", "Active")
    )


def test_status_badge_reads_the_named_field() -> None:
    proposal = Proposal(decision=Proposal.Decision.REJECTED)

    assert render('{% status_badge proposal "decision" %}', proposal=proposal) == (
        badge("danger", "Rejected")
    )


@pytest.mark.parametrize(
    ("obj", "field", "label"),
    [
        pytest.param(Cohort(status=Cohort.Status.DRAFT), "status", "Draft"),
        pytest.param(Cohort(status=Cohort.Status.CLOSED), "status", "Closed"),
        pytest.param(Enrolment(status=Enrolment.Status.WITHDRAWN), "status", "Withdrawn"),
        pytest.param(MatchRun(status=MatchRun.Status.QUEUED), "status", "Queued"),
        pytest.param(Proposal(decision=Proposal.Decision.PROPOSED), "decision", "Proposed"),
        pytest.param(MentorRequest(status=MentorRequest.Status.EXPIRED), "status", "Expired"),
        pytest.param(Goal(status=Goal.Status.DROPPED), "status", "Dropped"),
    ],
)
def test_a_value_missing_from_the_tone_map_is_neutral(obj: Any, field: str, label: str) -> None:
    assert render("{% status_badge obj field %}", obj=obj, field=field) == badge("neutral", label)


def test_label_replaces_the_choice_label_but_keeps_the_tone() -> None:
    goal = Goal(status=Goal.Status.AT_RISK)

    assert render('{% status_badge goal label="Behind" %}', goal=goal) == (
        badge("warning", "Behind")
    )


def test_label_is_escaped() -> None:
    goal = Goal(status=Goal.Status.DONE)

    html = render("{% status_badge goal label=text %}", goal=goal, text="<b>Done</b>")

    assert html == badge("success", "&lt;b&gt;Done&lt;/b&gt;")


@pytest.mark.django_db
def test_a_running_match_run_shows_its_progress() -> None:
    run = MatchRunFactory(status=MatchRun.Status.RUNNING, progress=40)

    assert render("{% status_badge run %}", run=run) == badge("info", "Running · 40%")


@pytest.mark.django_db
def test_a_finished_match_run_shows_no_progress() -> None:
    run = MatchRunFactory(status=MatchRun.Status.SUCCEEDED, progress=100)

    assert render("{% status_badge run %}", run=run) == badge("success", "Finished")


@pytest.mark.django_db
def test_a_relationship_ended_early_says_so() -> None:
    relationship = RelationshipFactory(ended=True)

    assert render("{% status_badge relationship %}", relationship=relationship) == (
        badge("neutral", "Ended early")
    )


@pytest.mark.django_db
def test_a_relationship_ended_with_goals_achieved_just_says_ended() -> None:
    relationship = RelationshipFactory(ended=True, outcome=Relationship.Outcome.ACHIEVED)

    assert render("{% status_badge relationship %}", relationship=relationship) == (
        badge("neutral", "Ended")
    )


# --- breadcrumbs --------------------------------------------------------------------------------


def links(html: str) -> list[str]:
    """The trail's links, as `label -> url`, in order."""
    pairs = re.findall(r'<a href="([^"]*)">([^<]*)</a>', html)
    return [f"{label} -> {url}" for url, label in pairs]


def current(html: str) -> list[str]:
    """The labels marked as the current page."""
    return re.findall(r'<span aria-current="page">([^<]*)</span>', html)


def test_breadcrumbs_link_every_pair_and_mark_the_last_label_current() -> None:
    html = render(
        '{% breadcrumbs "Programs" programs_url program "/programs/1/" "Import" %}',
        programs_url="/programs/",
        program="Leadership",
    )

    assert 'aria-label="Breadcrumb"' in html
    assert links(html) == ["Programs -> /programs/", "Leadership -> /programs/1/"]
    assert current(html) == ["Import"]


def test_breadcrumbs_with_only_a_label_have_no_links() -> None:
    html = render('{% breadcrumbs "Home" %}')

    assert links(html) == []
    assert current(html) == ["Home"]


def test_an_empty_last_label_makes_the_last_pair_the_current_page() -> None:
    html = render(
        '{% breadcrumbs "Home" "/" "Skills vocabulary" "/skills/" "" %}',
    )

    assert links(html) == ["Home -> /"]
    assert current(html) == ["Skills vocabulary"]


def test_breadcrumb_labels_are_escaped() -> None:
    html = render('{% breadcrumbs "Home" "/" name %}', name="<script>")

    assert current(html) == ["&lt;script&gt;"]
    assert "<script>" not in html


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param("", id="none"),
        pytest.param('"Home" "/"', id="a pair without a current label"),
        pytest.param('"Home" "/" "Programs" "/programs/"', id="two pairs"),
    ],
)
def test_an_even_number_of_breadcrumb_arguments_is_a_clear_error(arguments: str) -> None:
    with pytest.raises(TemplateSyntaxError, match="label/URL pairs and then the current page"):
        render(f"{{% breadcrumbs {arguments} %}}")


# --- concat -------------------------------------------------------------------------------------


def test_concat_joins_text_and_numbers() -> None:
    assert render('{% concat "Run " pk %}', pk=7) == "Run 7"


def test_concat_as_a_variable_feeds_breadcrumbs() -> None:
    html = render(
        '{% concat "Run " pk as label %}{% breadcrumbs "Runs" "/runs/" label %}',
        pk=7,
    )

    assert current(html) == ["Run 7"]
